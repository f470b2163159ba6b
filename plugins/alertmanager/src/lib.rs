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
//! (`updated` with the fields) and nothing for a repeat, so the plugin
//! keeps no state and adds no comment.
//!
//! - [`settings`]: the source's `incident_per`
//! - [`payload`]: the webhook body -> alerts, every field checked first
//! - [`incident`]: an alert -> the new incident's summary, details, links
//! - [`group`]: a group -> its incident (also what an update makes it), and its resolution note
//! - [`host`]: the host API as a trait, so all of it runs in unit tests

mod group;
mod host;
mod incident;
mod payload;
mod settings;

#[cfg(test)]
mod fake_host;

use host::{Host, SdkHost};
use inbound_sdk::about::{Setting, SettingKind, SettingsProblem};
use inbound_sdk::incidents::IncidentUpdate;
use inbound_sdk::log::Level;
use inbound_sdk::{Action, Incident, NewIncident, Outcome, Plugin, Rejection, Request};
use payload::{Alert, AlertStatus, Group, Notification};
use settings::IncidentPer;

struct Alertmanager;

impl Plugin for Alertmanager {
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
        handle(&mut SdkHost, &request.body, &request.settings)
    }

    fn settings() -> Option<Vec<Setting>> {
        Some(vec![Setting::new(
            settings::INCIDENT_PER,
            SettingKind::Text,
            "\"alert\" (the default): one incident per alert; \"group\": one per Alertmanager group, listing its alerts.",
        )])
    }

    fn validate_settings(settings: &str) -> Result<(), Vec<SettingsProblem>> {
        settings::incident_per(settings).map(|_| ()).map_err(|refused| {
            vec![match refused.setting {
                Some(setting) => SettingsProblem::of(setting, refused.message),
                None => SettingsProblem::general(refused.message),
            }]
        })
    }
}

/// One webhook notification. The whole body is read before the first host
/// call, so a bad alert late in a group is reported before anything is
/// looked up.
fn handle(host: &mut impl Host, body: &[u8], settings: &str) -> Result<Vec<Outcome>, Rejection> {
    match settings::incident_per(settings)? {
        IncidentPer::Alert => {
            let notification = payload::parse(body)?;
            let mut outcomes = Vec::with_capacity(notification.alerts.len());
            for alert in &notification.alerts {
                if let Some(outcome) = apply(host, alert, notification.external_url.as_deref())? {
                    outcomes.push(outcome);
                }
            }
            Ok(outcomes)
        }
        IncidentPer::Group => {
            let (notification, group) = payload::parse_group(body)?;
            Ok(apply_group(host, &notification, &group)?.into_iter().collect())
        }
    }
}

/// One outcome for the group's incident; none for a resolved group that
/// never had one.
fn apply_group(
    host: &mut impl Host,
    notification: &Notification,
    group: &Group,
) -> Result<Option<Outcome>, Rejection> {
    let key = group::incident_key(group);
    let remembered = group::state_key(&key);
    match group.status {
        AlertStatus::Firing => {
            let wanted = group::new_incident(notification, group, key.clone());
            let Some(open) = host.find_open(&key) else {
                let incident = host.create(&wanted)?;
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
            if let Some(incident) = resolve_open(host, &key, &note)? {
                let message = format!("group {} resolved: incident {}", group.key, incident.id);
                host.log(Level::Debug, &message);
                return Ok(Some(Outcome::new(Action::Resolved, &incident)));
            }
            let message = format!("group {} resolved, but no incident is open for it", group.key);
            host.log(Level::Info, &message);
            Ok(host.find_latest(&key).map(|latest| Outcome::new(Action::Unchanged, &latest)))
        }
    }
}

fn apply(
    host: &mut impl Host,
    alert: &Alert,
    external_url: Option<&str>,
) -> Result<Option<Outcome>, Rejection> {
    let key = alert.fingerprint.as_str();
    match alert.status {
        AlertStatus::Firing => {
            let (action, incident) = match host.find_open(key) {
                Some(open) => (Action::Unchanged, open),
                None => {
                    (Action::Created, host.create(&incident::new_incident(alert, external_url))?)
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
            if let Some(incident) = resolve_open(host, key, &note)? {
                host.log(Level::Debug, &format!("alert {key} resolved: incident {}", incident.id));
                return Ok(Some(Outcome::new(Action::Resolved, &incident)));
            }
            // Already resolved (a repeated notice): report the last incident
            // unchanged; an alert inbound never saw firing has none.
            host.log(Level::Info, &format!("alert {key} resolved, but no incident is open for it"));
            Ok(host.find_latest(key).map(|latest| Outcome::new(Action::Unchanged, &latest)))
        }
    }
}

/// Resolves the open incident for `key`, if any.
fn resolve_open(
    host: &mut impl Host,
    key: &str,
    note: &str,
) -> Result<Option<Incident>, Rejection> {
    let Some(open) = host.find_open(key) else {
        return Ok(None);
    };
    Ok(Some(host.resolve(open.id, note)?))
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
        let error = handle(&mut host, b"{}", "").unwrap_err();
        assert_eq!(error.code, "missing-field");
        assert_eq!(
            handle(&mut host, b"", r#"{"incident_per": 1}"#).unwrap_err().code,
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
}
