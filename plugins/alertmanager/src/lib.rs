//! The Prometheus Alertmanager integration for inbound, written with the
//! SDK alone, as any third party would.
//!
//! Alertmanager's webhook receiver posts one notification per alert group
//! (`version: "4"`), carrying every alert of the group. Each alert's
//! `fingerprint` is its incident key:
//!
//! | alert status | open incident | then                                   |
//! |--------------|---------------|----------------------------------------|
//! | firing       | none          | create (summary, details, links)       |
//! | firing       | yes           | unchanged                              |
//! | resolved     | yes           | resolve                                |
//! | resolved     | none          | unchanged (repeated resolved notices)  |
//!
//! One outcome per alert, in the payload's order; a resolved alert that
//! never had an incident has none to report. Alertmanager resends firing
//! alerts every `repeat_interval` and may resend resolved ones: both must
//! be harmless.
//!
//! With the source setting `incident_per = "group"`, the group's `groupKey`
//! is the key instead, and the group's `status` decides:
//!
//! | group status | open incident | then                                      |
//! |--------------|---------------|-------------------------------------------|
//! | firing       | none          | create (every alert in the details)       |
//! | firing       | yes           | update summary, details (the alert list) and priority; `commented` when one changed, else unchanged |
//! | resolved     | yes           | resolve                                   |
//! | resolved     | none          | unchanged                                 |
//!
//! An update is rebuilt from the notification alone (API 0.4.0's
//! `incidents.update`): the host logs each real change on the incident
//! (`updated` with the fields) and nothing for a repeat, so the plugin adds
//! no comment.
//!
//! Acting back (API 0.5.0): an accept in inbound silences the incident's
//! alerts in Alertmanager, a resolve in inbound expires that silence. For
//! that `handle` keeps each new incident's labels in the source's state
//! until its alert resolves.
//!
//! - [`settings`]: the source's `incident_per`, `silence_on_accept`, `silence_hours`
//! - [`payload`]: the webhook body -> alerts, every field checked first
//! - [`incident`]: an alert -> the new incident's summary, details, links
//! - [`group`]: a group -> its incident (also what an update makes it), and its resolution note
//! - [`remember`]: what is kept per incident for acting back
//! - [`outbound`]: the silence requests
//! - [`host`]: the host API as a trait, so all of it runs in unit tests

mod group;
mod host;
mod incident;
mod outbound;
mod payload;
mod remember;
mod settings;

#[cfg(test)]
mod fake_host;

use host::{Host, SdkHost};
use inbound_sdk::about::{Setting, SettingKind, SettingsProblem};
use inbound_sdk::incidents::IncidentUpdate;
use inbound_sdk::log::Level;
use inbound_sdk::outbound::{Change, OutboundRequest};
use inbound_sdk::{Action, Incident, NewIncident, Outcome, Plugin, Rejection, Request};
use payload::{Alert, AlertStatus, Group, Notification};
use remember::Budget;
use settings::IncidentPer;
use std::collections::BTreeMap;

struct Alertmanager;

impl Plugin for Alertmanager {
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
        handle(&mut SdkHost, &request.body, &request.settings)
    }

    fn settings() -> Option<Vec<Setting>> {
        Some(vec![
            Setting::new(
                settings::INCIDENT_PER,
                SettingKind::Text,
                "\"alert\" (the default): one incident per alert; \"group\": one per Alertmanager group, listing its alerts.",
            ),
            Setting::new(
                settings::SILENCE_ON_ACCEPT,
                SettingKind::Boolean,
                "Whether an accept in inbound silences the incident's alerts in Alertmanager (default true; needs [sources.outbound]).",
            ),
            Setting::new(
                settings::SILENCE_HOURS,
                SettingKind::Integer,
                "How long that silence lasts, in hours: 1 to 168 (default 24).",
            ),
        ])
    }

    fn validate_settings(settings: &str) -> Result<(), Vec<SettingsProblem>> {
        settings::read(settings).map(|_| ()).map_err(|refused| {
            vec![match refused.setting {
                Some(setting) => SettingsProblem::of(setting, refused.message),
                None => SettingsProblem::general(refused.message),
            }]
        })
    }

    fn on_change(
        change: &Change,
        incident: &Incident,
        settings: &str,
    ) -> Result<Vec<OutboundRequest>, String> {
        let settings =
            settings::read(settings).map_err(|refused| Rejection::from(refused).message)?;
        outbound::on_change(&mut SdkHost, change, incident, &settings)
    }
}

