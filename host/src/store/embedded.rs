//! The embedded engine: one redb file, written by one group-commit thread.
//!
//! Everything here runs on the caller's thread (reads) or the writer thread
//! (commits); [`Store`](super::Store) picks this engine for
//! `storage.backend = "redb"`, the default.

mod backup;
mod compact;
mod error;
mod migrate;
mod outbox;
mod reads;
mod records;
mod repeats;
mod retention;
mod slot;
mod tables;
mod writer;

pub use backup::check_file;
pub use compact::{CompactReport, compact_file};

use crate::store::error::Error;
use crate::store::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry};
use crate::store::options::StoreOptions;
use crate::store::outbox::NotificationId;
use crate::store::page::Page;
use crate::store::queries::ListQuery;
use crate::store::writer::{BatchStats, WriterHandle};
use anyhow::Context;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tables::*;

pub(super) struct Embedded {
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
        let (next_incident_id, next_failure_id, next_notification_id) = create_tables(&db)
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

    /// A consistent read-only view for one plugin call.
    pub fn snapshot(&self) -> Result<EmbeddedSnapshot, Error> {
        Ok(EmbeddedSnapshot { txn: self.slot.read()? })
    }

    pub fn allocate_incident_id(&self) -> Result<IncidentId, Error> {
        Ok(self.next_incident_id.fetch_add(1, Ordering::Relaxed))
    }

    pub fn allocate_failure_id(&self) -> Result<FailureId, Error> {
        Ok(self.next_failure_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Waits for the writer thread (its handle is dropped already) and the
    /// recovery thread to end.
    pub fn close(self) {
        let Embedded { writer_thread, stop_recovery, recovery_thread, .. } = self;
        drop(stop_recovery);
        for thread in [writer_thread, recovery_thread] {
            if let Some(thread) = thread.lock().ok().and_then(|mut t| t.take()) {
                let _ = thread.join();
            }
        }
    }

    pub fn list(&self, query: &ListQuery) -> Result<Page<Incident>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let incidents = txn.open_table(INCIDENTS)?;
        let before = query.before.unwrap_or(u64::MAX);
        let limit = query.limit;
        // Each index is ordered by id within its prefix, so walking it backwards
        // from `before` yields newest first and stops after one page.
        let ids = match (&query.source, query.status) {
            (None, None) => {
                let ids = incidents.range(..before)?.rev().map(|entry| Ok(entry?.0.value()));
                Page::read(ids, limit, |id| *id)
            }
            (None, Some(status)) => {
                let table = txn.open_table(BY_STATUS)?;
                let code = status.code();
                let range = table.range((code, 0)..(code, before))?.rev();
                Page::read(range.map(|entry| Ok(entry?.0.value().1)), limit, |id| *id)
            }
            (Some(source), None) => {
                let table = txn.open_table(BY_SOURCE)?;
                let range = table.range((source.as_str(), 0)..(source.as_str(), before))?.rev();
                Page::read(range.map(|entry| Ok(entry?.0.value().1)), limit, |id| *id)
            }
            (Some(source), Some(status)) => {
                let table = txn.open_table(BY_SOURCE_STATUS)?;
                let code = status.code();
                let range = (source.as_str(), code, 0)..(source.as_str(), code, before);
                let range = table.range(range)?.rev();
                Page::read(range.map(|entry| Ok(entry?.0.value().2)), limit, |id| *id)
            }
        }
        .map_err(|error: redb::StorageError| Error::from(error))?;
        let mut page = Vec::with_capacity(ids.items.len());
        for id in ids.items {
            if let Some(incident) = records::incident(&incidents, id)? {
                page.push(incident);
            }
        }
        Ok(Page { items: page, next: ids.next })
    }

    /// The incident and its whole log, oldest entry first. For tests and
    /// the plugin harness: a busy incident's log is large, so the API and
    /// the console read it a page at a time ([`Store::log_before`],
    /// [`Store::log_after`]).
    pub fn incident_with_log(
        &self,
        id: IncidentId,
    ) -> Result<Option<(Incident, Vec<LogEntry>)>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let Some(incident) = records::incident(&txn.open_table(INCIDENTS)?, id)? else {
            return Ok(None);
        };
        let log_table = txn.open_table(INCIDENT_LOG)?;
        let bodies = txn.open_table(EVENT_BODIES)?;
        let mut log = Vec::new();
        for entry in log_table.range((id, 0)..=(id, u64::MAX))? {
            log.push(records::log_entry(&bodies, entry?.1.value())?);
        }
        Ok(Some((incident, log)))
    }

