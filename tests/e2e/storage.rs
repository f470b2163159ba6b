//! End to end, storage that stays small: retention deletes expired resolved
//! incidents and failed deliveries in the background, `inbound compact`
//! gives the space back (and refuses while a host serves the file),
//! repeated identical events are counted on one log entry, and an incident's
//! log is read a page at a time (API and CLI).
//!
//! The expired rows are written with old timestamps through the real store
//! before the host starts, so no test waits for days to pass.

use crate::support;

use inbound::store::{
    Action, ChangeSet, FailedDelivery, Incident, LogEntry, LogKind, Status, Store, Write,
};
use redb::{ReadableDatabase, ReadableTable};
use serde_json::{Value, json};
use std::time::Duration;
use support::{Host, TOKEN, inbound, plugins_config, poll, zendesk_config};

const DAY: u64 = 24 * 60 * 60 * 1000;

fn incident(store: &Store, key: &str, status: Status, at: u64) -> Incident {
    Incident {
        id: store.allocate_incident_id().unwrap(),
        source: "support".into(),
        key: key.into(),
        status,
        summary: format!("Printer {key}"),
        details: String::new(),
        priority: None,
        url: None,
        links: Vec::new(),
        escalation_policy: "support-oncall".into(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn event(at: u64, body: &str) -> LogEntry {
    LogEntry {
        at,
        kind: LogKind::EventReceived {
            action: Action::Created,
            headers: Vec::new(),
            body: body.into(),
            body_bytes: body.len(),
            body_truncated: false,
            repeats: 0,
            last_repeat_at: None,
            shared_body: None,
        },
    }
}

fn failure(store: &Store, at: u64) -> Write {
    let failure = FailedDelivery {
        id: store.allocate_failure_id().unwrap(),
        source: "support".into(),
        integration: "zendesk".into(),
        received_at: at,
        headers: Vec::new(),
        body_bytes: 2,
        error_code: "plugin-failed".into(),
        error: "trap".into(),
        attempts: 1,
        fallback_incident: None,
        replayed: None,
    };
    Write::PutFailure { failure, body: Some(b"{}".to_vec()) }
}

/// Ids of: 40 old resolved incidents with large logs, a recently resolved
/// one, an old pending one; an old and a recent failed delivery.
struct Seeded {
    expired: Vec<u64>,
    recent_resolved: u64,
    old_pending: u64,
    old_failure: u64,
    recent_failure: u64,
}

fn seed(path: &std::path::Path) -> Seeded {
    let store = Store::open(path, Default::default(), |_| {}).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let now = inbound::store::now_millis();
    let old = now - 40 * DAY;
    let body = "x".repeat(60_000);
    let mut expired = Vec::new();
    for n in 0..40 {
        let gone = incident(&store, &format!("old-{n}"), Status::Resolved, old);
        expired.push(gone.id);
        let mut writes = vec![Write::PutIncident(gone.clone())];
        writes.extend(
            (0..5).map(|_| Write::AppendLog { incident: gone.id, entry: event(old, &body) }),
        );
        runtime.block_on(store.commit(ChangeSet { reads: vec![], writes })).unwrap();
    }
    let recent = incident(&store, "recent", Status::Resolved, now - DAY);
    let pending = incident(&store, "old-open", Status::Pending, old);
    let (old_failure, recent_failure) = (failure(&store, old), failure(&store, now));
    let ids = |write: &Write| match write {
        Write::PutFailure { failure, .. } => failure.id,
        _ => unreachable!(),
    };
    let seeded = Seeded {
        expired,
        recent_resolved: recent.id,
        old_pending: pending.id,
        old_failure: ids(&old_failure),
        recent_failure: ids(&recent_failure),
    };
    let writes =
        vec![Write::PutIncident(recent), Write::PutIncident(pending), old_failure, recent_failure];
    runtime.block_on(store.commit(ChangeSet { reads: vec![], writes })).unwrap();
    store.close();
    seeded
}

#[test]
fn retention_deletes_what_expired_in_the_background_and_compact_gives_the_space_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let database = dir.path().join("data/inbound.redb");
    let seeded = seed(&database);
    assert_eq!(log_rows_of(&database, &seeded.expired), 200, "five entries per expired incident");
    let retention =
        "\n[storage.retention]\nresolved_incidents_days = 30\nfailed_deliveries_days = 30\n";
    std::fs::write(dir.path().join("config.toml"), zendesk_config(retention)).unwrap();
    let size_before = std::fs::metadata(&database).unwrap().len();

    let mut host = Host::start_in(dir);
    let gone = |path: &str| host.get(path).0 == 404;
    let last = seeded.expired.last().unwrap();
    assert!(
        poll(Duration::from_secs(30), || gone(&format!("/api/v1/incidents/{last}"))),
        "the expired incidents are deleted: {}",
        host.logs()
    );
    for id in &seeded.expired {
        assert!(gone(&format!("/api/v1/incidents/{id}")), "incident {id}");
    }
    assert!(poll(Duration::from_secs(10), || gone(&format!(
        "/api/v1/failed/{}",
        seeded.old_failure
    ))));
    for kept in [seeded.recent_resolved, seeded.old_pending] {
        assert_eq!(
            host.get(&format!("/api/v1/incidents/{kept}")).0,
            200,
            "incident {kept} is kept"
        );
    }
    assert_eq!(host.get(&format!("/api/v1/failed/{}", seeded.recent_failure)).0, 200);
    let (_, resolved) = host.get("/api/v1/incidents?status=resolved");
    assert_eq!(resolved["incidents"].as_array().unwrap().len(), 1, "{resolved}");
    assert!(host.wait_for_log("retention: deleted", Duration::from_secs(10)), "{}", host.logs());
    let (_, metrics) = host.get_text("/metrics", Some(TOKEN));
    assert!(
        metrics.contains(r#"inbound_retention_deleted_total{kind="incident"} 40"#),
        "{metrics}"
    );

    // Compaction needs the file to itself: refused while the host serves it.
    let config = host.config_path();
    let compact = || inbound(&["compact", "--config", config.to_str().unwrap()], &[]);
    let (code, _, stderr) = compact();
    assert_ne!(code, 0);
    assert!(stderr.contains("stop the host"), "{stderr}");
    host.stop();
    // Their logs went with them (the API answers 404 for the log of any
    // incident it does not find, so only the file can tell).
    let database = host.dir.path().join("data/inbound.redb");
    assert_eq!(log_rows_of(&database, &seeded.expired), 0, "log entries of deleted incidents");
    let (code, stdout, stderr) = compact();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("compacted"), "{stdout}");
    let size_after = std::fs::metadata(host.dir.path().join("data/inbound.redb")).unwrap().len();
    assert!(size_after * 4 < size_before, "{size_before} -> {size_after} bytes");
    let dir = std::mem::replace(&mut host.dir, tempfile::tempdir().unwrap());
    let host = Host::start_in(dir);
    assert_eq!(host.get(&format!("/api/v1/incidents/{}", seeded.recent_resolved)).0, 200);
}

/// The log entries the redb file at `path` holds for the incidents `ids`.
fn log_rows_of(path: &std::path::Path, ids: &[u64]) -> usize {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let log: redb::TableDefinition<(u64, u64), &[u8]> = redb::TableDefinition::new("incident_log");
    let log = txn.open_table(log).unwrap();
    log.iter().unwrap().filter(|row| ids.contains(&row.as_ref().unwrap().0.value().0)).count()
}

fn alert_group() -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "status": "firing",
        "receiver": "inbound", "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"}, "commonAnnotations": {"summary": "Disk full"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db1"},
            "annotations": {"summary": "Disk full on db1"}, "startsAt": "2026-03-28T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": "abc"}]
    })
}

