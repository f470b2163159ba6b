//! Online backup: a consistent copy of the database taken while the host
//! serves. The copy is one read transaction (a snapshot at the last commit)
//! written row by row into a new database file with a durable commit, so it
//! holds every change acknowledged before the backup began and nothing half
//! written, and the live database keeps taking commits meanwhile.

use super::slot::DbSlot;
use super::tables::copy_all;
use crate::store::error::Error;
use crate::store::queries::BackupReport;
use redb::{Database, Durability, ReadableDatabase, ReadableTableMetadata};
use std::path::Path;

/// Writes a consistent copy of the database in `slot` to `destination`,
/// which must not exist yet. Blocking: run it off the async runtime.
pub fn backup_to(slot: &DbSlot, destination: &Path) -> Result<BackupReport, Error> {
    if destination.exists() {
        return Err(Error::Unavailable(format!(
            "{} already exists; a backup never overwrites a file",
            destination.display()
        )));
    }
    let snapshot = slot.get()?.begin_read()?;
    let copy = Database::create(destination)?;
    let mut txn = copy.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    let rows = copy_all(&snapshot, &txn)?;
    txn.commit()?;
    drop(copy);
    let bytes = std::fs::metadata(destination).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { rows, bytes })
}

/// Opens the database file at `path` on its own (no host may hold it) and
/// counts its incidents: proof that a backup or a file to restore is a
/// database this build reads.
pub fn check_file(path: &Path) -> Result<u64, Error> {
    let database = Database::open(path)?;
    let incidents = database.begin_read()?.open_table(super::tables::INCIDENTS)?;
    Ok(incidents.len()?)
}
