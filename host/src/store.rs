//! Storage: the only module that knows about redb and PostgreSQL.
//!
//! Plugins read through a [`Snapshot`] and hand back a [`ChangeSet`]; the
//! engine's writer applies change sets in group commits. A successful
//! [`Store::commit`] means the change is on disk.
//!
//! The contract is stated once, in `engine.rs`: [`Engine`] lists every
//! operation and what it promises, [`SnapshotReads`] what a plugin call
//! reads. Two engines implement it, each in its own folder: `embedded/`
//! (redb) and `postgres/`. The other files here are engine-neutral: the
//! model, change sets, pages, queries, errors by kind, the writer's queue
//! and the rules both writers apply. Arrows point down: a shared file
//! imports nothing from an engine folder, an engine imports shared files
//! only (never the other engine, never this facade), and this file, which
//! picks the engine, is the only one that names both (see
//! `docs/architecture.md`).

mod accounts;
mod changes;
mod embedded;
mod engine;
mod error;
mod incident_rules;
mod keyed;
mod model;
mod options;
mod outbox;
mod page;
mod postgres;
mod queries;
mod record_kind;
mod repeats;
mod retry;
mod seen;
mod session;
mod shared_bodies;
mod shifts;
mod state_quota;
mod writer;

pub use accounts::{AuditEntry, AuditQuery, Principal, StoredSession, session_key};
pub use changes::{ChangeSet, ReadCheck, Write};
pub use embedded::{CompactReport, check_file, compact_file};
pub use engine::{Engine, Snapshot, SnapshotReads};
pub use error::Error;
pub use incident_rules::{IncidentUpdate, NewIncident, Reopen, UpdateResolved, cut_chars};
pub use keyed::{Keyed, RecordKind, put_record, record_absent};
pub use model::*;
pub use options::{DEFAULT_CACHE_MIB, StoreOptions, WriterOptions};
pub use outbox::{
    ChangeKind, DeliveryStatus, Escalation, EscalationState, FiredLevel, Held, Notification,
    NotificationId, NotificationKind, OUTBOUND_CHANNEL_PREFIX, Recipient, SenderChange,
};
pub use page::Page;
pub use postgres::PostgresOptions;
pub use queries::{
    BackupReport, Counts, DueFilter, ListQuery, NotificationQuery, OutboxStats, RetentionCutoffs,
    SWEEP_CHUNK,
};
pub use retry::{Retried, commit_with_retry};
pub use seen::{Seen, SeenFirst};
pub use session::{Effects, Session, SourceScope};
pub use shifts::{Shift, covers};
pub use writer::{BatchStats, CommitError};

use std::path::Path;
use std::sync::Arc;

/// The database the host runs on: one engine (the embedded redb file, the
/// default, one host; or PostgreSQL, several hosts on one database, see
/// `docs/high-availability.md`), the handle of its writer, and the signals
/// that commits raise.
///
/// Reads are the engine's: `Store` dereferences to [`Engine`], whose
/// methods (`store.list(..)`, `store.incident(..)`, ...) carry the docs and
/// guarantees, written once for both engines.
pub struct Store {
    engine: Box<dyn Engine>,
    writer: writer::WriterHandle,
    outbox_signal: Arc<tokio::sync::Notify>,
    /// Bumped after every successful commit (and, on PostgreSQL, after
    /// another host's); the console's live list waits on it.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::ops::Deref for Store {
    type Target = dyn Engine;

    fn deref(&self) -> &(dyn Engine + 'static) {
        &*self.engine
    }
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
            engine: Box::new(engine),
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
        Ok(Store { engine: Box::new(engine), writer, outbox_signal, changes })
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
        engine.shut_down();
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

    /// Number of incidents in each status, for metrics.
    pub fn count_by_status(&self) -> Result<Vec<(Status, u64)>, Error> {
        let counts = self.counts(None)?;
        Ok(vec![
            (Status::Pending, counts.pending),
            (Status::Accepted, counts.accepted),
            (Status::Resolved, counts.resolved),
        ])
    }
}
