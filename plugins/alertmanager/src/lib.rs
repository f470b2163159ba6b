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
//! - [`payload`]: the webhook body -> alerts, every field checked first
//! - [`incident`]: an alert -> the new incident's summary, details, links

mod incident;
mod payload;

use inbound_sdk::{Action, Outcome, Plugin, Rejection, Request, incidents};
use payload::{Alert, AlertStatus};

struct Alertmanager;

impl Plugin for Alertmanager {
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
        // The whole body is read before the first host call, so a bad alert
        // late in a group is reported before anything is looked up.
        let notification = payload::parse(&request.body)?;
        let mut outcomes = Vec::with_capacity(notification.alerts.len());
        for alert in &notification.alerts {
            if let Some(outcome) = apply(alert, notification.external_url.as_deref())? {
                outcomes.push(outcome);
            }
        }
        Ok(outcomes)
    }

    /// Alertmanager says everything in the body: a source takes no settings.
    fn settings() -> Option<Vec<inbound_sdk::about::Setting>> {
        Some(Vec::new())
    }
}

fn apply(alert: &Alert, external_url: Option<&str>) -> Result<Option<Outcome>, Rejection> {
    let key = alert.fingerprint.as_str();
    match alert.status {
        AlertStatus::Firing => {
            let (action, incident) =
                incidents::open_or_create(incident::new_incident(alert, external_url))?;
            inbound_sdk::debug!("alert {key} firing: {action} incident {}", incident.id);
            Ok(Some(Outcome::new(action, &incident)))
        }
        AlertStatus::Resolved => {
            let note = format!("resolved in Alertmanager (ends at {})", alert.ends_at);
            if let Some((action, incident)) = incidents::resolve_open(key, Some(&note))? {
                inbound_sdk::debug!("alert {key} resolved: incident {}", incident.id);
                return Ok(Some(Outcome::new(action, &incident)));
            }
            // Already resolved (a repeated notice): report the last incident
            // unchanged; an alert inbound never saw firing has none.
            inbound_sdk::info!("alert {key} resolved, but no incident is open for it");
            Ok(incidents::find_latest(key).map(|latest| Outcome::new(Action::Unchanged, &latest)))
        }
    }
}

inbound_sdk::register_plugin!(Alertmanager);
