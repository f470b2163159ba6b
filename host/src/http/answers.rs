//! The API's answers as types: what the handlers serialize and what the
//! command line (`inbound incidents ...`) reads back, so both agree by
//! construction rather than by field names spelt twice.
//!
//! Kept apart from the stored model so the storage format can change
//! without changing the API. Fields are in alphabetical order: the order
//! these answers had when they were built as JSON objects, so every answer
//! stays the same byte for byte.

use crate::config::noise::AfterWindow;
use crate::noise::Urgency;
use crate::store::{Link, Priority, Status};
use serde::{Deserialize, Serialize};

/// An incident as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentPage {
    pub incidents: Vec<Incident>,
    pub next_before: Option<u64>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
}

/// `GET /readyz`: ready when storage can commit, the disk is above its
/// floor and every integration's plugin is loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    pub disk_full: bool,
    pub plugins_missing: Vec<String>,
    pub ready: bool,
    pub storage: bool,
}

/// `POST /api/v1/admin/reload` that took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reloaded {
    pub reloaded: bool,
    pub sources: usize,
    /// Settings that only take effect after a restart.
    pub warnings: Vec<String>,
}

/// One person of `[[people]]`, as `GET /api/v1/people` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub email: Option<String>,
    /// Whether a console password is set (the hash itself never leaves).
    pub has_password: bool,
    pub name: String,
    pub role: crate::roles::Role,
}

/// `GET /api/v1/people`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<Person>,
}

/// `POST /api/v1/people/{name}/test`: a test message to each contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactChecks {
    pub person: String,
    pub checks: Vec<ContactCheckView>,
}

/// What one contact's test message did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactCheckView {
    pub channel: String,
    pub address: String,
    /// `sent` or `failed`.
    pub outcome: String,
    /// The receiver's answer, or why it failed.
    pub detail: String,
}

/// `PUT /api/v1/people/{name}/password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordSet {
    pub person: String,
    /// Every session of the person ended with the change.
    pub sessions_ended: bool,
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub action: String,
    pub actor: String,
    pub at: String,
    pub client: Option<String>,
    pub detail: String,
    pub id: u64,
}

/// `GET /api/v1/audit`: newest first; `next_before` pages on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<u64>,
}

/// A shift someone took at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftView {
    pub from: String,
    pub id: u64,
    pub person: String,
    pub schedule: String,
    pub taken_by: String,
    pub until: String,
}

/// One schedule in `GET /api/v1/oncall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnCallPage {
    pub at: String,
    pub oncall: Vec<OnCallEntry>,
}

/// One maintenance window in `GET /api/v1/maintenance`, and the answer of
/// starting or ending one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenancePage {
    pub windows: Vec<MaintenanceWindow>,
}

/// One heartbeat in `GET /api/v1/heartbeats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatPage {
    pub heartbeats: Vec<HeartbeatView>,
}

/// The answer to a ping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinged {
    pub heartbeat: String,
    pub next_due: String,
    /// The incident of a miss that this ping resolved.
    pub resolved: Option<u64>,
}
