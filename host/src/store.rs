//! Storage: the only module that knows about redb and PostgreSQL.
//!
//! Plugins read through a [`Snapshot`] and hand back a [`ChangeSet`]; the
//! [`writer`] applies change sets in group commits. A successful
//! [`Store::commit`] means the change is on disk.

mod changes;
mod embedded;
mod error;
mod incident_rules;
mod model;
mod options;
mod outbox;
mod page;
mod postgres;
mod queries;
mod repeats;
mod retry;
mod session;
mod shared_bodies;
mod state_quota;
mod writer;

pub use changes::{ChangeSet, ReadCheck, Write};
pub use embedded::{CompactReport, check_file, compact_file};
pub use error::Error;
pub use incident_rules::{NewIncident, Reopen, cut_chars};
pub use model::*;
pub use options::{DEFAULT_CACHE_MIB, StoreOptions, WriterOptions};
pub use outbox::{
    DeliveryStatus, Escalation, EscalationState, FiredLevel, Notification, NotificationId,
    NotificationKind, Recipient,
};
pub use page::Page;
pub use postgres::PostgresOptions;
pub use queries::{
    BackupReport, Counts, DueFilter, ListQuery, NotificationQuery, OutboxStats, RetentionCutoffs,
    SWEEP_CHUNK,
};
pub use retry::{Retried, commit_with_retry};
pub use session::{Effects, Session, SourceScope};
pub use writer::{BatchStats, CommitError};

use std::path::Path;
use std::sync::Arc;

/// The storage engine behind [`Store`]: the embedded redb file (the
/// default, one host) or PostgreSQL (several hosts on one database; see
/// `docs/high-availability.md`). Both take the same change sets through the
/// same [`writer::WriterHandle`] and answer the same reads.
enum Engine {
    Embedded(embedded::Embedded),
    Postgres(postgres::Postgres),
}

/// Calls the same method on whichever engine the store runs.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.engine {
            Engine::Embedded(engine) => engine.$method($($arg),*),
            Engine::Postgres(engine) => engine.$method($($arg),*),
        }
    };
}

pub struct Store {
    engine: Engine,
    writer: writer::WriterHandle,
    outbox_signal: Arc<tokio::sync::Notify>,
    /// Bumped after every successful commit (and, on PostgreSQL, after
    /// another host's); the console's live list waits on it.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Store {
    /// Opens (or creates) the redb database at `path` and starts the writer.
    pub fn open(
        path: &Path,
        options: StoreOptions,
        on_batch: impl Fn(BatchStats) + Send + 'static,
    ) -> anyhow::Result<Store> {
        let outbox_signal = Arc::new(tokio::sync::Notify::new());
        let (engine, writer) =
            embedded::Embedded::open(path, options, on_batch, outbox_signal.clone())?;
        Ok(Store {
            engine: Engine::Embedded(engine),
            writer,
            outbox_signal,
            changes: Arc::new(tokio::sync::watch::Sender::new(0)),
        })
    }

    /// Connects to PostgreSQL, migrates its schema (once, whichever host
    /// starts first) and starts this host's writer.
    pub fn open_postgres(
        connection: &PostgresOptions,
        options: StoreOptions,
        on_batch: impl Fn(BatchStats) + Send + 'static,
    ) -> anyhow::Result<Store> {
        let outbox_signal = Arc::new(tokio::sync::Notify::new());
        let changes = Arc::new(tokio::sync::watch::Sender::new(0));
        let (engine, writer) = postgres::Postgres::open(
            connection,
            options,
            on_batch,
            outbox_signal.clone(),
            changes.clone(),
        )?;
        Ok(Store { engine: Engine::Postgres(engine), writer, outbox_signal, changes })
    }

    /// True when other hosts may write the same database (PostgreSQL):
    /// work that one host alone would never do twice must then be claimed.
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// A consistent read-only view for one plugin call.
    pub fn snapshot(&self) -> Result<Snapshot, Error> {
        Ok(match &self.engine {
            Engine::Embedded(engine) => Snapshot(SnapshotOf::Embedded(engine.snapshot()?)),
            Engine::Postgres(engine) => Snapshot(SnapshotOf::Postgres(engine.snapshot()?)),
        })
    }