/// One webhook notification. The whole body is read before the first host
/// call, so a bad alert late in a group is reported before anything is
/// looked up.
fn handle(host: &mut impl Host, body: &[u8], settings: &str) -> Result<Vec<Outcome>, Rejection> {
    match settings::read(settings)?.incident_per {
        IncidentPer::Alert => {
            let notification = payload::parse(body)?;
            // One change per alert (its create or resolve) comes first.
            let mut budget = Budget::after(notification.alerts.len());
            let mut outcomes = Vec::with_capacity(notification.alerts.len());
            for alert in &notification.alerts {
                if let Some(outcome) =
                    apply(host, &mut budget, alert, notification.external_url.as_deref())?
                {
                    outcomes.push(outcome);
                }
            }
            Ok(outcomes)
        }
        IncidentPer::Group => {
            let (notification, group) = payload::parse_group(body)?;
            // The incident's create, update or resolve, and the delete below.
            let mut budget = Budget::after(2);
            Ok(apply_group(host, &mut budget, &notification, &group)?.into_iter().collect())
        }
    }
}

/// One outcome for the group's incident; none for a resolved group that
/// never had one.
fn apply_group(
    host: &mut impl Host,
    budget: &mut Budget,
    notification: &Notification,
    group: &Group,
) -> Result<Option<Outcome>, Rejection> {
    let key = group::incident_key(group);
    let remembered = group::state_key(&key);
    match group.status {
        AlertStatus::Firing => {
            let wanted = group::new_incident(notification, group, key.clone());
            let Some(open) = host.find_open(&key) else {
                // A silence matches the group's labels; without any (a route
                // that groups by nothing), those all its alerts share.
                let labels =
                    if group.labels.is_empty() { &group.common_labels } else { &group.labels };
                let incident = create(host, budget, &wanted, labels)?;
                let message =
                    format!("group {} firing: created incident {}", group.key, incident.id);
                host.log(Level::Debug, &message);
                return Ok(Some(Outcome::new(Action::Created, &incident)));
            };
            // Summary, details and priority as a new incident would have
            // them; the host changes (and logs) nothing when they match.
            let (action, incident) = update_to(host, &open, &wanted)?;
            if action != Action::Unchanged {
                let counts = group::counts(notification);
                let message = format!(
                    "group {} changed, {counts}: updated incident {}",
                    group.key, incident.id
                );
                host.log(Level::Debug, &message);
            }
            Ok(Some(Outcome::new(action, &incident)))
        }
        AlertStatus::Resolved => {
            // Plugin versions before API 0.4.0 remembered the firing alerts
            // here; a resolved group clears what they left.
            host.state_delete(&remembered);
            let note = group::resolved_note(notification, group);
            if let Some(incident) = resolve_open(host, budget, &key, &note)? {
                let message = format!("group {} resolved: incident {}", group.key, incident.id);
                host.log(Level::Debug, &message);
                return Ok(Some(Outcome::new(Action::Resolved, &incident)));
            }
            let message = format!("group {} resolved, but no incident is open for it", group.key);
            host.log(Level::Info, &message);
            Ok(latest_unchanged(host, budget, &key))
        }
    }
}

fn apply(
    host: &mut impl Host,
    budget: &mut Budget,
    alert: &Alert,
    external_url: Option<&str>,
) -> Result<Option<Outcome>, Rejection> {
    let key = alert.fingerprint.as_str();
    match alert.status {
        AlertStatus::Firing => {
            let (action, incident) = match host.find_open(key) {
                Some(open) => (Action::Unchanged, open),
                None => {
                    let new = incident::new_incident(alert, external_url);
                    (Action::Created, create(host, budget, &new, &alert.labels)?)
                }
            };
            host.log(
                Level::Debug,
                &format!("alert {key} firing: {action} incident {}", incident.id),
            );
            Ok(Some(Outcome::new(action, &incident)))
        }
        AlertStatus::Resolved => {
            let note = format!("resolved in Alertmanager (ends at {})", alert.ends_at);
            if let Some(incident) = resolve_open(host, budget, key, &note)? {
                host.log(Level::Debug, &format!("alert {key} resolved: incident {}", incident.id));
                return Ok(Some(Outcome::new(Action::Resolved, &incident)));
            }
            // Already resolved (a repeated notice): report the last incident
            // unchanged; an alert inbound never saw firing has none.
            host.log(Level::Info, &format!("alert {key} resolved, but no incident is open for it"));
            Ok(latest_unchanged(host, budget, key))
        }
    }
}

