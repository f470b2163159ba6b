//! The open database, and getting it back after the disk failed.
//!
//! After an I/O error (a full disk, most often) redb refuses every further
//! operation until the database is closed and opened again. So the writer
//! [`DbSlot::fail`]s the slot on such an error: new reads and commits are
//! answered "unavailable" at once, and a recovery thread reopens the file
//! as soon as the last transaction of the old handle has ended and the disk
//! lets redb open (and if need be repair) it.

use crate::store::error::Error;
use arc_swap::ArcSwapOption;
use redb::{Database, ReadTransaction, ReadableDatabase};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the recovery thread tries to reopen a failed database.
const REOPEN_EVERY: Duration = Duration::from_millis(250);
/// How long a free-space reading is reused: a statvfs per webhook is cheap,
/// but not free, and a second is precise enough for a floor of megabytes.
const FREE_SPACE_FRESH_FOR: Duration = Duration::from_secs(1);

pub(super) struct DbSlot {
    path: PathBuf,
    cache_bytes: usize,
    db: ArcSwapOption<Database>,
    /// Serializes reopening (the recovery thread and an explicit retry).
    reopening: Mutex<()>,
    /// The last free-space reading and when it was taken (ms since `epoch`).
    free_bytes: AtomicU64,
    free_read_at: AtomicU64,
    epoch: Instant,
    /// Commits that changed something, counted by the writer.
    commits: AtomicU64,
    /// The read transaction begun after commit number `.0`, shared by every
    /// snapshot taken until the next commit.
    shared_read: Mutex<Option<(u64, Arc<ReadTransaction>)>>,
}

impl DbSlot {
    pub fn new(path: &Path, db: Database, cache_bytes: usize) -> DbSlot {
        DbSlot {
            path: path.to_path_buf(),
            cache_bytes,
            db: ArcSwapOption::from_pointee(db),
            reopening: Mutex::new(()),
            free_bytes: AtomicU64::new(u64::MAX),
            free_read_at: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
            commits: AtomicU64::new(0),
            shared_read: Mutex::new(None),
        }
    }

    /// Called by the writer after a commit that changed something, before
    /// it answers the change sets: a snapshot taken after that answer must
    /// see the commit (a retry after a conflict depends on it).
    pub fn committed(&self) {
        self.commits.fetch_add(1, Ordering::Release);
        // Let the stale read go now, not at the next snapshot: redb reuses
        // the pages a commit frees only once no older read is alive, and a
        // quiet host may take no snapshot for hours.
        self.shared_read.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// A read transaction that sees every commit so far. Webhooks arriving
    /// between two group commits share one (beginning a read per event was
    /// a measurable part of the request path); the first snapshot after a
    /// commit begins the next.
    pub fn read(&self) -> Result<Arc<ReadTransaction>, Error> {
        // Read the count before beginning: the transaction then sees at
        // least that commit, so it is never shared past a newer one.
        let commits = self.commits.load(Ordering::Acquire);
        let mut shared = self.shared_read.lock().unwrap_or_else(|e| e.into_inner());
        // Under the lock: `fail` drops the handle, then clears the shared
        // read under this lock, so no read of a failed handle outlives it.
        let db = self.get()?;
        if let Some((at, txn)) = shared.as_ref()
            && *at == commits
        {
            return Ok(txn.clone());
        }
        let txn = Arc::new(db.begin_read()?);
        *shared = Some((commits, txn.clone()));
        Ok(txn)
    }

    /// The database, unless it failed and is not reopened yet.
    pub fn get(&self) -> Result<Arc<Database>, Error> {
        self.db.load_full().ok_or_else(|| {
            Error::Unavailable("the database is being reopened after a failed write".to_string())
        })
    }

    pub fn is_open(&self) -> bool {
        self.db.load().is_some()
    }

    /// Drops this handle on the database after an I/O failure.
    pub fn fail(&self, why: &str) {
        let was_open = self.db.swap(None).is_some();
        // The shared read holds the old handle open; reopening waits for it.
        self.shared_read.lock().unwrap_or_else(|e| e.into_inner()).take();
        if was_open {
            tracing::error!(
                path = %self.path.display(),
                "storage failed ({why}); answering 503 until the database is reopened"
            );
        }
    }

    /// Opens the database again if it failed. True when it is open.
    pub fn reopen(&self) -> bool {
        let _one_at_a_time = self.reopening.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_open() {
            return true;
        }
        match open_database(&self.path, self.cache_bytes) {
            Ok(db) => {
                self.db.store(Some(Arc::new(db)));
                tracing::info!(path = %self.path.display(), "database reopened; storage is available again");
                true
            }
            // Still held by transactions of the old handle, or the disk is
            // still full: the next round tries again.
            Err(error) => {
                tracing::debug!("database not reopened yet: {error}");
                false
            }
        }
    }

    /// Bytes available to the host on the database's filesystem, read at
    /// most once a second. `None` where the system cannot tell.
    pub fn free_bytes(&self) -> Option<u64> {
        let now = self.epoch.elapsed().as_millis() as u64;
        let read_at = self.free_read_at.load(Ordering::Relaxed);
        if read_at != u64::MAX
            && now.saturating_sub(read_at) < FREE_SPACE_FRESH_FOR.as_millis() as u64
        {
            return Some(self.free_bytes.load(Ordering::Relaxed));
        }
        let folder =
            self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let stats = rustix::fs::statvfs(folder).ok()?;
        let free = stats.f_bavail.saturating_mul(stats.f_frsize);
        self.free_bytes.store(free, Ordering::Relaxed);
        self.free_read_at.store(now, Ordering::Relaxed);
        Some(free)
    }
}

/// Opens (or creates) the database file with a page cache of `cache_bytes`.
pub(super) fn open_database(
    path: &Path,
    cache_bytes: usize,
) -> Result<Database, redb::DatabaseError> {
    redb::Builder::new().set_cache_size(cache_bytes).create(path)
}

/// Starts the thread that reopens a failed database. It ends when `stop`'s
/// sender is dropped.
pub(super) fn spawn_recovery(
    slot: Arc<DbSlot>,
    stop: std::sync::mpsc::Receiver<()>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("inbound-storage-recovery".into()).spawn(move || {
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(REOPEN_EVERY)
        {
            if !slot.is_open() {
                slot.reopen();
            }
        }
    })
}