    /// Ids are handed out before commit so a plugin sees its new incident's id;
    /// a call that fails or conflicts leaves a gap, which is harmless.
    pub fn allocate_incident_id(&self) -> Result<IncidentId, Error> {
        dispatch!(self.allocate_incident_id())
    }

    pub fn allocate_failure_id(&self) -> Result<FailureId, Error> {
        dispatch!(self.allocate_failure_id())
    }

    pub fn allocate_notification_id(&self) -> Result<NotificationId, Error> {
        dispatch!(self.allocate_notification_id())
    }

    /// Applies `changes` durably, or not at all.
    pub async fn commit(&self, changes: ChangeSet) -> Result<(), CommitError> {
        self.writer.commit(changes).await?;
        self.changes.send_modify(|generation| *generation += 1);
        Ok(())
    }

    /// Waits for the writer to finish what it has received. Call after every
    /// request has been answered; later commits fail with `WriterStopped`.
    pub fn close(self) {
        let Store { engine, writer, .. } = self;
        drop(writer);
        match engine {
            Engine::Embedded(engine) => engine.close(),
            Engine::Postgres(engine) => engine.close(),
        }
    }

    /// Changes each time a commit succeeds (the value counts commits).
    pub fn watch_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Woken after every commit that may have made an escalation or a
    /// notification due, so level 0 goes out at once instead of at the next poll.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    /// A page of incidents, newest first, by the query's filters.
    pub fn list(&self, query: &ListQuery) -> Result<Page<Incident>, Error> {
        dispatch!(self.list(query))
    }

    /// The incident and its whole log, oldest entry first. For tests and
    /// the plugin harness: a busy incident's log is large, so the API and
    /// the console read it a page at a time ([`Store::log_before`],
    /// [`Store::log_after`]).
    pub fn incident_with_log(
        &self,
        id: IncidentId,
    ) -> Result<Option<(Incident, Vec<LogEntry>)>, Error> {
        dispatch!(self.incident_with_log(id))
    }

