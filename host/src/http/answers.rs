//! The API's answers as types: what the handlers serialize and what the
//! command line (`inbound incidents ...`) reads back, so both agree by
//! construction rather than by field names spelt twice.
//!
//! Kept apart from the stored model so the storage format can change
//! without changing the API. Fields are in alphabetical order, the order
//! these answers had when they were built as JSON objects; flattened and
//! nested stored types (a log entry's kind, `Held`, `SenderChange`) keep
//! their own order. Clients read JSON by name, never by position.

use crate::config::noise::AfterWindow;
use crate::noise::Urgency;
use crate::store::{
    Action, DeliveryStatus, EscalationState, Held, Link, NotificationKind, Priority, SenderChange,
    Status,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An incident as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    /// RFC 3339 in UTC with milliseconds, like every time in an answer.
    pub created_at: String,
    pub details: String,
    pub escalation_policy: String,
    pub id: u64,
    pub key: String,
    pub links: Vec<Link>,
    pub priority: Option<Priority>,
    pub source: String,
    pub status: Status,
    pub summary: String,
    pub updated_at: String,
    /// `high` or `low`, by the source's `low_urgency` priorities; in the
    /// incidents' own routes, not in webhook answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    pub url: Option<String>,
}

/// `GET /api/v1/incidents`: newest first; `next_before` pages on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentPage {
    pub incidents: Vec<Incident>,
    pub next_before: Option<u64>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// `GET /readyz`: ready when storage can commit, the disk is above its
/// floor and every integration's plugin is loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub disk_full: bool,
    pub plugins_missing: Vec<String>,
    pub ready: bool,
    pub storage: bool,
}

/// `POST /api/v1/admin/reload` that took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reloaded {
    pub reloaded: bool,
    pub sources: usize,
    /// Settings that only take effect after a restart.
    pub warnings: Vec<String>,
}

/// One person of `[[people]]`, as `GET /api/v1/people` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Person {
    pub email: Option<String>,
    /// Whether a console password is set (the hash itself never leaves).
    pub has_password: bool,
    pub name: String,
    pub role: crate::roles::Role,
}

/// `GET /api/v1/people`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PeoplePage {
    pub people: Vec<Person>,
}

/// `POST /api/v1/people/{name}/test`: a test message to each contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactChecks {
    pub person: String,
    pub checks: Vec<ContactCheckView>,
}

/// What one contact's test message did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactCheckView {
    pub channel: String,
    pub address: String,
    /// `sent` or `failed`.
    pub outcome: String,
    /// The receiver's answer, or why it failed.
    pub detail: String,
}

/// `PUT /api/v1/people/{name}/password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PasswordSet {
    pub person: String,
    /// Every session of the person ended with the change.
    pub sessions_ended: bool,
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub action: String,
    pub actor: String,
    pub at: String,
    pub client: Option<String>,
    pub detail: String,
    pub id: u64,
}

/// `GET /api/v1/audit`: newest first; `next_before` pages on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<u64>,
}

/// A shift someone took at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    pub from: String,
    pub id: u64,
    pub person: String,
    pub schedule: String,
    pub taken_by: String,
    pub until: String,
}

/// One schedule in `GET /api/v1/oncall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OnCallEntry {
    /// Who takes over at `until`.
    pub next_person: Option<String>,
    pub person: String,
    pub schedule: String,
    /// The run-time shift that puts `person` on call, if one does.
    pub shift: Option<ShiftView>,
    /// Every shift of the schedule that has not ended.
    pub shifts: Vec<ShiftView>,
    pub timezone: String,
    /// When `person` stops being on call.
    pub until: Option<String>,
}

/// `GET /api/v1/oncall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OnCallPage {
    pub at: String,
    pub oncall: Vec<OnCallEntry>,
}

/// One maintenance window in `GET /api/v1/maintenance`, and the answer of
/// starting or ending one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MaintenanceWindow {
    pub after: AfterWindow,
    /// `config`, or who made it (`person ada`, `token deploys`).
    pub created_by: String,
    pub from: String,
    pub name: String,
    pub priorities: Vec<String>,
    pub sources: Vec<String>,
    /// `upcoming`, `active` or `ended`.
    pub state: String,
    pub until: String,
}

