//! The store's contract: every operation a storage engine offers, and what
//! it promises, stated once for both engines.
//!
//! The embedded engine (`store/embedded/`, one redb file, one host) and the
//! PostgreSQL engine (`store/postgres/`, several hosts on one database)
//! each implement [`Engine`] and [`SnapshotReads`]; [`Store`](super::Store)
//! holds one of them and answers every call through it. Both take the same
//! change sets through the same `WriterHandle` queue (`store/writer.rs`),
//! answer the same reads in the same order, and cut pages alike
//! ([`Page::read`]).
//!
//! Reads here are blocking (redb reads on the caller's thread; PostgreSQL
//! blocks on a runtime of its own): call them off the async runtime, as the
//! HTTP handlers do with `spawn_blocking`.

use super::accounts::{AuditEntry, AuditQuery, StoredSession};
use super::changes::ChangeSet;
use super::error::Error;
use super::keyed::RecordKind;
use super::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry, Millis};
use super::outbox::{Escalation, Notification, NotificationId};
use super::page::Page;
use super::queries::{
    BackupReport, Counts, DueFilter, ListQuery, NotificationQuery, OutboxStats, RetentionCutoffs,
};
use super::shifts::Shift;
use std::path::Path;

/// A storage engine: the database behind [`Store`](super::Store), minus
/// the writer (whose handle the store keeps) and the change signals.
pub trait Engine: Send + Sync {
    /// True when other hosts may write the same database (PostgreSQL):
    /// work that one host alone would never do twice must then be claimed.
    fn is_shared(&self) -> bool;

    /// A consistent read-only view for one plugin call.
    fn snapshot(&self) -> Result<Snapshot, Error>;

    /// Ids are handed out before commit so a plugin sees its new incident's
    /// id; a call that fails or conflicts leaves a gap, which is harmless.
    fn allocate_incident_id(&self) -> Result<IncidentId, Error>;

    /// A failed delivery's id, handed out before it is stored.
    fn allocate_failure_id(&self) -> Result<FailureId, Error>;

    /// A notification's id, handed out before it is stored. Ids grow with
    /// time: the smallest pending one is the oldest.
    fn allocate_notification_id(&self) -> Result<NotificationId, Error>;

    /// A page of incidents, newest first, by the query's filters; the
    /// cursor is an incident id (`before`).
    fn list(&self, query: &ListQuery) -> Result<Page<Incident>, Error>;

    /// The incident and its whole log, oldest entry first. For tests and
    /// the plugin harness: a busy incident's log is large, so the API and
    /// the console read it a page at a time ([`Engine::log_before`],
    /// [`Engine::log_after`]).
    fn incident_with_log(&self, id: IncidentId)
    -> Result<Option<(Incident, Vec<LogEntry>)>, Error>;

    /// The incident, if it exists.
    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error>;

    /// Failed deliveries, newest first, one page at a time; the cursor is a
    /// failure id (`before`).
    fn failures(
        &self,
        before: Option<FailureId>,
        limit: usize,
    ) -> Result<Page<FailedDelivery>, Error>;

    /// One failed delivery and its original body.
    fn failure(&self, id: FailureId) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error>;

    /// Incidents per status, of one source or of all. Kept by the writer
    /// in the same commit as the incidents: no scan, whatever the volume.
    fn counts(&self, source: Option<&str>) -> Result<Counts, Error>;