    /// The incident, if it exists.
    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        dispatch!(self.incident(id))
    }

    /// Failed deliveries, newest first, one page at a time.
    pub fn failures(
        &self,
        before: Option<FailureId>,
        limit: usize,
    ) -> Result<Page<FailedDelivery>, Error> {
        dispatch!(self.failures(before, limit))
    }

    /// One failed delivery and its original body.
    pub fn failure(&self, id: FailureId) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error> {
        dispatch!(self.failure(id))
    }

    /// Incidents per status, of one source or of all.
    pub fn counts(&self, source: Option<&str>) -> Result<Counts, Error> {
        dispatch!(self.counts(source))
    }

    /// Number of incidents in each status, for metrics.
    pub fn count_by_status(&self) -> Result<Vec<(Status, u64)>, Error> {
        let counts = self.counts(None)?;
        Ok(vec![
            (Status::Pending, counts.pending),
            (Status::Accepted, counts.accepted),
            (Status::Resolved, counts.resolved),
        ])
    }

    /// Up to `limit` log entries of incident `id` older than sequence
    /// `before`, newest first.
    pub fn log_before(
        &self,
        id: IncidentId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        dispatch!(self.log_before(id, before, limit))
    }

    /// Up to `limit` log entries of incident `id` with a sequence above
    /// `after`, oldest first: reads a whole log in pages, or follows it.
    pub fn log_after(
        &self,
        id: IncidentId,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        dispatch!(self.log_after(id, after, limit))
    }

    /// The most recently created incident of `source`.
    pub fn newest_incident_of(&self, source: &str) -> Result<Option<Incident>, Error> {
        dispatch!(self.newest_incident_of(source))
    }

    /// Escalations due at `now` or before, earliest first, with their incident.
    pub fn due_escalations(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<(Escalation, Option<Incident>)>, Error> {
        dispatch!(self.due_escalations(now, limit))
    }

    /// The earliest time an escalation or a pending notification is due.
    pub fn next_due(&self) -> Result<Option<Millis>, Error> {
        dispatch!(self.next_due())
    }

    /// Pending notifications due at `now` or before that `filter` admits,
    /// earliest first.
    pub fn due_notifications(
        &self,
        now: Millis,
        limit: usize,
        filter: &DueFilter,
    ) -> Result<Vec<Notification>, Error> {
        dispatch!(self.due_notifications(now, limit, filter))
    }

    pub fn notification(&self, id: NotificationId) -> Result<Option<Notification>, Error> {
        dispatch!(self.notification(id))
    }

    /// One page of the notifications `query` selects, newest first.
    pub fn notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>, Error> {
        dispatch!(self.notifications(query))
    }

    /// The incident's escalation, if it has one.
    pub fn escalation_of(&self, incident: IncidentId) -> Result<Option<Escalation>, Error> {
        dispatch!(self.escalation_of(incident))
    }

    pub fn outbox_stats(&self) -> Result<OutboxStats, Error> {
        dispatch!(self.outbox_stats())
    }

    /// One chunk of what `cutoffs` expire, as a change set for
    /// [`Store::commit`] (empty when nothing is left). Each incident is
    /// deleted only if it has not changed since this read.
    pub fn expired(&self, cutoffs: RetentionCutoffs) -> Result<ChangeSet, Error> {
        dispatch!(self.expired(cutoffs))
    }

    /// Writes a consistent copy of the redb database to `destination`, which
    /// must not exist yet. Blocking: run it off the async runtime. A
    /// PostgreSQL store is backed up with PostgreSQL's own tools.
    pub fn backup_to(&self, destination: &Path) -> Result<BackupReport, Error> {
        match &self.engine {
            Engine::Embedded(engine) => engine.backup_to(destination),
            Engine::Postgres(_) => Err(Error::Unsupported(
                "the online backup copies a redb file; back a PostgreSQL store up with pg_dump or pg_basebackup".into(),
            )),
        }
    }

    /// True when the database can be used: the redb file is open (not failed
    /// and waiting to be reopened), or this host is connected to PostgreSQL.
    pub fn is_ready(&self) -> bool {
        dispatch!(self.is_ready())
    }

    /// Bytes free for the redb database on its filesystem (read at most
    /// once a second); `None` where the system cannot tell, and on
    /// PostgreSQL, whose server watches its own disk.
    pub fn free_bytes(&self) -> Option<u64> {
        match &self.engine {
            Engine::Embedded(engine) => engine.free_bytes(),
            Engine::Postgres(_) => None,
        }
    }
}

/// What one plugin call reads: on redb a consistent view at the last
/// commit; on PostgreSQL single statements, each read checked again at
/// commit like every other (see `store::postgres`).
pub struct Snapshot(SnapshotOf);

enum SnapshotOf {
    Embedded(embedded::EmbeddedSnapshot),
    Postgres(postgres::PostgresSnapshot),
}

macro_rules! dispatch_snapshot {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.0 {
            SnapshotOf::Embedded(snapshot) => snapshot.$method($($arg),*),
            SnapshotOf::Postgres(snapshot) => snapshot.$method($($arg),*),
        }
    };
}

impl Snapshot {
    pub fn open_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        dispatch_snapshot!(self.open_incident_id(source, key))
    }

    pub fn latest_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        dispatch_snapshot!(self.latest_incident_id(source, key))
    }

    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        dispatch_snapshot!(self.incident(id))
    }

    pub fn state(&self, source: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        dispatch_snapshot!(self.state(source, key))
    }

    /// Bytes of plugin state (keys + values) the source holds.
    pub fn state_bytes(&self, source: &str) -> Result<u64, Error> {
        dispatch_snapshot!(self.state_bytes(source))
    }
}
