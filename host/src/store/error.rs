//! The one error type storage hands out: callers outside `store/` never see
//! redb's types, so the engine can change behind this module.

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The disk failed or is full, or the database is being reopened after
    /// such a failure. Nothing was written; the same request can succeed
    /// later (the host reopens the database by itself).
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// Anything else redb reports, with its message.
    #[error(transparent)]
    Engine(redb::Error),
    /// Anything else PostgreSQL reports (a query the server refused, a
    /// record that does not decode), with its message.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// The operation exists for the other engine only.
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    /// A record that cannot be decoded, or a database this build cannot read.
    pub fn corrupted(message: impl Into<String>) -> Error {
        Error::Engine(redb::Error::Corrupted(message.into()))
    }

    /// True when retrying later can succeed: answer 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

impl From<redb::Error> for Error {
    fn from(error: redb::Error) -> Error {
        match error {
            redb::Error::Io(error) => Error::Unavailable(format!("I/O error: {error}")),
            redb::Error::PreviousIo => Error::Unavailable(
                "an earlier write failed; the database is being reopened".to_string(),
            ),
            other => Error::Engine(other),
        }
    }
}

/// redb has one error type per operation; each converts into [`Error`].
macro_rules! from_redb {
    ($($kind:ty),*) => {
        $(impl From<$kind> for Error {
            fn from(error: $kind) -> Error {
                Error::from(redb::Error::from(error))
            }
        })*
    };
}

from_redb!(
    redb::StorageError,
    redb::TransactionError,
    redb::TableError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError
);