/// Opens the incident `new` and keeps `labels` for its silence. What was
/// kept for the key's previous incident (resolved in inbound while its
/// alert kept firing) goes.
fn create(
    host: &mut impl Host,
    budget: &mut Budget,
    new: &NewIncident,
    labels: &BTreeMap<String, String>,
) -> Result<Incident, Rejection> {
    if let Some(previous) = host.find_latest(&new.key) {
        remember::forget(host, budget, previous.id);
    }
    let incident = host.create(new)?;
    if let Err(why) = remember::remember_labels(host, budget, incident.id, labels) {
        let message = format!(
            "incident {} gets no silence when accepted: its labels are not kept, {why}",
            incident.id
        );
        host.log(Level::Warn, &message);
    }
    Ok(incident)
}

/// Resolves the open incident for `key`, if any, and forgets what was kept
/// for it: the alert is over.
fn resolve_open(
    host: &mut impl Host,
    budget: &mut Budget,
    key: &str,
    note: &str,
) -> Result<Option<Incident>, Rejection> {
    let Some(open) = host.find_open(key) else {
        return Ok(None);
    };
    let incident = host.resolve(open.id, note)?;
    remember::forget(host, budget, incident.id);
    Ok(Some(incident))
}

/// The key's latest incident, unchanged, after forgetting what was kept for
/// it (resolved in inbound, its alert now resolved too).
fn latest_unchanged(host: &mut impl Host, budget: &mut Budget, key: &str) -> Option<Outcome> {
    let latest = host.find_latest(key)?;
    remember::forget(host, budget, latest.id);
    Some(Outcome::new(Action::Unchanged, &latest))
}

/// Brings the open incident `open` to what `wanted` describes (summary,
/// details, priority): `commented` when something changed, `unchanged`
/// when it already matched (as `inbound_sdk::incidents::update_to`).
fn update_to(
    host: &mut impl Host,
    open: &Incident,
    wanted: &NewIncident,
) -> Result<(Action, Incident), Rejection> {
    let changes = IncidentUpdate {
        summary: Some(wanted.summary.clone()),
        details: Some(wanted.details.clone()),
        priority: wanted.priority,
    };
    let updated = host.update(open.id, &changes)?;
    let same = (&updated.summary, &updated.details, updated.priority)
        == (&open.summary, &open.details, open.priority);
    let action = if same { Action::Unchanged } else { Action::Commented };
    Ok((action, updated))
}

inbound_sdk::register_plugin!(Alertmanager);

#[cfg(test)]
mod tests {
    use super::*;
    use fake_host::FakeHost;
    use inbound_sdk::IncidentStatus;
    use inbound_sdk::outbound::{ChangeKind, Method};
    use serde_json::json;

    fn alert(status: &str, instance: &str) -> serde_json::Value {
        json!({
            "status": status,
            "fingerprint": format!("fp-{instance}"),
            "labels": {"alertname": "DiskFull", "instance": instance, "severity": "warning"},
            "annotations": {"summary": format!("Disk full on {instance}")},
            "startsAt": "2024-05-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z"
        })
    }

    fn notification(status: &str, alerts: Vec<serde_json::Value>) -> Vec<u8> {
        json!({
            "version": "4",
            "status": status,
            "groupKey": "{}:{alertname=\"DiskFull\"}",
            "groupLabels": {"alertname": "DiskFull"},
            "commonLabels": {"alertname": "DiskFull"},
            "externalURL": "http://am:9093",
            "alerts": alerts
        })
        .to_string()
        .into_bytes()
    }

    fn send(host: &mut FakeHost, body: &[u8], settings: &str) -> Vec<(Action, u64)> {
        host.next_call();
        handle(host, body, settings)
            .unwrap()
            .into_iter()
            .map(|outcome| (outcome.action, outcome.incident))
            .collect()
    }

    fn change(kind: ChangeKind, incident: u64) -> Change {
        Change {
            kind,
            by: "ada".into(),
            text: None,
            at: 1_714_557_600_000,
            marker: format!("inbound-{incident}-1"),
        }
    }

    /// What the host would send for `kind` on incident `id`, as it is now.
    fn on_change(
        host: &mut FakeHost,
        kind: ChangeKind,
        id: u64,
        settings: &str,
    ) -> Vec<OutboundRequest> {
        let incident = host.incident(id).clone();
        let settings = settings::read(settings).unwrap();
        outbound::on_change(host, &change(kind, id), &incident, &settings).unwrap()
    }

