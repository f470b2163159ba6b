//! What an event came to, in the terms two plugin versions are compared
//! by: the sender's answer (accepted, rejected with a code, failed), and for
//! each incident the action and what a person would see. Ids, versions and
//! times are left out: two runs never share them.

use super::{Delivered, DeliveryError};
use crate::plugin::CallError;
use crate::store::{self, Action, Incident, IncidentId, Link, Priority, Session, Status};
use serde::{Deserialize, Serialize};

/// One event's outcome under one plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome {
    pub answer: Answer,
    /// The incidents the event concerned, in the plugin's order (empty
    /// unless accepted).
    pub incidents: Vec<IncidentOutcome>,
}

/// What the sender heard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    Accepted,
    /// The plugin refused the request as the sender's mistake (400).
    Rejected {
        code: String,
    },
    /// The plugin failed: trapped, ran out of time or memory, or answered
    /// something the host refuses.
    Failed {
        code: String,
    },
}

/// One incident as the event left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentOutcome {
    pub action: Action,
    pub key: String,
    pub status: Status,
    pub summary: String,
    pub details: String,
    pub priority: Option<Priority>,
    pub url: Option<String>,
    pub links: Vec<Link>,
}

impl Outcome {
    pub fn accepted(outcomes: &[(Action, Incident)]) -> Outcome {
        let incidents = outcomes
            .iter()
            .map(|(action, incident)| IncidentOutcome {
                action: *action,
                key: incident.key.clone(),
                status: incident.status,
                summary: incident.summary.clone(),
                details: incident.details.clone(),
                priority: incident.priority,
                url: incident.url.clone(),
                links: incident.links.clone(),
            })
            .collect();
        Outcome { answer: Answer::Accepted, incidents }
    }

    /// The outcome of a plugin call that gave no incidents.
    pub fn refused(error: &CallError) -> Outcome {
        let answer = match error {
            CallError::Rejected { code, .. } => Answer::Rejected { code: code.clone() },
            other => Answer::Failed { code: other.code().to_string() },
        };
        Outcome { answer, incidents: Vec::new() }
    }

    /// The outcome of a delivery, or `None` when it ended for a reason that
    /// is not the plugin's (storage, contention, the source's budget).
    pub fn of_delivery(result: &Result<Delivered, DeliveryError>) -> Option<Outcome> {
        match result {
            // The fallback incident of a failure the source accepts is the
            // host's, not the plugin's outcome.
            Ok(Delivered { failure: Some(_), failure_code, .. }) => Some(Outcome {
                answer: Answer::Failed {
                    code: failure_code.clone().unwrap_or_else(|| "plugin-failed".into()),
                },
                incidents: Vec::new(),
            }),
            Ok(delivered) => Some(Outcome::accepted(&delivered.outcomes)),
            Err(DeliveryError::Rejected { code, .. }) => {
                Some(Outcome { answer: Answer::Rejected { code: code.clone() }, incidents: vec![] })
            }
            Err(DeliveryError::PluginFailed { error, .. }) => Some(Outcome::refused(error)),
            Err(_) => None,
        }
    }

    /// One outcome in a line: the answer, then each incident's action and summary.
    pub fn describe(&self) -> String {
        let answer = match &self.answer {
            Answer::Accepted => "accepted".to_string(),
            Answer::Rejected { code } => format!("rejected ({code})"),
            Answer::Failed { code } => format!("failed ({code})"),
        };
        let incidents: Vec<String> = self
            .incidents
            .iter()
            .map(|i| {
                let name = |value: serde_json::Result<serde_json::Value>| {
                    value.ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                };
                let priority = i.priority.map(|p| format!(", {}", name(serde_json::to_value(p))));
                let action = name(serde_json::to_value(i.action));
                format!("{action} {} {:?}{}", i.key, i.summary, priority.unwrap_or_default())
            })
            .collect();
        if incidents.is_empty() { answer } else { format!("{answer}: {}", incidents.join("; ")) }
    }

