//! Opening a database: its tables created where missing, its schema
//! version checked, and the migrations run once when a database written by
//! an older release is opened. Before changing anything the file is copied
//! beside itself (`<name>.before-schema-N`), so an operator can go back to
//! the release that wrote it.
//!
//! - 1 → 2 (0.2 → 0.3): the `resolved_at` index that retention reads,
//!   filled from the resolved incidents (their last change is when they
//!   were resolved: resolved incidents are never reopened).
//! - 2 → 3: `event_bodies`, where an event about several incidents keeps
//!   its body once. Nothing to convert (entries written before keep their
//!   bodies inline); the version says that an older release, which would
//!   show those entries without a body, must not open the file.

use super::records;
use super::tables::*;
use crate::store::error::Error;
use crate::store::model::{FailureId, IncidentId, Status};
use crate::store::outbox::NotificationId;
use anyhow::Context;
use redb::{Database, ReadableDatabase, ReadableTable, WriteTransaction};
use std::path::{Path, PathBuf};

/// The schema version stored in `db`; `None` for a new, empty database.
pub fn stored_version(db: &Database) -> anyhow::Result<Option<u64>> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    Ok(meta.get(META_SCHEMA_VERSION)?.map(|v| v.value()))
}

/// The schema version of the database file at `path`, read without writing
/// to it; `None` when there is none or it cannot be read that way.
pub fn version_on_disk(path: &Path) -> Option<u64> {
    if std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
        return None;
    }
    let db = redb::ReadOnlyDatabase::open(path).ok()?;
    let txn = db.begin_read().ok()?;
    let meta = txn.open_table(META).ok()?;
    meta.get(META_SCHEMA_VERSION).ok()?.map(|v| v.value())
}

/// Copies the database file (closed by the caller) to
/// `<name>.before-schema-<to>`, never over an existing file.
pub fn keep_copy(path: &Path, to: u64) -> anyhow::Result<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut copy = path.with_file_name(format!("{name}.before-schema-{to}"));
    if copy.exists() {
        copy = path.with_file_name(format!(
            "{name}.before-schema-{to}-{}",
            crate::store::model::now_millis()
        ));
    }
    let mut target = crate::files::create_private(&copy)
        .with_context(|| format!("cannot create {}", copy.display()))?;
    std::io::copy(&mut std::fs::File::open(path)?, &mut target)
        .and_then(|_| target.sync_all())
        .with_context(|| {
            format!(
                "cannot copy {} to {} before migrating it (free some space, or copy it yourself and start again)",
                path.display(),
                copy.display()
            )
        })?;
    Ok(copy)
}

/// Creates missing tables, checks the schema version, and returns the next
/// free incident, failure and notification ids.
pub fn create_tables(db: &Database) -> Result<(IncidentId, FailureId, NotificationId), Error> {
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
        migrate(&txn, old)?;
    }
    fill_counts_once(&txn)?;
    txn.commit()?;
    Ok((next_id, next_failure_id, next_notification_id))
}

/// Brings a database of schema `from` up to [`SCHEMA_VERSION`] inside
/// `txn` (committed by the caller, with the rest of the start-up checks).
fn migrate(txn: &WriteTransaction, from: u64) -> Result<(), Error> {
    if from < 2 {
        fill_resolved_at(txn)?;
    }
    txn.open_table(META)?.insert(META_SCHEMA_VERSION, SCHEMA_VERSION)?;
    Ok(())
}

fn fill_resolved_at(txn: &WriteTransaction) -> Result<(), Error> {
    let by_status = txn.open_table(BY_STATUS)?;
    let incidents = txn.open_table(INCIDENTS)?;
    let mut index = txn.open_table(RESOLVED_AT)?;
    let code = Status::Resolved.code();
    for entry in by_status.range((code, 0)..=(code, u64::MAX))? {
        let id = entry?.0.value().1;
        if let Some(incident) = records::incident(&incidents, id)? {
            index.insert((incident.updated_at, id), ())?;
        }
    }
    Ok(())
}

/// Fills [`COUNTS`] from the status index the first time a database is opened
/// by a host that keeps counts; later the writer keeps them in step.
fn fill_counts_once(txn: &WriteTransaction) -> Result<(), Error> {
    let mut meta = txn.open_table(META)?;
    if meta.get(META_COUNTS_READY)?.is_some() {
        return Ok(());
    }
    let index = txn.open_table(BY_SOURCE_STATUS)?;
    let mut counts = txn.open_table(COUNTS)?;
    let mut current: Option<(String, u8, u64)> = None;
    for entry in index.iter()? {
        let key = entry?.0;
        let (source, code, _) = key.value();
        match &mut current {
            Some((s, c, n)) if s == source && *c == code => *n += 1,
            _ => {
                if let Some((s, c, n)) = current.take() {
                    counts.insert((s.as_str(), c), n)?;
                }
                current = Some((source.to_string(), code, 1));
            }
        }
    }
    if let Some((s, c, n)) = current {
        counts.insert((s.as_str(), c), n)?;
    }
    meta.insert(META_COUNTS_READY, 1)?;
    Ok(())
}
