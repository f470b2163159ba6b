//! The embedded engine: one redb file, written by one group-commit thread.
//!
//! Everything here runs on the caller's thread (reads) or the writer thread
//! (commits); [`Store`](super::Store) picks this engine for
//! `storage.backend = "redb"`, the default. This file opens and closes the
//! database and answers the store's contract ([`Engine`]) by handing each
//! read a read transaction; the reads themselves are in `reads.rs` and
//! `outbox.rs`, the writer in `writer.rs`.

mod accounts;
mod backup;
mod compact;
mod error;
mod keyed;
mod migrate;
mod outbox;
mod reads;
mod records;
mod repeats;
mod retention;
mod slot;
mod snapshot;
mod tables;
mod writer;

pub use backup::check_file;
pub use compact::{CompactReport, compact_file};

use crate::store::accounts::{AuditEntry, AuditQuery, StoredSession};
use crate::store::changes::ChangeSet;
use crate::store::engine::{Engine, Snapshot};
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry, Millis};
use crate::store::options::StoreOptions;
use crate::store::outbox::{Escalation, Notification, NotificationId};
use crate::store::page::Page;
use crate::store::queries::{
    BackupReport, Counts, DueFilter, ListQuery, NotificationQuery, OutboxStats, RetentionCutoffs,
};
use crate::store::writer::{BatchStats, WriterHandle};
use anyhow::Context;
use redb::{ReadTransaction, ReadableDatabase};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tables::SCHEMA_VERSION;

pub struct Embedded {
    slot: Arc<slot::DbSlot>,
    writer_thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Dropped on close, which ends the recovery thread.
    stop_recovery: std::sync::mpsc::Sender<()>,
    recovery_thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    next_incident_id: AtomicU64,
    next_failure_id: AtomicU64,
    next_notification_id: AtomicU64,
}

impl Embedded {
    /// Opens (or creates) the database at `path` and starts the writer.
    pub fn open(
        path: &Path,
        options: StoreOptions,
        on_batch: impl Fn(BatchStats) + Send + 'static,
        outbox_signal: Arc<tokio::sync::Notify>,
    ) -> anyhow::Result<(Embedded, WriterHandle)> {
        // Every event body is in there: owner-only when inbound creates it.
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::create_private_dir(parent).with_context(|| {
                format!("cannot create the data directory {}", parent.display())
            })?;
        }
        crate::files::create_private_file(path)
            .with_context(|| format!("cannot create the database {}", path.display()))?;
        let open = || {
            slot::open_database(path, options.cache_bytes).map_err(|error| match error {
                // redb's own words ("Database already open. Cannot acquire lock.")
                // do not say who holds it: almost always another inbound.
                redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
                    "the database {} is already open in another process, probably another inbound serving this storage.path; stop that one, or give this one its own storage.path",
                    path.display()
                ),
                error => anyhow::Error::new(error)
                    .context(format!("cannot open the database {}", path.display())),
            })
        };
        let keep_copy = |old: u64| -> anyhow::Result<()> {
            let copy = migrate::keep_copy(path, SCHEMA_VERSION)?;
            tracing::warn!(
                path = %path.display(),
                copy = %copy.display(),
                "migrating the database from schema {old} to {SCHEMA_VERSION}; the file as it was is kept as the copy (to go back, stop this release and put the copy in place)"
            );
            Ok(())
        };
        // Read without writing, so the copy is the old file byte for byte.
        let copied = match migrate::version_on_disk(path) {
            Some(old) if old < SCHEMA_VERSION => keep_copy(old).map(|()| true)?,
            _ => false,
        };
        let mut db = open()?;
        let version = migrate::stored_version(&db)
            .with_context(|| format!("cannot read the database {}", path.display()))?;
        if let Some(old) = version.filter(|v| *v < SCHEMA_VERSION && !copied) {
            // Not readable on its own (it needed a repair): copied closed.
            drop(db);
            keep_copy(old)?;
            db = open()?;
        }
        let (next_incident_id, next_failure_id, next_notification_id) = migrate::create_tables(&db)
            .with_context(|| format!("cannot prepare the database {}", path.display()))?;
        let slot = Arc::new(slot::DbSlot::new(path, db, options.cache_bytes));
        let (writer, thread) = writer::spawn(slot.clone(), options.writer, on_batch, outbox_signal)
            .context("cannot start the storage writer thread")?;
        let (stop_recovery, stop) = std::sync::mpsc::channel();
        let recovery = slot::spawn_recovery(slot.clone(), stop)
            .context("cannot start the storage recovery thread")?;
        let embedded = Embedded {
            slot,
            writer_thread: std::sync::Mutex::new(Some(thread)),
            stop_recovery,
            recovery_thread: std::sync::Mutex::new(Some(recovery)),
            next_incident_id: AtomicU64::new(next_incident_id),
            next_failure_id: AtomicU64::new(next_failure_id),
            next_notification_id: AtomicU64::new(next_notification_id),
        };
        Ok((embedded, writer))
    }

    /// A read transaction at the last commit, for one read.
    fn read(&self) -> Result<ReadTransaction, Error> {
        Ok(self.slot.get()?.begin_read()?)
    }
}

impl Engine for Embedded {
    fn is_shared(&self) -> bool {
        false
    }

    fn snapshot(&self) -> Result<Snapshot, Error> {
        Ok(Box::new(snapshot::EmbeddedSnapshot { txn: self.slot.read()? }))
    }

    fn allocate_incident_id(&self) -> Result<IncidentId, Error> {
        Ok(self.next_incident_id.fetch_add(1, Ordering::Relaxed))
    }

