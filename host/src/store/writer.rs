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
use redb::{Database, Durability, ReadableTable, Table, WriteTransaction};
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
    let results = match apply_batch(&txn, batch) {
        Ok(results) => results,
        // A half-applied change set must not be committed: abandon the whole
        // transaction (dropping it aborts) and fail the batch.
        Err(error) => return storage_failure(error.to_string()),
    };
    if let Err(error) = txn.commit() {
        return storage_failure(error.to_string());
    }
    results
}

/// Every table a batch may touch, opened once per transaction: opening a
/// redb table per write dominated the cost of a batch.
struct Tables<'txn> {
    incidents: Table<'txn, u64, &'static [u8]>,
    open_by_key: Table<'txn, (&'static str, &'static str), u64>,
    latest_by_key: Table<'txn, (&'static str, &'static str), u64>,
    by_status: Table<'txn, (u8, u64), ()>,
    by_source: Table<'txn, (&'static str, u64), ()>,
    by_source_status: Table<'txn, (&'static str, u8, u64), ()>,
    log: Table<'txn, (u64, u64), &'static [u8]>,
    state: Table<'txn, (&'static str, &'static str), &'static [u8]>,
    state_bytes: Table<'txn, &'static str, u64>,
    failures: Table<'txn, u64, &'static [u8]>,
    failure_bodies: Table<'txn, u64, &'static [u8]>,
    counts: Table<'txn, (&'static str, u8), u64>,
    meta: Table<'txn, &'static str, u64>,
    next_log_seq: u64,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::Error> {
        let meta = txn.open_table(META)?;
        let next_log_seq = meta.get(META_NEXT_LOG_SEQ)?.map_or(0, |v| v.value());
        Ok(Tables {
            incidents: txn.open_table(INCIDENTS)?,
            open_by_key: txn.open_table(OPEN_BY_KEY)?,
            latest_by_key: txn.open_table(LATEST_BY_KEY)?,
            by_status: txn.open_table(BY_STATUS)?,
            by_source: txn.open_table(BY_SOURCE)?,
            by_source_status: txn.open_table(BY_SOURCE_STATUS)?,
            log: txn.open_table(INCIDENT_LOG)?,
            state: txn.open_table(PLUGIN_STATE)?,
            state_bytes: txn.open_table(STATE_BYTES)?,
            failures: txn.open_table(FAILED_DELIVERIES)?,
            failure_bodies: txn.open_table(FAILED_BODIES)?,
            counts: txn.open_table(COUNTS)?,
            meta,
            next_log_seq,
        })
    }
}

fn apply_batch(
    txn: &WriteTransaction,
    batch: &[Job],
) -> Result<Vec<Result<(), CommitError>>, redb::Error> {
    let mut tables = Tables::open(txn)?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        if reads_still_hold(&tables, &job.changes.reads)? {
            apply(&mut tables, &job.changes.writes)?;
            results.push(Ok(()));
        } else {
            results.push(Err(CommitError::Conflict));
        }
    }
    let next_log_seq = tables.next_log_seq;
    tables.meta.insert(META_NEXT_LOG_SEQ, next_log_seq)?;
    Ok(results)
}

fn reads_still_hold(tables: &Tables, checks: &[ReadCheck]) -> Result<bool, redb::Error> {
    for check in checks {
        let holds = match check {
            ReadCheck::OpenIncident { source, key, expected } => {
                reads::id_for_key(&tables.open_by_key, source, key)? == *expected
            }
            ReadCheck::LatestIncident { source, key, expected } => {
                reads::id_for_key(&tables.latest_by_key, source, key)? == *expected
            }
            ReadCheck::IncidentVersion { id, expected } => {
                reads::incident(&tables.incidents, *id)?.map(|i| i.version) == *expected
            }
            ReadCheck::State { source, key, expected } => {
                reads::state_value(&tables.state, source, key)? == *expected
            }
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

fn apply(tables: &mut Tables, writes: &[Write]) -> Result<(), redb::Error> {
    for write in writes {
        match write {
            Write::PutIncident(incident) => put_incident(tables, incident)?,
            Write::AppendLog { incident, entry } => {
                let seq = tables.next_log_seq;
                tables.next_log_seq += 1;
                tables.log.insert((*incident, seq), encode(entry).as_slice())?;
            }
            Write::SetState { source, key, value } => {
                let old = tables.state.insert((source.as_str(), key.as_str()), value.as_slice())?;
                let old = old.map_or(0, |v| (key.len() + v.value().len()) as i64);
                adjust_state_bytes(tables, source, (key.len() + value.len()) as i64 - old)?;
            }
            Write::DeleteState { source, key } => {
                let old = tables.state.remove((source.as_str(), key.as_str()))?;
                let old = old.map_or(0, |v| (key.len() + v.value().len()) as i64);
                adjust_state_bytes(tables, source, -old)?;
            }
            Write::PutFailure { failure, body } => {
                tables.failures.insert(failure.id, encode(failure).as_slice())?;
                if let Some(body) = body {
                    tables.failure_bodies.insert(failure.id, body.as_slice())?;
                }
            }
        }
    }
    Ok(())
}

fn adjust_state_bytes(tables: &mut Tables, source: &str, delta: i64) -> Result<(), redb::Error> {
    if delta == 0 {
        return Ok(());
    }
    let current = tables.state_bytes.get(source)?.map_or(0, |v| v.value());
    tables.state_bytes.insert(source, current.saturating_add_signed(delta))?;
    Ok(())
}

fn adjust_count(
    tables: &mut Tables,
    source: &str,
    code: u8,
    delta: i64,
) -> Result<(), redb::Error> {
    let current = tables.counts.get((source, code))?.map_or(0, |v| v.value());
    tables.counts.insert((source, code), current.saturating_add_signed(delta))?;
    Ok(())
}

/// Stores `incident` and moves its index entries from its old status to the new.
fn put_incident(tables: &mut Tables, incident: &Incident) -> Result<(), redb::Error> {
    let previous = reads::incident(&tables.incidents, incident.id)?;
    tables.incidents.insert(incident.id, encode(incident).as_slice())?;

    let (source, key, id) = (incident.source.as_str(), incident.key.as_str(), incident.id);
    match &previous {
        Some(old) => {
            tables.by_status.remove((old.status.code(), id))?;
            tables.by_source_status.remove((source, old.status.code(), id))?;
        }
        None => {
            tables.by_source.insert((source, id), ())?;
            tables.latest_by_key.insert((source, key), id)?;
        }
    }
    tables.by_status.insert((incident.status.code(), id), ())?;
    tables.by_source_status.insert((source, incident.status.code(), id), ())?;
    let old_status = previous.as_ref().map(|old| old.status);
    if old_status != Some(incident.status) {
        if let Some(old) = old_status {
            adjust_count(tables, source, old.code(), -1)?;
        }
        adjust_count(tables, source, incident.status.code(), 1)?;
    }

    let was_open = previous.as_ref().is_some_and(|old| old.status.is_open());
    match (was_open, incident.status.is_open()) {
        (false, true) => {
            tables.open_by_key.insert((source, key), id)?;
        }
        (true, false) => {
            tables.open_by_key.remove((source, key))?;
        }
        _ => {}
    }
    Ok(())
}
