//! Heartbeats, a dead-man's switch: a sender (a cron job, a backup, a
//! monitoring system) pings `POST /api/v1/heartbeats/{key}` at least every
//! `interval_minutes`. A heartbeat that misses its interval and grace opens
//! an incident (source `heartbeats`, key the heartbeat's name) that pages
//! its escalation policy; the next ping resolves it.
//!
//! Each heartbeat's timer is a keyed record (`store/keyed.rs`), changed
//! with compare-and-set: a ping and the notify loop's check never both
//! win, and hosts sharing a database open one incident per miss.
//! A heartbeat is armed by its first ping: one declared but never pinged
//! is listed as waiting, not missed, so adding it before its sender is set
//! up pages nobody.

use crate::config::Config;
use crate::config::noise::HeartbeatConfig;
use crate::store::{
    ChangeSet, IncidentId, Keyed, LogEntry, LogKind, Millis, NewIncident, ReadCheck, RecordKind,
    Retried, Status, Store, Write, commit_with_retry, put_record, record_absent,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The source of every heartbeat's incidents; the key is the heartbeat's name.
pub const SOURCE: &str = "heartbeats";
pub const MISSED: &str = "inbound_heartbeats_missed_total";

/// A heartbeat's timer, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beat {
    pub last_ping: Millis,
    /// When it counts as missed; none once missed, until the next ping.
    pub due_at: Option<Millis>,
    /// The incident the miss opened, until a ping resolves it.
    pub incident: Option<IncidentId>,
}

/// How late a heartbeat may be, in this host's time (`time_scale` divides
/// it like escalation delays, for tests and demos).
pub fn period(heartbeat: &HeartbeatConfig, time_scale: u32) -> Millis {
    let minutes = heartbeat.interval_minutes as u64 + heartbeat.grace_minutes as u64;
    minutes * 60_000 / time_scale.max(1) as u64
}

/// The heartbeat whose key is `key`, compared in constant time.
pub fn by_key<'c>(config: &'c Config, key: &str) -> Option<&'c HeartbeatConfig> {
    let mut found = None;
    for heartbeat in &config.heartbeats {
        let stored = heartbeat.key.as_deref().unwrap_or_default();
        if bool::from(stored.as_bytes().ct_eq(key.as_bytes())) {
            found = Some(heartbeat);
        }
    }
    found
}

pub fn beats(store: &Store) -> Result<Vec<Keyed<Beat>>, crate::store::Error> {
    Ok(Keyed::decode_all(RecordKind::Heartbeat, store.records(RecordKind::Heartbeat)?))
}

/// What a ping did.
#[derive(Debug, Clone, PartialEq)]
pub struct Pinged {
    pub next_due: Millis,
    /// The incident of the miss this ping ended, if it resolved one.
    pub resolved: Option<IncidentId>,
}

/// Records a ping at `now`: the timer starts again, and the incident of a
/// miss (if one is open) is resolved.
pub async fn ping(
    store: &Arc<Store>,
    heartbeat: &HeartbeatConfig,
    time_scale: u32,
    now: Millis,
) -> Result<Pinged, Retried<crate::store::Error>> {
    let name = heartbeat.name.clone();
    let next_due = now + period(heartbeat, time_scale);
    commit_with_retry(store, || {
        let (store, name) = (store.clone(), name.clone());
        async move {
            let (reader, wanted) = (store.clone(), name.clone());
            let found = tokio::task::spawn_blocking(move || {
                let beat = beats(&reader)?.into_iter().find(|keyed| keyed.name == wanted);
                let incident = match beat.as_ref().and_then(|keyed| keyed.value.incident) {
                    Some(id) => reader.snapshot()?.incident(id)?,
                    None => None,
                };
                Ok::<_, crate::store::Error>((beat, incident))
            })
            .await
            .map_err(|error| crate::store::Error::Other(error.to_string()))??;
            let (beat, incident) = found;
            let mut reads = vec![match &beat {
                Some(keyed) => keyed.unchanged(RecordKind::Heartbeat),
                None => record_absent(RecordKind::Heartbeat, &name),
            }];
            let timer = Beat { last_ping: now, due_at: Some(next_due), incident: None };
            let mut writes = vec![put_record(RecordKind::Heartbeat, &name, &timer)];
            let mut resolved = None;
            if let Some(open) = incident.filter(|incident| incident.status.is_open()) {
                let by = format!("heartbeat {name}");
                let note = Some("a ping arrived".to_string());
                if let Ok(Some((changed, log))) = open.status_change(Status::Resolved, by, note) {
                    reads.push(ReadCheck::IncidentVersion {
                        id: open.id,
                        expected: Some(open.version),
                    });
                    writes.push(Write::PutIncident(changed.revised(now)));
                    writes.push(Write::AppendLog {
                        incident: open.id,
                        entry: LogEntry { at: now, kind: log },
                    });
                    resolved = Some(open.id);
                }
            }
            Ok((ChangeSet { reads, writes }, Pinged { next_due, resolved }))
        }
    })
    .await
}