    fn allocate_failure_id(&self) -> Result<FailureId, Error> {
        Ok(self.next_failure_id.fetch_add(1, Ordering::Relaxed))
    }

    fn allocate_notification_id(&self) -> Result<NotificationId, Error> {
        Ok(self.next_notification_id.fetch_add(1, Ordering::Relaxed))
    }

    fn list(&self, query: &ListQuery) -> Result<Page<Incident>, Error> {
        reads::list(&self.read()?, query)
    }

    fn incident_with_log(
        &self,
        id: IncidentId,
    ) -> Result<Option<(Incident, Vec<LogEntry>)>, Error> {
        reads::incident_with_log(&self.read()?, id)
    }

    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        reads::incident(&self.read()?, id)
    }

    fn failures(
        &self,
        before: Option<FailureId>,
        limit: usize,
    ) -> Result<Page<FailedDelivery>, Error> {
        reads::failures(&self.read()?, before, limit)
    }

    fn failure(&self, id: FailureId) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error> {
        reads::failure(&self.read()?, id)
    }

    fn counts(&self, source: Option<&str>) -> Result<Counts, Error> {
        reads::counts(&self.read()?, source)
    }

    fn log_before(
        &self,
        id: IncidentId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        reads::log_before(&self.read()?, id, before, limit)
    }

    fn log_after(
        &self,
        id: IncidentId,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        reads::log_after(&self.read()?, id, after, limit)
    }

    fn newest_incident_of(&self, source: &str) -> Result<Option<Incident>, Error> {
        reads::newest_incident_of(&self.read()?, source)
    }

    fn due_escalations(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<(Escalation, Option<Incident>)>, Error> {
        outbox::due_escalations(&self.read()?, now, limit)
    }

    fn next_due(&self) -> Result<Option<Millis>, Error> {
        outbox::next_due(&self.read()?)
    }

    fn due_notifications(
        &self,
        now: Millis,
        limit: usize,
        filter: &DueFilter,
    ) -> Result<Vec<Notification>, Error> {
        outbox::due_notifications(&self.read()?, now, limit, filter)
    }

    fn notification(&self, id: NotificationId) -> Result<Option<Notification>, Error> {
        outbox::notification(&self.read()?, id)
    }

    fn notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>, Error> {
        outbox::notifications(&self.read()?, query)
    }

    fn escalation_of(&self, incident: IncidentId) -> Result<Option<Escalation>, Error> {
        outbox::escalation_of(&self.read()?, incident)
    }

    fn outbox_stats(&self) -> Result<OutboxStats, Error> {
        outbox::outbox_stats(&self.read()?)
    }

    fn password_hash(&self, person: &str) -> Result<Option<String>, Error> {
        accounts::password_hash(&self.read()?, person)
    }

    fn session(&self, key: &str) -> Result<Option<StoredSession>, Error> {
        accounts::session(&self.read()?, key)
    }

    fn audit(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, Error> {
        accounts::audit(&self.read()?, query)
    }

    fn shifts(&self, after: Millis) -> Result<Vec<crate::store::Shift>, Error> {
        accounts::shifts(&self.read()?, after)
    }

    fn feed_key_owner(&self, digest: &str) -> Result<Option<String>, Error> {
        accounts::feed_key_owner(&self.read()?, digest)
    }

    fn records(
        &self,
        kind: crate::store::keyed::RecordKind,
    ) -> Result<Vec<(String, Vec<u8>)>, Error> {
        keyed::records(&self.read()?, kind)
    }

    fn record(
        &self,
        kind: crate::store::keyed::RecordKind,
        name: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        keyed::record(&self.read()?, kind, name)
    }

    fn expired(&self, cutoffs: RetentionCutoffs) -> Result<ChangeSet, Error> {
        retention::expired(&self.read()?, cutoffs)
    }

    fn backup_to(&self, destination: &Path) -> Result<BackupReport, Error> {
        backup::backup_to(&self.slot, destination)
    }

    fn is_ready(&self) -> bool {
        self.slot.get().is_ok_and(|db| db.begin_read().is_ok())
    }

    fn free_bytes(&self) -> Option<u64> {
        self.slot.free_bytes()
    }

    /// Waits for the writer thread (its handle is dropped already) and the
    /// recovery thread to end.
    fn shut_down(self: Box<Self>) {
        let Embedded { writer_thread, stop_recovery, recovery_thread, .. } = *self;
        drop(stop_recovery);
        for thread in [writer_thread, recovery_thread] {
            if let Some(thread) = thread.lock().ok().and_then(|mut t| t.take()) {
                let _ = thread.join();
            }
        }
    }
}

/// An engine on its own database for the tests of this folder, with its
/// writer: what the store does, minus the store.
#[cfg(test)]
mod testing {
    use super::*;
    use crate::store::writer::CommitError;

    pub struct TestEngine {
        engine: Embedded,
        writer: WriterHandle,
    }

    impl TestEngine {
        /// Opens (or creates) the database at `path`.
        pub fn open(path: &Path) -> TestEngine {
            let signal = Arc::new(tokio::sync::Notify::new());
            let (engine, writer) =
                Embedded::open(path, StoreOptions::default(), |_| {}, signal).unwrap();
            TestEngine { engine, writer }
        }

        /// Commits `changes` through the writer and waits for the answer.
        pub fn commit(&self, changes: ChangeSet) -> Result<(), CommitError> {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(self.writer.commit(changes))
        }

        /// Lets the database go, so that the test can open the file itself.
        pub fn close(self) {
            drop(self.writer);
            Box::new(self.engine).shut_down();
        }
    }

    impl std::ops::Deref for TestEngine {
        type Target = Embedded;

        fn deref(&self) -> &Embedded {
            &self.engine
        }
    }
}