fn events(detail: &Value) -> Vec<Value> {
    let log = detail["log"].as_array().unwrap();
    log.iter().filter(|e| e["type"] == "event_received").cloned().collect()
}

#[test]
fn identical_resends_are_counted_on_the_last_entry_unless_turned_off() {
    let key = "alerts-key-0123456789abcdefghij";
    let path = format!("/api/v1/events/alertmanager/{key}");
    let config = plugins_config(&[("alertmanager", "alertmanager", key)]);
    let host = Host::start(&config);
    for _ in 0..4 {
        let (status, answer) = host.post_raw(&path, "application/json", alert_group().to_string());
        assert_eq!(status, 202, "{answer}");
    }
    let detail = host.incident(&json!(1));
    let received = events(&detail);
    // The first (created) and one unchanged entry that counts the two after it.
    assert_eq!(received.len(), 2, "{detail}");
    assert_eq!(
        (received[0]["action"].as_str(), received[0].get("repeats")),
        (Some("created"), None)
    );
    assert_eq!(
        (received[1]["action"].as_str(), received[1]["repeats"].as_u64()),
        (Some("unchanged"), Some(2))
    );
    assert!(received[1]["last_repeat_at"].as_str().is_some_and(|at| at.ends_with('Z')), "{detail}");

    // A different body is a new entry again.
    let mut resolved = alert_group();
    resolved["status"] = "resolved".into();
    resolved["alerts"][0]["status"] = "resolved".into();
    host.post_raw(&path, "application/json", resolved.to_string());
    assert_eq!(events(&host.incident(&json!(1))).len(), 3);

    let off = config.replacen("[storage]\n", "[storage]\ncount_repeated_events = false\n", 1);
    let host = Host::start(&off);
    for _ in 0..4 {
        host.post_raw(&path, "application/json", alert_group().to_string());
    }
    assert_eq!(events(&host.incident(&json!(1))).len(), 4, "every event logged when turned off");
}

