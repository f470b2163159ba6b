//! `inbound compact`: give the space that deleted rows left back to the
//! filesystem. redb reuses freed pages for later commits by itself; only a
//! compaction makes the file smaller, and it needs the database to itself,
//! so it runs while no host serves the file (the lock says so).

use anyhow::{Context, bail};
use std::path::Path;

/// File sizes before and after a compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactReport {
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Compacts the database at `path`; refuses while another process (a
/// serving host) has it open.
pub fn compact_file(path: &Path) -> anyhow::Result<CompactReport> {
    let size = || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if !path.is_file() {
        bail!("there is no database at {}", path.display());
    }
    let bytes_before = size();
    let mut db = match redb::Database::open(path) {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => bail!(
            "{} is open in another process, probably the host serving it: stop the host, compact, start it again (retention keeps reusing freed space meanwhile)",
            path.display()
        ),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot open {}", path.display()));
        }
    };
    // Each pass moves pages toward the start; stop when one frees nothing.
    while db.compact().with_context(|| format!("cannot compact {}", path.display()))? {}
    drop(db);
    Ok(CompactReport { bytes_before, bytes_after: size() })
}