    /// Up to `limit` log entries of incident `id` older than sequence
    /// `before`, newest first, each with its sequence (the cursor).
    fn log_before(
        &self,
        id: IncidentId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error>;

    /// Up to `limit` log entries of incident `id` with a sequence above
    /// `after`, oldest first: reads a whole log in pages, or follows it.
    fn log_after(
        &self,
        id: IncidentId,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error>;

    /// The most recently created incident of `source`.
    fn newest_incident_of(&self, source: &str) -> Result<Option<Incident>, Error>;

    /// Escalations due at `now` or before, earliest first, with their incident.
    fn due_escalations(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<(Escalation, Option<Incident>)>, Error>;

    /// The earliest time an escalation or a pending notification is due.
    fn next_due(&self) -> Result<Option<Millis>, Error>;

    /// Pending notifications due at `now` or before that `filter` admits,
    /// earliest first: up to `limit`, however many the filter leaves out.
    fn due_notifications(
        &self,
        now: Millis,
        limit: usize,
        filter: &DueFilter,
    ) -> Result<Vec<Notification>, Error>;

    /// The notification, if it exists.
    fn notification(&self, id: NotificationId) -> Result<Option<Notification>, Error>;

    /// One page of the notifications `query` selects, newest first; the
    /// cursor is a notification id (`before`).
    fn notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>, Error>;

    /// The incident's escalation, if it has one.
    fn escalation_of(&self, incident: IncidentId) -> Result<Option<Escalation>, Error>;

    /// What the outbox holds, for metrics.
    fn outbox_stats(&self) -> Result<OutboxStats, Error>;

    /// The person's password hash (a PHC string), if one was set.
    fn password_hash(&self, person: &str) -> Result<Option<String>, Error>;

    /// The session stored under `key` ([`session_key`](super::session_key)),
    /// expired or not: the caller decides.
    fn session(&self, key: &str) -> Result<Option<StoredSession>, Error>;

    /// One page of the audit trail, newest first; the cursor is an entry id
    /// (`before`).
    fn audit(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, Error>;

    /// Shifts taken at run time that end after `after`, oldest taken
    /// first (a later one wins where they overlap).
    fn shifts(&self, after: Millis) -> Result<Vec<Shift>, Error>;

    /// Whose calendar feed key has this SHA-256 (hex), if anyone's.
    fn feed_key_owner(&self, digest: &str) -> Result<Option<String>, Error>;

    /// Every keyed record of `kind` (`keyed.rs`), by name, as stored.
    fn records(&self, kind: RecordKind) -> Result<Vec<(String, Vec<u8>)>, Error>;

    /// The keyed record `name` of `kind`, as stored, if there is one.
    fn record(&self, kind: RecordKind, name: &str) -> Result<Option<Vec<u8>>, Error>;

    /// One chunk of what `cutoffs` expire (at most
    /// [`SWEEP_CHUNK`](super::queries::SWEEP_CHUNK) of each kind), as a
    /// change set for [`Store::commit`](super::Store::commit); empty when
    /// nothing is left. Each incident is deleted only if it has not changed
    /// since this read.
    fn expired(&self, cutoffs: RetentionCutoffs) -> Result<ChangeSet, Error>;

    /// Writes a consistent copy of the redb database to `destination`,
    /// which must not exist yet: every change acknowledged before the
    /// backup began and nothing half written, while commits go on.
    /// Blocking: run it off the async runtime. A PostgreSQL store answers
    /// [`Error::Unsupported`]: it is backed up with PostgreSQL's own tools.
    fn backup_to(&self, destination: &Path) -> Result<BackupReport, Error>;

    /// True when the database can be used: the redb file is open (not
    /// failed and waiting to be reopened), or this host is connected to
    /// PostgreSQL.
    fn is_ready(&self) -> bool;

    /// Bytes free for the redb database on its filesystem (read at most
    /// once a second); `None` where the system cannot tell, and on
    /// PostgreSQL, whose server watches its own disk.
    fn free_bytes(&self) -> Option<u64>;

    /// Waits for the writer, whose handle is dropped already, to commit
    /// what it has received, then lets the database go.
    fn shut_down(self: Box<Self>);
}

/// What one plugin call reads: on redb a consistent view at the last
/// commit; on PostgreSQL single statements, each read checked again at
/// commit like every other (see `store::postgres`). Either way, every read
/// the call makes is recorded in its change set, and the writer refuses the
/// change set if the read no longer holds.
pub trait SnapshotReads: Send + Sync {
    /// The open incident of `source` for `key`.
    fn open_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error>;

    /// The most recently created incident of `source` for `key`, open or not.
    fn latest_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error>;

    /// The incident, if it exists; on PostgreSQL, the record found by key
    /// when the call found it that way.
    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error>;

    /// The plugin state value of `source` under `key`.
    fn state(&self, source: &str, key: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Bytes of plugin state (keys + values) the source holds.
    fn state_bytes(&self, source: &str) -> Result<u64, Error>;
}

/// One plugin call's view, whichever the engine.
pub type Snapshot = Box<dyn SnapshotReads>;
