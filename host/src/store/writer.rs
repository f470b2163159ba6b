//! What both engines' writers share: the queue change sets wait in for a
//! group commit, the answer each gets, and what a batch reports.
//!
//! Each engine has one writer (a thread on redb, a task on PostgreSQL) that
//! takes every change set waiting, applies them in one transaction, commits
//! once (durably), and only then answers each caller. Under load the batch
//! grows by itself while the previous commit is syncing; alone, a request
//! waits for nothing but its own commit.

use super::changes::ChangeSet;
use super::error::Error;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Why a change set was not committed.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CommitError {
    /// Something the plugin read changed before its writes could be applied.
    /// Run the call again on a fresh snapshot.
    #[error("conflicting concurrent change")]
    Conflict,
    /// A precondition of the change set no longer holds; retrying cannot help.
    #[error("{0}")]
    Refused(String),
    #[error("storage failure: {0}")]
    Storage(String),
    /// The disk failed or is full; nothing was written. Retry later.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("the storage writer has stopped")]
    WriterStopped,
}

/// Size of one committed batch, for metrics and benchmarks.
#[derive(Debug, Clone, Copy)]
pub struct BatchStats {
    pub change_sets: usize,
    pub commit_seconds: f64,
    /// Set when the batch failed: `unavailable` (the disk) or `engine`.
    pub failed: Option<&'static str>,
}

impl BatchStats {
    /// What a batch that began committing at `started` reports, by its
    /// change sets' `results`. A storage failure fails the whole batch
    /// alike, so the first result says whether it failed.
    pub fn of(results: &[Result<(), CommitError>], started: Instant) -> BatchStats {
        let failed = match results.first() {
            Some(Err(CommitError::Unavailable(_))) => Some("unavailable"),
            Some(Err(CommitError::Storage(_))) => Some("engine"),
            _ => None,
        };
        let commit_seconds = started.elapsed().as_secs_f64();
        BatchStats { change_sets: results.len(), commit_seconds, failed }
    }
}

/// One change set waiting for a commit, and where its result goes.
pub struct Job {
    pub changes: ChangeSet,
    pub reply: oneshot::Sender<Result<(), CommitError>>,
}

#[derive(Clone)]
pub struct WriterHandle {
    jobs: mpsc::Sender<Job>,
}

impl WriterHandle {
    /// A handle and the queue an engine's writer takes jobs from, holding at
    /// most `queue` before senders wait.
    pub fn channel(queue: usize) -> (WriterHandle, mpsc::Receiver<Job>) {
        let (jobs, receiver) = mpsc::channel(queue);
        (WriterHandle { jobs }, receiver)
    }

    /// Applies `changes` and returns once they are durably committed.
    pub async fn commit(&self, changes: ChangeSet) -> Result<(), CommitError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { changes, reply }).await.map_err(|_| CommitError::WriterStopped)?;
        answer.await.map_err(|_| CommitError::WriterStopped)?
    }
}

impl From<Error> for CommitError {
    /// A read or write that failed fails the commit alike: unavailable
    /// (retry later) or a storage failure.
    fn from(error: Error) -> CommitError {
        match error {
            Error::Unavailable(why) => CommitError::Unavailable(why),
            other => CommitError::Storage(other.to_string()),
        }
    }
}

/// Moves the change sets already waiting in `queue` into `batch` (which
/// holds the first), up to `max_batch` in all: the batch grows with the load.
pub fn take_waiting(batch: &mut Vec<Job>, queue: &mut mpsc::Receiver<Job>, max_batch: usize) {
    while batch.len() < max_batch {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Answers each change set of `batch` with its result, in order, and
/// empties the batch for the next.
pub fn answer(batch: &mut Vec<Job>, results: Vec<Result<(), CommitError>>) {
    for (job, result) in batch.drain(..).zip(results) {
        let _ = job.reply.send(result);
    }
}
