//! What one plugin call wants to change, and what it read to decide it.
//!
//! Plugin calls run in parallel against a snapshot. The writer applies a
//! change set only if everything it read is still true (optimistic
//! concurrency); otherwise the call is run again on a fresh snapshot. This is
//! what makes concurrent deliveries of the same new ticket create one incident.

use super::accounts::{AuditEntry, StoredSession};
use super::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry};
use super::outbox::{Escalation, Notification, NotificationId};
use super::record_kind::RecordKind;
use super::shifts::Shift;

#[derive(Debug, Clone, PartialEq)]
pub enum ReadCheck {
    /// The open incident for (source, key) was `expected`.
    OpenIncident { source: String, key: String, expected: Option<IncidentId> },
    /// The latest incident for (source, key) was `expected`.
    LatestIncident { source: String, key: String, expected: Option<IncidentId> },
    /// Incident `id` was at `expected` version (None: did not exist).
    IncidentVersion { id: IncidentId, expected: Option<u64> },
    /// The state value under (source, key) was `expected`.
    State { source: String, key: String, expected: Option<Vec<u8>> },
    /// A precondition, not a read: failed delivery `failure` has not been
    /// replayed yet. When it fails the change set is refused
    /// ([`CommitError::Refused`](super::CommitError::Refused)), not retried:
    /// another replay of the same event won.
    NotReplayed { failure: FailureId },
    /// The incident's escalation was at `expected` version.
    EscalationVersion { incident: IncidentId, expected: Option<u64> },
    /// The notification was at `expected` version.
    NotificationVersion { id: NotificationId, expected: Option<u64> },
    /// The keyed record held exactly `expected` (None: did not exist).
    Record { kind: RecordKind, name: String, expected: Option<Vec<u8>> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Insert or replace the incident; the writer keeps every index in step.
    PutIncident(Incident),
    AppendLog {
        incident: IncidentId,
        entry: LogEntry,
    },
    /// Appends a received event's entry; with `count_repeats`, an event
    /// identical to the incident's last log entry (same action, same logged
    /// body) adds one to that entry's `repeats` instead.
    AppendEvent {
        incident: IncidentId,
        entry: LogEntry,
        count_repeats: bool,
    },
    /// Sets a state value. The writer refuses it (as a conflict, so the call
    /// runs again and its plugin sees the real total) when the source's
    /// state would then exceed `quota` bytes: concurrent calls cannot add up
    /// past the quota each one checked against its own snapshot.
    SetState {
        source: String,
        key: String,
        value: Vec<u8>,
        quota: u64,
    },
    DeleteState {
        source: String,
        key: String,
    },
    /// Insert or replace a failed delivery; `body` is stored only when given.
    PutFailure {
        failure: FailedDelivery,
        body: Option<Vec<u8>>,
    },
    /// Deletes a resolved incident and everything that refers to it
    /// (retention); `resolved_at` finds its entry in the retention index.
    DeleteIncident {
        id: IncidentId,
        resolved_at: u64,
    },
    /// Deletes a failed delivery and its body (retention).
    DeleteFailure(FailureId),
    /// Insert or replace an escalation; the writer keeps its timer in step.
    PutEscalation(Escalation),
    /// Insert or replace an outbox entry; the writer keeps its indexes in step.
    PutNotification(Notification),
    /// Sets a person's password hash (a PHC string, Argon2id).
    PutPassword {
        person: String,
        hash: String,
    },
    /// Opens (or replaces) a console session under `key` ([`super::session_key`]).
    PutSession {
        key: String,
        session: StoredSession,
    },
    /// Ends one session.
    DeleteSession {
        key: String,
    },
    /// Ends every session of a person: a new password, a removed person,
    /// a changed role.
    DeleteSessionsOf {
        person: String,
    },
    /// Appends to the audit trail; the engine gives the entry its id.
    AppendAudit(AuditEntry),
    /// Deletes audit entries with an id below this one (retention).
    DeleteAuditBefore(u64),
    /// Stores a shift taken at run time; the engine gives it its id.
    AddShift(Shift),
    /// Ends a shift before its time (it is deleted).
    DeleteShift(u64),
    /// Forgets a person who left `[[people]]`: their password, feed key
    /// and sessions, so someone added later under the name starts afresh.
    ForgetPerson {
        person: String,
    },
    /// Gives `person` a new calendar feed key (by its SHA-256, hex): the
    /// old one, if any, stops working.
    PutFeedKey {
        person: String,
        digest: String,
    },
    /// Insert or replace a keyed record (`keyed.rs`).
    PutRecord {
        kind: RecordKind,
        name: String,
        value: Vec<u8>,
    },
    DeleteRecord {
        kind: RecordKind,
        name: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub reads: Vec<ReadCheck>,
    pub writes: Vec<Write>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}
