//! redb's errors as the store reports them (see `store::error`).

use crate::store::error::Error;

impl From<redb::Error> for Error {
    fn from(error: redb::Error) -> Error {
        match error {
            redb::Error::Io(error) => Error::Unavailable(format!("I/O error: {error}")),
            redb::Error::PreviousIo => Error::Unavailable(
                "an earlier write failed; the database is being reopened".to_string(),
            ),
            redb::Error::Corrupted(message) => Error::Corrupted(message),
            error @ redb::Error::UpgradeRequired(_) => Error::Corrupted(error.to_string()),
            other => Error::Other(other.to_string()),
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
