//! The one error type storage hands out: callers outside `store/` never see
//! redb's types, so the engine can change behind this module.

/// A storage operation failed. The message is redb's, with its context.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(redb::Error);

impl Error {
    /// A record that cannot be decoded, or a database this build cannot read.
    pub fn corrupted(message: impl Into<String>) -> Error {
        Error(redb::Error::Corrupted(message.into()))
    }
}

/// redb has one error type per operation; each converts into [`Error`].
macro_rules! from_redb {
    ($($kind:ty),*) => {
        $(impl From<$kind> for Error {
            fn from(error: $kind) -> Error {
                Error(error.into())
            }
        })*
    };
}

from_redb!(
    redb::Error,
    redb::StorageError,
    redb::TransactionError,
    redb::TableError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError
);