    /// What differs between `self` and `other`, by field name: `answer`,
    /// `incidents` (how many), then `action`, `key`, `status`, `summary`,
    /// `details`, `priority`, `url`, `links` of any incident. Empty when the
    /// two would look the same to the sender and to a person.
    pub fn differences(&self, other: &Outcome) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut note = |field: &'static str| {
            if !fields.contains(&field) {
                fields.push(field);
            }
        };
        if self.answer != other.answer {
            note("answer");
        }
        if self.incidents.len() != other.incidents.len() {
            note("incidents");
        }
        for (a, b) in self.incidents.iter().zip(&other.incidents) {
            let pairs: [(&'static str, bool); 8] = [
                ("action", a.action != b.action),
                ("key", a.key != b.key),
                ("status", a.status != b.status),
                ("summary", a.summary != b.summary),
                ("details", a.details != b.details),
                ("priority", a.priority != b.priority),
                ("url", a.url != b.url),
                ("links", a.links != b.links),
            ];
            for (field, differs) in pairs {
                if differs {
                    note(field);
                }
            }
        }
        fields
    }
}

/// Why a call's reported outcomes cannot be accepted.
pub(super) enum Unaccounted {
    /// The plugin reported what it did not do, or an incident it cannot see.
    Plugin(CallError),
    Storage(store::Error),
}

/// The incidents a call reported, each as the call left it. Every one must
/// be an incident this source can see, and what the plugin says happened
/// must be what the call did.
pub(super) fn checked_outcomes(
    session: &mut Session,
    reported: Vec<(Action, IncidentId)>,
) -> Result<Vec<(Action, Incident)>, Unaccounted> {
    let mut outcomes = Vec::with_capacity(reported.len());
    for (action, id) in reported {
        if !session.effects(id).allow(action) {
            let action = serde_json::to_value(action).unwrap_or_default();
            return Err(Unaccounted::Plugin(CallError::InvalidResult(format!(
                "it reported incident {id} as {action}, which this call did not do"
            ))));
        }
        let incident = session.incident(id).map_err(Unaccounted::Storage)?.ok_or_else(|| {
            Unaccounted::Plugin(CallError::InvalidResult(format!(
                "it reported incident {id}, which this source does not have"
            )))
        })?;
        outcomes.push((action, incident));
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(summary: &str, priority: Option<Priority>) -> Incident {
        Incident {
            id: 1,
            source: "s".into(),
            key: "k".into(),
            status: Status::Pending,
            summary: summary.into(),
            details: String::new(),
            priority,
            url: None,
            links: vec![],
            escalation_policy: "p".into(),
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn the_same_outcome_differs_in_nothing_whatever_the_ids() {
        let a = Outcome::accepted(&[(Action::Created, incident("Disk full", None))]);
        let mut other = incident("Disk full", None);
        other.id = 99;
        other.version = 3;
        assert!(a.differences(&Outcome::accepted(&[(Action::Created, other)])).is_empty());
    }

    #[test]
    fn each_field_that_differs_is_named_once() {
        let live = Outcome::accepted(&[
            (Action::Created, incident("Disk full", None)),
            (Action::Created, incident("CPU", None)),
        ]);
        let candidate = Outcome::accepted(&[
            (Action::Unchanged, incident("Disk is full", Some(Priority::High))),
            (Action::Created, incident("CPU!", None)),
        ]);
        assert_eq!(live.differences(&candidate), ["action", "summary", "priority"]);
    }

    #[test]
    fn a_rejection_differs_from_an_acceptance_by_its_answer_and_incidents() {
        let live = Outcome::accepted(&[(Action::Created, incident("Disk full", None))]);
        let rejected = Outcome::refused(&CallError::Rejected {
            code: "invalid-payload".into(),
            message: "no".into(),
        });
        assert_eq!(live.differences(&rejected), ["answer", "incidents"]);
        let timed_out = Outcome::refused(&CallError::Timeout(std::time::Duration::from_millis(5)));
        assert_eq!(timed_out.answer, Answer::Failed { code: "plugin-timeout".into() });
        assert_eq!(rejected.differences(&timed_out), ["answer"]);
    }
}
