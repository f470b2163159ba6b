//! The incident model as the host stores and serves it.

use serde::{Deserialize, Serialize};

pub type IncidentId = u64;

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as Millis)
        .unwrap_or(0)
}

/// RFC 3339 in UTC with milliseconds, as the API writes times.
pub fn rfc3339_millis(millis: Millis) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    humantime::format_rfc3339_millis(time).to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Accepted,
    Resolved,
}

impl Status {
    pub fn is_open(self) -> bool {
        self != Status::Resolved
    }

    /// Stable one-byte code used in index keys. Never renumber.
    pub fn code(self) -> u8 {
        match self {
            Status::Pending => 0,
            Status::Accepted => 1,
            Status::Resolved => 2,
        }
    }

    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Accepted => "accepted",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "accepted" => Some(Status::Accepted),
            "resolved" => Some(Status::Resolved),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// What a webhook did to one incident; also the `action` of the HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Accepted,
    Resolved,
    Commented,
    Unchanged,
}

impl Action {
    /// As the API and the logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Accepted => "accepted",
            Action::Resolved => "resolved",
            Action::Commented => "commented",
            Action::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub source: String,
    pub key: String,
    pub status: Status,
    pub summary: String,
    pub details: String,
    pub priority: Option<Priority>,
    pub url: Option<String>,
    /// Further labelled links (plugin API 0.2.0). Absent in records written
    /// before links existed, hence the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Copied from the source's configuration when the incident is created,
    /// so later config changes do not rewrite history.
    pub escalation_policy: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Bumped on every change; lets the writer detect concurrent changes.
    pub version: u64,
}

/// A labelled link from an incident, e.g. to the graph behind an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// One line of an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at: Millis,
    #[serde(flatten)]
    pub kind: LogKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogKind {
    /// A webhook request that concerned this incident.
    EventReceived {
        action: Action,
        /// Request headers, minus credentials.
        headers: Vec<(String, String)>,
        /// The body as text (invalid UTF-8 replaced), cut to the configured cap.
        body: String,
        body_bytes: usize,
        body_truncated: bool,
        /// Identical events (same action, same logged body) received right
        /// after this one and counted here instead of logged again
        /// (`storage.count_repeated_events`).
        #[serde(default, skip_serializing_if = "is_zero")]
        repeats: u32,
        /// When the last of those arrived.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_repeat_at: Option<Millis>,
        /// Storage only, never seen outside the store: set when the event
        /// concerned several incidents and its headers and body are kept
        /// once, in the `event_bodies` table under this key (see
        /// `shared_bodies.rs`); the store puts them back before the entry
        /// leaves it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shared_body: Option<String>,
    },
    Created {
        by: String,
    },
    StatusChanged {
        from: Status,
        to: Status,
        by: String,
        note: Option<String>,
    },
    Comment {
        author: Option<String>,
        text: String,
        by: String,
    },
    LinkAdded {
        label: String,
        url: String,
        by: String,
    },
    /// A plugin changed an open incident's summary, details or priority
    /// (plugin API 0.4.0 `incidents.update`).
    Updated {
        by: String,
        /// What changed, in this order: `summary`, `details`, `priority`.
        fields: Vec<String>,
    },
    /// An escalation level fired (or the resolved notices went out).
    Escalated {
        level: u32,
        round: u32,
        /// `channel:address` or `person via channel`, one per notification.
        notified: Vec<String>,
        /// Targets that reached nobody, with why.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<String>,
    },
    /// A level was due and paged nobody: a maintenance window, or a
    /// low-urgency incident outside working hours. Logged once per reason.
    NotPaged {
        /// `maintenance deploy`, `low urgency: outside working hours`, ...
        reason: String,
        /// When paging is looked at again, if it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Millis>,
    },
    /// One delivery attempt of a notification.
    NotificationAttempt {
        notification: u64,
        channel: String,
        recipient: String,
        attempt: u32,
        /// `sent`, `retrying`, `failed`, `held` (for a digest), `retry-requested`
        /// or `cancelled` (a person's later rule, the incident taken meanwhile).
        outcome: String,
        detail: String,
    },
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// Longest summary kept, in characters (the WIT documents this limit).
pub const SUMMARY_MAX_CHARS: usize = 512;
/// Longest details text kept, in characters.
pub const DETAILS_MAX_CHARS: usize = 16_384;

pub type FailureId = u64;

/// An event whose plugin call failed (trap, timeout, memory, invalid result).
/// Kept with everything needed to replay it once the plugin is fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedDelivery {
    pub id: FailureId,
    pub source: String,
    pub integration: String,
    pub received_at: Millis,
    /// Request headers, minus credentials.
    pub headers: Vec<(String, String)>,
    pub body_bytes: usize,
    /// Machine-readable error code, e.g. `plugin-timeout`.
    pub error_code: String,
    pub error: String,
    /// Plugin calls made for this event so far (first delivery and replays).
    pub attempts: u32,
    /// The fallback incident opened for it, when the source accepts failures.
    pub fallback_incident: Option<IncidentId>,
    /// Set once a replay succeeded.
    pub replayed: Option<Replayed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub at: Millis,
    pub action: Action,
    pub incident: Option<IncidentId>,
}