#[test]
fn a_long_log_is_read_a_page_at_a_time_through_the_api_and_the_cli() {
    let host = Host::start(&zendesk_config(""));
    let mut ticket = support::ticket(7, "Open");
    for n in 0..40 {
        ticket["latest_comment"] = format!("comment {n}").into();
        let (status, answer) = host.zendesk(&ticket);
        assert_eq!(status, 202, "{answer}");
    }
    let (_, whole) = host.get("/api/v1/incidents/1/log?limit=500");
    let whole = whole["entries"].as_array().unwrap().clone();
    assert!(whole.len() > 80, "created, comments and events: {}", whole.len());
    let seqs: Vec<u64> = whole.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");

    // The detail carries the newest 50, oldest first, and a cursor for the rest.
    let detail = host.incident(&json!(1));
    let newest = detail["log"].as_array().unwrap();
    assert_eq!(newest.as_slice(), &whole[whole.len() - 50..]);
    assert_eq!(detail["log_before"], newest[0]["seq"]);

    // Forwards with `after`, in pages of 7, gives the same log.
    let mut paged = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let (status, page) = host.get(&format!("/api/v1/incidents/1/log?limit=7{cursor}"));
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 7);
        paged.extend(entries.iter().cloned());
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, whole);
    // Backwards with `before`, newest first.
    let before = detail["log_before"].as_u64().unwrap();
    let (_, older) = host.get(&format!("/api/v1/incidents/1/log?before={before}&limit=3"));
    let older: Vec<&Value> = older["entries"].as_array().unwrap().iter().collect();
    let expected: Vec<&Value> = whole[whole.len() - 53..whole.len() - 50].iter().rev().collect();
    assert_eq!(older, expected);

    // Bad cursors and limits are refused, unknown incidents are 404.
    for bad in ["?limit=0", "?limit=501", "?after=x", "?after=1&before=9", "?page=2"] {
        let (status, answer) = host.get(&format!("/api/v1/incidents/1/log{bad}"));
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    assert_eq!(host.get("/api/v1/incidents/99/log").0, 404);

    // The CLI pages through the whole log.
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let (code, stdout, stderr) =
        inbound(&[&["incidents", "log", "1", "--page", "9"][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), whole.len(), "{stdout}");
    assert!(stdout.contains("comment 39"), "{stdout}");
}

/// The bytes of the stored log entries, and the reference count of each
/// shared event body, read from whichever engine the host used.
fn stored_log_bytes_and_shared_bodies(host: &mut Host, config: &str) -> (u64, Vec<u64>) {
    if let Some(url) = config.split('"').find(|part| part.starts_with("postgres://")) {
        let database = url.rsplit('/').next().unwrap();
        let psql = |sql: &str| support::postgres::shared().psql(database, sql).unwrap();
        let bytes = psql("SELECT coalesce(sum(length(entry)), 0) FROM incident_log");
        let refs = psql("SELECT refs FROM event_bodies ORDER BY refs");
        return (bytes.parse().unwrap(), refs.lines().map(|r| r.parse().unwrap()).collect());
    }
    host.stop();
    let db = redb::Database::open(host.dir.path().join("data/inbound.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let log: redb::TableDefinition<(u64, u64), &[u8]> = redb::TableDefinition::new("incident_log");
    let bodies: redb::TableDefinition<&str, (u64, &[u8])> =
        redb::TableDefinition::new("event_bodies");
    let (log, bodies) = (txn.open_table(log).unwrap(), txn.open_table(bodies).unwrap());
    let bytes = log.iter().unwrap().map(|row| row.unwrap().1.value().len() as u64).sum();
    let mut refs: Vec<u64> = bodies.iter().unwrap().map(|row| row.unwrap().1.value().0).collect();
    refs.sort();
    (bytes, refs)
}

#[test]
fn an_event_about_several_incidents_keeps_its_body_once_and_every_log_shows_it() {
    let key = "alerts-key-0123456789abcdefghij";
    let path = format!("/api/v1/events/alertmanager/{key}");
    let config = plugins_config(&[("alertmanager", "alertmanager", key)]);
    let mut host = Host::start(&config);
    // Six alerts in one group, each with a long description: a 16 KB body.
    let mut group = alert_group();
    let alert = group["alerts"][0].clone();
    group["alerts"] = (0..6)
        .map(|n| {
            let mut alert = alert.clone();
            alert["labels"]["instance"] = format!("db{n}").into();
            alert["fingerprint"] = format!("f{n}").into();
            alert["annotations"]["description"] = format!("{n}").repeat(2500).into();
            alert
        })
        .collect();
    let body = group.to_string();
    for _ in 0..3 {
        let (status, answer) = host.post_raw(&path, "application/json", body.clone());
        assert_eq!(status, 202, "{answer}");
    }

    let incidents = host.all_incidents();
    assert_eq!(incidents.len(), 6, "{incidents:?}");
    for incident in &incidents {
        let detail = host.incident(&incident["id"]);
        let received = events(&detail);
        // Created, then one unchanged entry counting the third delivery:
        // repeats are recognised against the body kept apart.
        assert_eq!(received.len(), 2, "{detail}");
        assert_eq!(received[1]["repeats"], 1, "{detail}");
        for entry in &received {
            assert_eq!(entry["body"].as_str(), Some(body.as_str()), "the whole body, on every log");
            assert_eq!(entry["body_bytes"], body.len());
            let headers = entry["headers"].as_array().unwrap();
            assert!(headers.iter().any(|h| h[0] == "content-type"), "{entry}");
            assert!(entry.get("shared_body").is_none(), "storage detail stays inside: {entry}");
        }
    }
    // The CLI reads the same entries (through the API, from either engine).
    let id = incidents[0]["id"].to_string();
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let (code, stdout, stderr) = inbound(&[&["incidents", "log", &id][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let sizes = format!("({} bytes", body.len());
    assert_eq!(stdout.matches(&sizes).count(), 2, "{stdout}");
    assert!(stdout.contains("1 identical since"), "{stdout}");

    // Stored: the body once (twice at most, should the two deliveries'
    // headers differ), referred to by all twelve entries, and entries far
    // smaller than one body.
    let (log_bytes, refs) = stored_log_bytes_and_shared_bodies(&mut host, &config);
    assert!(!refs.is_empty() && refs.len() <= 2 && refs.iter().sum::<u64>() == 12, "{refs:?}");
    assert!(log_bytes < body.len() as u64, "12 entries in {log_bytes} bytes");
}
