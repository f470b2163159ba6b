//! Optimistic concurrency, written once: build a change set from a fresh
//! read, commit it, and build it again if a concurrent commit changed what
//! it read. Webhooks (a plugin call per attempt) and people's actions (a
//! read of the incident per attempt) share it.

use super::Store;
use super::changes::ChangeSet;
use super::writer::CommitError;
use std::future::Future;

/// Attempts before giving up on a hot key. Each retry means another request
/// committed a change to the same key in between, so this only runs out
/// under a storm on one key.
pub const MAX_ATTEMPTS: usize = 32;

/// Why [`commit_with_retry`] gave up.
#[derive(Debug)]
pub enum Retried<E> {
    /// The attempt itself failed (a plugin error, a missing incident, ...).
    Attempt(E),
    /// The commit failed for a reason other than a conflict.
    Commit(CommitError),
    /// Every attempt conflicted with a concurrent change.
    Contended,
}

/// Runs `attempt` and commits the change set it returns; on a conflict runs
/// it again, up to [`MAX_ATTEMPTS`] times. An empty change set is not
/// committed. Returns the value of the attempt whose changes were committed.
pub async fn commit_with_retry<T, E, F, Fut>(store: &Store, mut attempt: F) -> Result<T, Retried<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(ChangeSet, T), E>>,
{
    for _ in 0..MAX_ATTEMPTS {
        let (changes, value) = attempt().await.map_err(Retried::Attempt)?;
        if changes.is_empty() {
            return Ok(value);
        }
        match store.commit(changes).await {
            Ok(()) => return Ok(value),
            Err(CommitError::Conflict) => continue,
            Err(error) => return Err(Retried::Commit(error)),
        }
    }
    Err(Retried::Contended)
}
