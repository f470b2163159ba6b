//! Changes a person or the host makes, for plugins that act back on their
//! sender (plugin API 0.5.0 `on-change`): what the plugin would send, and a
//! way to play the sender's answer back (`remember-as`).

use crate::plugin::outbound::SenderRequest;
use crate::store::{ChangeKind, IncidentId, Status};
use serde::Deserialize;
use serde_json::{Value, json};

/// A change to one of the source's incidents, as a person or the host makes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestChange {
    /// `accepted`, `resolved`, `noted`, `escalation_exhausted` or
    /// `held_for_maintenance`.
    pub kind: ChangeKind,
    /// The incident; by default the source's newest.
    pub incident: Option<IncidentId>,
    /// Who made it (default `ada`).
    #[serde(default = "default_person")]
    pub by: String,
    /// The note, or the maintenance window's name.
    pub text: Option<String>,
}

fn default_person() -> String {
    "ada".into()
}

impl TestChange {
    pub fn new(kind: ChangeKind) -> TestChange {
        TestChange { kind, incident: None, by: default_person(), text: None }
    }

    pub fn by(mut self, person: &str) -> TestChange {
        self.by = person.into();
        self
    }

    pub fn text(mut self, text: &str) -> TestChange {
        self.text = Some(text.into());
        self
    }

    pub fn incident(mut self, id: IncidentId) -> TestChange {
        self.incident = Some(id);
        self
    }

    /// The status the incident has once this change is made (the host makes
    /// it before asking the plugin); `None` leaves it as it is.
    pub(super) fn status_after(&self) -> Option<Status> {
        match self.kind {
            ChangeKind::Accepted => Some(Status::Accepted),
            ChangeKind::Resolved => Some(Status::Resolved),
            _ => None,
        }
    }
}

/// What the plugin answered to one change.
#[derive(Debug, Clone)]
pub struct ChangeRun {
    /// The marker the plugin was given (`inbound-<incident>-<n>`).
    pub marker: String,
    /// The requests it wants sent, checked as the host checks them; `Err`
    /// with why when it refused, failed or answered something the host
    /// would not send.
    pub requests: Result<Vec<SenderRequest>, String>,
}

impl ChangeRun {
    pub fn to_json(&self) -> Value {
        match &self.requests {
            Ok(requests) => json!({
                "marker": self.marker,
                "requests": requests.iter().map(request_json).collect::<Vec<_>>(),
            }),
            Err(error) => json!({"marker": self.marker, "error": error}),
        }
    }
}

pub fn request_json(request: &SenderRequest) -> Value {
    let body = String::from_utf8_lossy(&request.body);
    json!({
        "method": request.method,
        "path": request.path,
        "headers": request.headers,
        "body": body,
        "json": serde_json::from_slice::<Value>(&request.body).ok(),
        "remember_as": request.remember_as,
    })
}

impl std::fmt::Display for ChangeRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.requests {
            Err(error) => writeln!(f, "refused: {error}"),
            Ok(requests) if requests.is_empty() => writeln!(f, "sends nothing"),
            Ok(requests) => {
                for request in requests {
                    writeln!(
                        f,
                        "{} {} {}",
                        request.method,
                        request.path,
                        String::from_utf8_lossy(&request.body)
                    )?;
                }
                Ok(())
            }
        }
    }
}
