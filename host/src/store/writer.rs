//! The single storage writer: group commit.
//!
//! redb allows one write transaction at a time and a durable commit costs an
//! fsync. Instead of one commit per request, one thread takes every change set
//! that is waiting, applies them in one write transaction, commits once
//! (durably), and only then answers each caller. Under load the batch grows by
//! itself while the previous commit is syncing; alone, a request waits for
//! nothing but its own commit.

use super::changes::{ChangeSet, ReadCheck, Write};
use super::model::Incident;
use super::reads::{self, encode};
use super::tables::*;
use redb::{Database, Durability, ReadableTable, WriteTransaction};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Why a change set was not committed.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CommitError {
    /// Something the plugin read changed before its writes could be applied.
    /// Run the call again on a fresh snapshot.
    #[error("conflicting concurrent change")]
    Conflict,
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("the storage writer has stopped")]
    WriterStopped,
}

/// Size of one committed batch, for metrics and benchmarks.
#[derive(Debug, Clone, Copy)]
pub struct BatchStats {
    pub change_sets: usize,
    pub commit_seconds: f64,
}

struct Job {
    changes: ChangeSet,
    reply: oneshot::Sender<Result<(), CommitError>>,
}

#[derive(Clone)]
pub struct WriterHandle {
    jobs: mpsc::Sender<Job>,
}

impl WriterHandle {
    /// Applies `changes` and returns once they are durably committed.
    pub async fn commit(&self, changes: ChangeSet) -> Result<(), CommitError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { changes, reply }).await.map_err(|_| CommitError::WriterStopped)?;
        answer.await.map_err(|_| CommitError::WriterStopped)?
    }
}

pub struct WriterOptions {
    /// Most change sets in one transaction; bounds the latency of a batch.
    pub max_batch: usize,
    /// Requests waiting for the writer before senders are made to wait.
    pub queue: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { max_batch: 1024, queue: 8192 }
    }
}