    /// The incident, if it exists.
    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        Ok(records::incident(&txn.open_table(INCIDENTS)?, id)?)
    }

    /// Failed deliveries, newest first, one page at a time.
    pub fn failures(
        &self,
        before: Option<FailureId>,
        limit: usize,
    ) -> Result<Page<FailedDelivery>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let table = txn.open_table(FAILED_DELIVERIES)?;
        let range = table.range(..before.unwrap_or(u64::MAX))?.rev();
        let failures = range.map(|entry| Ok(records::decode(entry?.1.value())?));
        Page::read(failures, limit, |failure: &FailedDelivery| failure.id)
    }

    /// One failed delivery and its original body.
    pub fn failure(&self, id: FailureId) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let Some(record) = txn.open_table(FAILED_DELIVERIES)?.get(id)? else {
            return Ok(None);
        };
        let failure: FailedDelivery = records::decode(record.value())?;
        let body =
            txn.open_table(FAILED_BODIES)?.get(id)?.map(|b| b.value().to_vec()).unwrap_or_default();
        Ok(Some((failure, body)))
    }

    /// True when the database is open (not failed and waiting to be
    /// reopened) and a read transaction can be begun.
    pub fn is_ready(&self) -> bool {
        self.slot.get().is_ok_and(|db| db.begin_read().is_ok())
    }

    /// Bytes free for the database on its filesystem (read at most once a
    /// second); `None` where the system cannot tell.
    pub fn free_bytes(&self) -> Option<u64> {
        self.slot.free_bytes()
    }
}

/// Creates missing tables, checks the schema version, and returns the next
/// free incident, failure and notification ids.
fn create_tables(db: &Database) -> Result<(IncidentId, FailureId, NotificationId), Error> {
    let txn = db.begin_write()?;
    let (next_id, next_failure_id, next_notification_id);
    let mut migrate_from = None;
    {
        let mut tables = Tables::open(&txn)?;
        let version = tables.meta.get(META_SCHEMA_VERSION)?.map(|v| v.value());
        match version {
            None => {
                tables.meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(old) if old < SCHEMA_VERSION => migrate_from = Some(old),
            Some(other) => {
                return Err(Error::Corrupted(format!(
                    "database schema version {other} was written by a newer release (this build reads up to {SCHEMA_VERSION}); run that release, or restore a backup"
                )));
            }
        }
        next_id = tables.incidents.last()?.map_or(1, |(id, _)| id.value() + 1);
        next_failure_id = tables.failures.last()?.map_or(1, |(id, _)| id.value() + 1);
        next_notification_id = tables.notifications.last()?.map_or(1, |(id, _)| id.value() + 1);
    }
    if let Some(old) = migrate_from {
        migrate::migrate(&txn, old)?;
    }
    reads::fill_counts_once(&txn)?;
    txn.commit()?;
    Ok((next_id, next_failure_id, next_notification_id))
}

/// A consistent read-only view of the database at one moment.
pub(super) struct EmbeddedSnapshot {
    /// Shared with the other snapshots taken since the last commit.
    txn: Arc<ReadTransaction>,
}

impl EmbeddedSnapshot {
    pub fn open_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        Ok(records::id_for_key(&self.txn.open_table(OPEN_BY_KEY)?, source, key)?)
    }

    pub fn latest_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        Ok(records::id_for_key(&self.txn.open_table(LATEST_BY_KEY)?, source, key)?)
    }

    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        Ok(records::incident(&self.txn.open_table(INCIDENTS)?, id)?)
    }

    pub fn state(&self, source: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(records::state_value(&self.txn.open_table(PLUGIN_STATE)?, source, key)?)
    }

    /// Bytes of plugin state (keys + values) the source holds.
    pub fn state_bytes(&self, source: &str) -> Result<u64, Error> {
        Ok(self.txn.open_table(STATE_BYTES)?.get(source)?.map_or(0, |v| v.value()))
    }
}