    fn matchers(request: &OutboundRequest) -> Vec<(String, String)> {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        body["matchers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["name"].as_str().unwrap().into(), m["value"].as_str().unwrap().into()))
            .collect()
    }

    #[test]
    fn accept_silences_and_resolve_expires_then_the_webhook_clears_the_state() {
        let mut host = FakeHost::default();
        let firing = notification("firing", vec![alert("firing", "db1")]);
        assert_eq!(send(&mut host, &firing, "{}"), [(Action::Created, 1)]);
        assert!(host.state.contains_key("labels/1"));

        // A person accepts in inbound.
        host.set_status_by_hand(1, IncidentStatus::Accepted);
        let requests = on_change(&mut host, ChangeKind::Accepted, 1, "{}");
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (requests[0].method, requests[0].path.as_str()),
            (Method::Post, "/api/v2/silences")
        );
        assert_eq!(requests[0].remember_as.as_deref(), Some("silence/1"));
        assert_eq!(
            matchers(&requests[0]),
            [
                ("alertname".to_string(), "DiskFull".to_string()),
                ("instance".into(), "db1".into()),
                ("severity".into(), "warning".into())
            ]
        );
        // The host keeps Alertmanager's 2xx answer.
        host.state.insert("silence/1".into(), br#"{"silenceID":"6f1c7a62-2a1e"}"#.to_vec());

        // A person resolves in inbound: the silence is expired.
        host.set_status_by_hand(1, IncidentStatus::Resolved);
        let requests = on_change(&mut host, ChangeKind::Resolved, 1, "{}");
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (requests[0].method, requests[0].path.as_str()),
            (Method::Delete, "/api/v2/silence/6f1c7a62-2a1e")
        );

        // Alertmanager's resolved notice finds the incident resolved and
        // clears what was kept for it.
        let resolved = notification("resolved", vec![alert("resolved", "db1")]);
        assert_eq!(send(&mut host, &resolved, "{}"), [(Action::Unchanged, 1)]);
        assert!(host.state.is_empty(), "{:?}", host.state.keys());
    }

    #[test]
    fn an_accept_after_the_alert_resolved_sends_nothing() {
        let mut host = FakeHost::default();
        send(&mut host, &notification("firing", vec![alert("firing", "db1")]), "{}");
        send(&mut host, &notification("resolved", vec![alert("resolved", "db1")]), "{}");
        assert_eq!(host.incident(1).status, IncidentStatus::Resolved);
        assert!(host.state.is_empty(), "the webhook's resolve forgets the labels");
        assert!(on_change(&mut host, ChangeKind::Accepted, 1, "{}").is_empty());
        assert!(on_change(&mut host, ChangeKind::Resolved, 1, "{}").is_empty());
    }