/// Starts the writer thread. It stops when every handle is dropped, after
/// committing what it has received.
pub fn spawn(
    db: Arc<Database>,
    options: WriterOptions,
    on_batch: impl Fn(BatchStats) + Send + 'static,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (jobs, mut queue) = mpsc::channel::<Job>(options.queue);
    let max_batch = options.max_batch.max(1);
    let thread = std::thread::Builder::new().name("inbound-writer".into()).spawn(move || {
        let mut batch = Vec::with_capacity(max_batch);
        while let Some(first) = queue.blocking_recv() {
            batch.push(first);
            while batch.len() < max_batch {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let started = Instant::now();
            let change_sets = batch.len();
            let results = commit_batch(&db, &batch);
            on_batch(BatchStats { change_sets, commit_seconds: started.elapsed().as_secs_f64() });
            for (job, result) in batch.drain(..).zip(results) {
                let _ = job.reply.send(result);
            }
        }
    })?;
    Ok((WriterHandle { jobs }, thread))
}

/// Applies each change set whose reads still hold, commits once, and returns
/// one result per change set in order.
fn commit_batch(db: &Database, batch: &[Job]) -> Vec<Result<(), CommitError>> {
    let storage_failure = |error: String| vec![Err(CommitError::Storage(error)); batch.len()];
    let mut txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(error) => return storage_failure(error.to_string()),
    };
    if let Err(error) = txn.set_durability(Durability::Immediate) {
        return storage_failure(error.to_string());
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let outcome = match reads_still_hold(&txn, &job.changes.reads) {
            Ok(true) => apply(&txn, &job.changes.writes).map_err(|error| error.to_string()),
            Ok(false) => {
                results.push(Err(CommitError::Conflict));
                continue;
            }
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = outcome {
            // A half-applied change set must not be committed: abandon the
            // whole transaction (dropping it aborts) and fail the batch.
            return storage_failure(error);
        }
        results.push(Ok(()));
    }
    if let Err(error) = txn.commit() {
        return storage_failure(error.to_string());
    }
    results
}

fn reads_still_hold(txn: &WriteTransaction, checks: &[ReadCheck]) -> Result<bool, redb::Error> {
    for check in checks {
        let holds = match check {
            ReadCheck::OpenIncident { source, key, expected } => {
                reads::id_for_key(&txn.open_table(OPEN_BY_KEY)?, source, key)? == *expected
            }
            ReadCheck::LatestIncident { source, key, expected } => {
                reads::id_for_key(&txn.open_table(LATEST_BY_KEY)?, source, key)? == *expected
            }
            ReadCheck::IncidentVersion { id, expected } => {
                reads::incident(&txn.open_table(INCIDENTS)?, *id)?.map(|i| i.version) == *expected
            }
            ReadCheck::State { source, key, expected } => {
                reads::state_value(&txn.open_table(PLUGIN_STATE)?, source, key)? == *expected
            }
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

fn apply(txn: &WriteTransaction, writes: &[Write]) -> Result<(), redb::Error> {
    for write in writes {
        match write {
            Write::PutIncident(incident) => put_incident(txn, incident)?,
            Write::AppendLog { incident, entry } => {
                let mut meta = txn.open_table(META)?;
                let seq = meta.get(META_NEXT_LOG_SEQ)?.map_or(0, |v| v.value());
                meta.insert(META_NEXT_LOG_SEQ, seq + 1)?;
                txn.open_table(INCIDENT_LOG)?.insert((*incident, seq), encode(entry).as_slice())?;
            }
            Write::SetState { source, key, value } => {
                let mut table = txn.open_table(PLUGIN_STATE)?;
                let old = table.insert((source.as_str(), key.as_str()), value.as_slice())?;
                let old = old.map_or(0, |v| (key.len() + v.value().len()) as i64);
                drop(table);
                adjust_state_bytes(txn, source, (key.len() + value.len()) as i64 - old)?;
            }
            Write::DeleteState { source, key } => {
                let mut table = txn.open_table(PLUGIN_STATE)?;
                let old = table.remove((source.as_str(), key.as_str()))?;
                let old = old.map_or(0, |v| (key.len() + v.value().len()) as i64);
                drop(table);
                adjust_state_bytes(txn, source, -old)?;
            }
            Write::PutFailure { failure, body } => {
                txn.open_table(FAILED_DELIVERIES)?.insert(failure.id, encode(failure).as_slice())?;
                if let Some(body) = body {
                    txn.open_table(FAILED_BODIES)?.insert(failure.id, body.as_slice())?;
                }
            }
        }
    }
    Ok(())
}

fn adjust_state_bytes(txn: &WriteTransaction, source: &str, delta: i64) -> Result<(), redb::Error> {
    if delta == 0 {
        return Ok(());
    }
    let mut table = txn.open_table(STATE_BYTES)?;
    let current = table.get(source)?.map_or(0, |v| v.value());
    table.insert(source, current.saturating_add_signed(delta))?;
    Ok(())
}

/// Stores `incident` and moves its index entries from its old status to the new.
fn put_incident(txn: &WriteTransaction, incident: &Incident) -> Result<(), redb::Error> {
    let mut incidents = txn.open_table(INCIDENTS)?;
    let previous = reads::incident(&incidents, incident.id)?;
    incidents.insert(incident.id, encode(incident).as_slice())?;

    let (source, key, id) = (incident.source.as_str(), incident.key.as_str(), incident.id);
    let mut by_status = txn.open_table(BY_STATUS)?;
    let mut by_source_status = txn.open_table(BY_SOURCE_STATUS)?;
    match &previous {
        Some(old) => {
            by_status.remove((old.status.code(), id))?;
            by_source_status.remove((source, old.status.code(), id))?;
        }
        None => {
            txn.open_table(BY_SOURCE)?.insert((source, id), ())?;
            txn.open_table(LATEST_BY_KEY)?.insert((source, key), id)?;
        }
    }
    by_status.insert((incident.status.code(), id), ())?;
    by_source_status.insert((source, incident.status.code(), id), ())?;

    let mut open_by_key = txn.open_table(OPEN_BY_KEY)?;
    let was_open = previous.as_ref().is_some_and(|old| old.status.is_open());
    match (was_open, incident.status.is_open()) {
        (false, true) => {
            open_by_key.insert((source, key), id)?;
        }
        (true, false) => {
            open_by_key.remove((source, key))?;
        }
        _ => {}
    }
    Ok(())
}