/// Opens an incident for every heartbeat whose ping is overdue at `now`.
/// Returns how many it opened.
pub async fn open_missed(
    store: &Arc<Store>,
    config: &Config,
    now: Millis,
) -> anyhow::Result<usize> {
    let reader = store.clone();
    let all = tokio::task::spawn_blocking(move || beats(&reader)).await??;
    let mut opened = 0;
    for keyed in all {
        let Some(due) = keyed.value.due_at.filter(|due| *due <= now) else { continue };
        // A heartbeat removed from the config is not missed. Its record
        // stays: declared again, it counts as missed if its ping is overdue.
        let Some(heartbeat) = config.heartbeats.iter().find(|h| h.name == keyed.name) else {
            continue;
        };
        let id = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.allocate_incident_id()).await??
        };
        let summary = heartbeat
            .summary
            .clone()
            .unwrap_or_else(|| format!("No heartbeat from {}", heartbeat.name));
        let details = format!(
            "The last ping arrived at {}. The sender pings every {} minutes; a ping was due by {} (grace {} minutes included). The next ping resolves this incident.",
            rfc3339(keyed.value.last_ping),
            heartbeat.interval_minutes,
            rfc3339(due),
            heartbeat.grace_minutes,
        );
        let new =
            NewIncident { key: heartbeat.name.clone(), summary, details, ..NewIncident::default() };
        let incident =
            new.into_incident(id, SOURCE, &heartbeat.escalation_policy, now).revised(now);
        let timer = Beat { due_at: None, incident: Some(id), ..keyed.value.clone() };
        let changes = ChangeSet {
            reads: vec![
                keyed.unchanged(RecordKind::Heartbeat),
                ReadCheck::OpenIncident {
                    source: SOURCE.into(),
                    key: heartbeat.name.clone(),
                    expected: None,
                },
            ],
            writes: vec![
                Write::PutIncident(incident),
                Write::AppendLog {
                    incident: id,
                    entry: LogEntry {
                        at: now,
                        kind: LogKind::Created { by: format!("heartbeat {}", heartbeat.name) },
                    },
                },
                put_record(RecordKind::Heartbeat, &keyed.name, &timer),
            ],
        };
        match store.commit(changes).await {
            Ok(()) => {
                opened += 1;
                metrics::counter!(MISSED, "heartbeat" => heartbeat.name.clone()).increment(1);
                tracing::warn!(heartbeat = %heartbeat.name, incident = id, "heartbeat missed; incident opened");
            }
            // Pinged meanwhile, or another host opened it.
            Err(crate::store::CommitError::Conflict) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(opened)
}

/// One heartbeat as listed: `waiting` (never pinged), `up` or `missed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub name: String,
    pub interval_minutes: u32,
    pub grace_minutes: u32,
    pub escalation_policy: String,
    pub state: &'static str,
    pub last_ping: Option<Millis>,
    pub due_at: Option<Millis>,
    pub incident: Option<IncidentId>,
}

pub fn list(config: &Config, store: &Store) -> Result<Vec<Listed>, crate::store::Error> {
    let stored = beats(store)?;
    Ok(config
        .heartbeats
        .iter()
        .map(|heartbeat| {
            let beat = stored.iter().find(|keyed| keyed.name == heartbeat.name).map(|k| &k.value);
            let state = match beat {
                None => "waiting",
                Some(beat) if beat.incident.is_some() || beat.due_at.is_none() => "missed",
                Some(_) => "up",
            };
            Listed {
                name: heartbeat.name.clone(),
                interval_minutes: heartbeat.interval_minutes,
                grace_minutes: heartbeat.grace_minutes,
                escalation_policy: heartbeat.escalation_policy.clone(),
                state,
                last_ping: beat.map(|b| b.last_ping),
                due_at: beat.and_then(|b| b.due_at),
                incident: beat.and_then(|b| b.incident),
            }
        })
        .collect())
}

fn rfc3339(millis: Millis) -> String {
    let at =
        jiff::Timestamp::from_millisecond(millis as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    at.round(jiff::Unit::Second).unwrap_or(at).to_string()
}