/// `GET /api/v1/maintenance`: by start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MaintenancePage {
    pub windows: Vec<MaintenanceWindow>,
}

/// One heartbeat in `GET /api/v1/heartbeats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatView {
    /// When it counts as missed; none before the first ping and once missed.
    pub due_at: Option<String>,
    pub escalation_policy: String,
    pub grace_minutes: u32,
    /// The open incident of a miss.
    pub incident: Option<u64>,
    pub interval_minutes: u32,
    pub last_ping: Option<String>,
    pub name: String,
    /// `waiting` (never pinged), `up` or `missed`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatPage {
    pub heartbeats: Vec<HeartbeatView>,
}

/// The answer to a ping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Pinged {
    pub heartbeat: String,
    pub next_due: String,
    /// The incident of a miss that this ping resolved.
    pub resolved: Option<u64>,
}

/// Every error: `{"error": {"code", "message"}}`, with the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorAnswer {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `unknown-incident`, `needs_admin`.
    pub code: String,
    /// For people; may change between versions.
    pub message: String,
}

/// What a webhook did to one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeRef {
    pub action: Action,
    pub incident_id: u64,
}

/// `202` to a webhook: the first outcome in full, every outcome by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventAnswer {
    /// `unchanged` when the event touched no incident.
    pub action: Action,
    /// The failed delivery kept for a later replay, when the plugin failed
    /// and the source accepts failures (`on_failure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_delivery: Option<u64>,
    pub incident: Option<Incident>,
    pub outcomes: Vec<OutcomeRef>,
}

/// `POST /api/v1/incidents/{id}/accept` and `.../resolve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusChanged {
    /// `accepted` or `resolved`; `unchanged` when it already was.
    pub action: Action,
    pub incident: Incident,
}

/// `POST /api/v1/incidents/{id}/notes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Noted {
    pub incident: Incident,
}

/// `GET /api/v1/incidents/{id}`: the incident with the newest of its log,
/// its escalation and its newest notifications; the `*_before` cursors page
/// on through `/log` and `/api/v1/notifications?incident=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    pub escalation: Option<EscalationView>,
    pub incident: Incident,
    /// Oldest first.
    pub log: Vec<LogEntry>,
    pub log_before: Option<u64>,
    /// Oldest first.
    pub notifications: Vec<NotificationView>,
    pub notifications_before: Option<u64>,
}

/// `GET /api/v1/incidents/{id}/log?before=`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogPageBackward {
    pub entries: Vec<LogEntry>,
    pub next_before: Option<u64>,
}

/// `GET /api/v1/incidents/{id}/log?after=`: oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogPageForward {
    pub entries: Vec<LogEntry>,
    pub next_after: Option<u64>,
}

/// One page of a log, in the direction asked for.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LogPage {
    Backward(LogPageBackward),
    Forward(LogPageForward),
}

/// One line of an incident's log. `seq` is its cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogEntry {
    pub at: String,
    pub seq: u64,
    #[serde(flatten)]
    pub kind: LogKind,
}

