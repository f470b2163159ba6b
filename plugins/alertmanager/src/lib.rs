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

mod group;
mod incident;
mod payload;
mod settings;

use inbound_sdk::about::{Setting, SettingKind, SettingsProblem};
use inbound_sdk::{Action, Outcome, Plugin, Rejection, Request, incidents, state};
use payload::{Alert, AlertStatus, Group, Notification};
use settings::IncidentPer;

struct Alertmanager;

impl Plugin for Alertmanager {
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
        // The whole body is read before the first host call, so a bad alert
        // late in a group is reported before anything is looked up.
        match settings::incident_per(&request.settings)? {
            IncidentPer::Alert => {
                let notification = payload::parse(&request.body)?;
                let mut outcomes = Vec::with_capacity(notification.alerts.len());
                for alert in &notification.alerts {
                    if let Some(outcome) = apply(alert, notification.external_url.as_deref())? {
                        outcomes.push(outcome);
                    }
                }
                Ok(outcomes)
            }
            IncidentPer::Group => {
                let (notification, group) = payload::parse_group(&request.body)?;
                Ok(apply_group(&notification, &group)?.into_iter().collect())
            }
        }
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

/// One outcome for the group's incident; none for a resolved group that
/// never had one.
fn apply_group(notification: &Notification, group: &Group) -> Result<Option<Outcome>, Rejection> {
    let key = group::incident_key(group);
    let remembered = group::state_key(&key);
    match group.status {
        AlertStatus::Firing => {
            let wanted = group::new_incident(notification, group, key.clone());
            let Some(open) = incidents::find_open(&key) else {
                let incident = incidents::create(&wanted)?;
                inbound_sdk::debug!("group {} firing: created incident {}", group.key, incident.id);
                return Ok(Some(Outcome::new(Action::Created, &incident)));
            };
            // Summary, details and priority as a new incident would have
            // them; the host changes (and logs) nothing when they match.
            let (action, incident) = incidents::update_to(&open, &wanted)?;
            if action != Action::Unchanged {
                let counts = group::counts(notification);
                inbound_sdk::debug!(
                    "group {} changed, {counts}: updated incident {}",
                    group.key,
                    incident.id
                );
            }
            Ok(Some(Outcome::new(action, &incident)))
        }
        AlertStatus::Resolved => {
            // Plugin versions before API 0.4.0 remembered the firing alerts
            // here; a resolved group clears what they left.
            state::delete(&remembered);
            let note = group::resolved_note(notification, group);
            if let Some((action, incident)) = incidents::resolve_open(&key, Some(&note))? {
                inbound_sdk::debug!("group {} resolved: incident {}", group.key, incident.id);
                return Ok(Some(Outcome::new(action, &incident)));
            }
            inbound_sdk::info!("group {} resolved, but no incident is open for it", group.key);
            Ok(incidents::find_latest(&key).map(|latest| Outcome::new(Action::Unchanged, &latest)))
        }
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