    #[test]
    fn an_alert_firing_again_after_a_resolve_in_inbound_starts_afresh() {
        let mut host = FakeHost::default();
        let firing = notification("firing", vec![alert("firing", "db1")]);
        send(&mut host, &firing, "{}");
        host.state.insert("silence/1".into(), br#"{"silenceID":"a"}"#.to_vec());
        host.set_status_by_hand(1, IncidentStatus::Resolved);
        assert_eq!(send(&mut host, &firing, "{}"), [(Action::Created, 2)]);
        assert_eq!(host.state.keys().collect::<Vec<_>>(), ["labels/2"]);
    }

    #[test]
    fn a_group_s_silence_matches_its_group_labels() {
        let mut host = FakeHost::default();
        let firing = notification("firing", vec![alert("firing", "db1"), alert("firing", "db2")]);
        let group = r#"{"incident_per": "group", "silence_hours": 2}"#;
        assert_eq!(send(&mut host, &firing, group), [(Action::Created, 1)]);
        assert_eq!(host.state["labels/1"], br#"{"alertname":"DiskFull"}"#);
        host.set_status_by_hand(1, IncidentStatus::Accepted);
        let requests = on_change(&mut host, ChangeKind::Accepted, 1, group);
        assert_eq!(matchers(&requests[0]), [("alertname".to_string(), "DiskFull".to_string())]);
        let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
        assert_eq!(body["endsAt"], "2024-05-01T12:00:00.000Z");
        let resolved =
            notification("resolved", vec![alert("resolved", "db1"), alert("resolved", "db2")]);
        assert_eq!(send(&mut host, &resolved, group), [(Action::Resolved, 1)]);
        assert!(host.state.is_empty(), "{:?}", host.state.keys());
    }

    #[test]
    fn a_group_without_group_labels_is_silenced_by_its_common_labels() {
        let mut host = FakeHost::default();
        let mut body: serde_json::Value =
            serde_json::from_slice(&notification("firing", vec![alert("firing", "db1")])).unwrap();
        body["groupLabels"] = json!({});
        body["commonLabels"] = json!({"alertname": "DiskFull", "instance": "db1"});
        send(&mut host, body.to_string().as_bytes(), r#"{"incident_per": "group"}"#);
        assert_eq!(host.state["labels/1"], br#"{"alertname":"DiskFull","instance":"db1"}"#);
    }

    #[test]
    fn a_huge_notification_still_opens_every_incident() {
        let mut host = FakeHost::default();
        let alerts = (0..200).map(|n| alert("firing", &format!("db{n}"))).collect();
        let outcomes = send(&mut host, &notification("firing", alerts), "{}");
        assert_eq!(outcomes.len(), 200);
        assert!(outcomes.iter().all(|(action, _)| *action == Action::Created));
        assert_eq!(host.state.len(), remember::CHANGES_PER_CALL - 200);
        assert!(
            host.logs.iter().any(|line| line.contains("incident 200 gets no silence")),
            "{:?}",
            host.logs
        );
        // Resolving them all fits too, and clears what was kept.
        let alerts = (0..200).map(|n| alert("resolved", &format!("db{n}"))).collect();
        let outcomes = send(&mut host, &notification("resolved", alerts), "{}");
        assert!(outcomes.iter().all(|(action, _)| *action == Action::Resolved));
        assert_eq!(host.state.len(), 0);
    }

    #[test]
    fn the_webhook_lifecycle_is_as_before() {
        let mut host = FakeHost::default();
        let firing = notification("firing", vec![alert("firing", "db1"), alert("firing", "db2")]);
        assert_eq!(send(&mut host, &firing, ""), [(Action::Created, 1), (Action::Created, 2)]);
        assert_eq!(send(&mut host, &firing, ""), [(Action::Unchanged, 1), (Action::Unchanged, 2)]);
        let never_seen = notification("resolved", vec![alert("resolved", "db9")]);
        assert_eq!(send(&mut host, &never_seen, ""), []);
        let one = notification("firing", vec![alert("resolved", "db1"), alert("firing", "db2")]);
        assert_eq!(send(&mut host, &one, ""), [(Action::Resolved, 1), (Action::Unchanged, 2)]);
        assert_eq!(host.state.keys().collect::<Vec<_>>(), ["labels/2"]);
        let error = handle(&mut host, b"{}", "").unwrap_err();
        assert_eq!(error.code, "missing-field");
        assert_eq!(
            handle(&mut host, b"", r#"{"silence_hours": 0}"#).unwrap_err().code,
            "invalid-settings"
        );
    }

    #[test]
    fn a_group_update_is_commented_and_its_resolution_noted() {
        let mut host = FakeHost::default();
        let group = r#"{"incident_per": "group"}"#;
        send(&mut host, &notification("firing", vec![alert("firing", "db1")]), group);
        let grown = notification("firing", vec![alert("firing", "db1"), alert("firing", "db2")]);
        assert_eq!(send(&mut host, &grown, group), [(Action::Commented, 1)]);
        assert_eq!(send(&mut host, &grown, group), [(Action::Unchanged, 1)]);
        assert_eq!(host.incident(1).summary, "DiskFull: 2 of 2 alerts firing");
        let resolved =
            notification("resolved", vec![alert("resolved", "db1"), alert("resolved", "db2")]);
        assert_eq!(send(&mut host, &resolved, group), [(Action::Resolved, 1)]);
        assert_eq!(send(&mut host, &resolved, group), [(Action::Unchanged, 1)]);
    }

    #[test]
    fn new_settings_are_declared_and_judged() {
        let declared: Vec<String> =
            Alertmanager::settings().unwrap().into_iter().map(|setting| setting.name).collect();
        assert_eq!(declared, ["incident_per", "silence_on_accept", "silence_hours"]);
        let problems = Alertmanager::validate_settings(r#"{"silence_hours": 0}"#).unwrap_err();
        assert_eq!(problems[0].setting.as_deref(), Some("silence_hours"));
        assert!(Alertmanager::validate_settings(r#"{"silence_on_accept": false}"#).is_ok());
    }
}