/// What a log line records, by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogKind {
    /// A webhook request that concerned the incident.
    EventReceived {
        action: Action,
        /// As text (invalid UTF-8 replaced), cut to `event_body_cap_bytes`.
        body: String,
        body_bytes: usize,
        body_truncated: bool,
        /// `[name, value]` pairs, credentials left out.
        headers: Vec<(String, String)>,
        /// When the last identical event counted in `repeats` arrived.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_repeat_at: Option<String>,
        /// Identical events received right after, counted instead of logged.
        #[serde(default, skip_serializing_if = "is_zero")]
        repeats: u32,
    },
    Created {
        by: String,
    },
    StatusChanged {
        by: String,
        from: Status,
        note: Option<String>,
        to: Status,
    },
    Comment {
        author: Option<String>,
        by: String,
        text: String,
    },
    LinkAdded {
        by: String,
        label: String,
        url: String,
    },
    /// A plugin changed the summary, details or priority.
    Updated {
        by: String,
        fields: Vec<String>,
    },
    /// An escalation level fired.
    Escalated {
        level: u32,
        /// `person via channel` or `channel:address`, one per notification.
        notified: Vec<String>,
        round: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<String>,
    },
    /// A level was due and paged nobody (a maintenance window, low urgency).
    NotPaged {
        reason: String,
        /// Milliseconds since the Unix epoch, as it was first published.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<u64>,
    },
    /// One delivery attempt of a notification.
    NotificationAttempt {
        attempt: u32,
        channel: String,
        detail: String,
        notification: u64,
        /// `sent`, `retrying`, `failed`, `held`, `retry-requested` or `cancelled`.
        outcome: String,
        recipient: String,
    },
    /// Read only: a kind a newer host writes that this version does not
    /// know, so an older command line still reads the rest of the log.
    #[serde(other)]
    Other,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// One notification of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationView {
    pub address: Option<String>,
    /// A person's later rule: due that many minutes after the level.
    pub after_minutes: u32,
    pub attempts: u32,
    /// Outbound entries (two-way): what the sender is being told.
    pub change: Option<SenderChange>,
    pub channel: String,
    pub created_at: String,
    /// Held by its contact's throttle, for a digest.
    pub held: bool,
    pub id: u64,
    pub idempotency_key: String,
    pub incident: u64,
    pub kind: NotificationKind,
    pub last_error: Option<String>,
    pub level: u32,
    /// Pending only.
    pub next_attempt_at: Option<String>,
    pub person: Option<String>,
    pub round: u32,
    pub sent_at: Option<String>,
    pub status: DeliveryStatus,
}

/// `GET /api/v1/notifications`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationPage {
    pub next_before: Option<u64>,
    pub notifications: Vec<NotificationView>,
}

/// `GET /api/v1/notifications/{id}` and its retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationAnswer {
    pub notification: NotificationView,
}

/// An incident's escalation: its newest fired levels and latest people
/// notified (oldest first), with how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EscalationView {
    pub fired: Vec<FiredView>,
    pub fired_count: usize,
    /// Why levels are not firing now; none while paging goes on.
    pub held: Option<Held>,
    pub next_at: Option<String>,
    pub next_level: u32,
    pub notified: Vec<String>,
    pub notified_count: usize,
    pub policy: String,
    pub round: u32,
    pub state: EscalationState,
}

/// One level that fired: when it was due, and when it fired (later after
/// downtime).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FiredView {
    pub due_at: String,
    pub fired_at: String,
    pub level: u32,
    pub round: u32,
}

/// An event the plugin failed on, kept for a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailedDeliveryView {
    /// Plugin calls made for it so far (first delivery and replays).
    pub attempts: u32,
    pub body_bytes: usize,
    pub error: String,
    /// e.g. `plugin-timeout`, `plugin-trap`.
    pub error_code: String,
    pub fallback_incident: Option<u64>,
    /// `[name, value]` pairs, credentials left out.
    pub headers: Vec<(String, String)>,
    pub id: u64,
    pub integration: String,
    pub received_at: String,
    /// Set once a replay succeeded.
    pub replayed: Option<ReplayedView>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplayedView {
    pub action: Action,
    pub at: String,
    pub incident: Option<u64>,
}

/// `GET /api/v1/failed`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailedPage {
    pub failed_deliveries: Vec<FailedDeliveryView>,
    pub next_before: Option<u64>,
}

/// `GET /api/v1/failed/{id}`: the record and the original body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailedDetail {
    /// As text, invalid UTF-8 replaced.
    pub body: String,
    #[serde(flatten)]
    pub delivery: FailedDeliveryView,
}

/// `POST /api/v1/failed/{id}/replay`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailedReplayed {
    pub action: Action,
    pub incident: Option<Incident>,
    pub replayed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_entry_of_a_kind_this_version_does_not_know_still_reads() {
        let entry: LogEntry = serde_json::from_str(
            r#"{"at": "2026-12-08T00:00:00.000Z", "seq": 3, "type": "from_the_future", "x": 1}"#,
        )
        .unwrap();
        assert_eq!(entry.kind, LogKind::Other);
        let known: LogEntry = serde_json::from_str(
            r#"{"at": "2026-12-08T00:00:00.000Z", "seq": 4, "type": "created", "by": "plugin"}"#,
        )
        .unwrap();
        assert_eq!(known.kind, LogKind::Created { by: "plugin".into() });
    }
}
