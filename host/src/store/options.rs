//! How a store is opened and written, whichever the engine.

/// How the database is opened and written.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub writer: WriterOptions,
    /// redb's page cache. redb's own default (1 GiB) lets a busy host's
    /// memory grow with the database; the operating system's file cache
    /// still holds what does not fit.
    pub cache_bytes: usize,
}

/// `storage.cache_mib`'s default.
pub const DEFAULT_CACHE_MIB: usize = 32;

impl StoreOptions {
    /// For a database thrown away after use: commits skip the fsync (redb
    /// engine only; PostgreSQL's durability is the server's).
    pub fn scratch() -> StoreOptions {
        let writer = WriterOptions { durable: false, ..WriterOptions::default() };
        StoreOptions { writer, ..StoreOptions::default() }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { writer: WriterOptions::default(), cache_bytes: DEFAULT_CACHE_MIB << 20 }
    }
}

#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Most change sets in one transaction; bounds the latency of a batch.
    pub max_batch: usize,
    /// Requests waiting for the writer before senders are made to wait.
    pub queue: usize,
    /// Each commit reaches the disk before it is answered. Only a scratch
    /// database (a replay's, the test harness's), thrown away after use,
    /// turns this off: nothing else may answer before the fsync.
    pub durable: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { max_batch: 1024, queue: 8192, durable: true }
    }
}
