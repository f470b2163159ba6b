//! The one error type storage hands out, by what went wrong rather than by
//! which engine said it: callers outside `store/` never see redb's or
//! PostgreSQL's types, and decide by kind (retry later, not supported here,
//! or a failure). Each engine turns its own errors into these kinds in its
//! folder (`embedded/error.rs`, `postgres/error.rs`).

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The disk failed or is full, the database is being reopened after
    /// such a failure, or the database server is unreachable. Nothing was
    /// written; the same request can succeed later (the host reopens the
    /// database, or reconnects, by itself).
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// A record that cannot be decoded, or a database this build cannot
    /// read (damaged, or written by a newer release).
    #[error("the stored data cannot be read: {0}")]
    Corrupted(String),
    /// The operation exists for the other engine only.
    #[error("{0}")]
    Unsupported(String),
    /// Anything else the engine reports (a query the server refused, a
    /// transaction it could not begin), with its message.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// True when retrying later can succeed: answer 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}
