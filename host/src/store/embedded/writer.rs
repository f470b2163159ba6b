//! The redb writer: group commit on one thread.
//!
//! redb allows one write transaction at a time and a durable commit costs an
//! fsync. Instead of one commit per request, one thread takes every change set
//! that is waiting, applies them in one write transaction, commits once
//! (durably), and only then answers each caller (see `store::writer`).

use super::records::{self, encode};
use super::repeats;
use super::slot::DbSlot;
use super::tables::*;
use crate::store::changes::{ReadCheck, Write};
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, Incident, IncidentId, Status};
use crate::store::options::WriterOptions;
use crate::store::shared_bodies::{SharedRecord, Sharing};
use crate::store::state_quota;
use crate::store::writer::{BatchStats, CommitError, Job, WriterHandle, answer, take_waiting};
use redb::{Durability, ReadableTable, WriteTransaction};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Starts the writer thread. It stops when every handle is dropped, after
/// committing what it has received.
pub(super) fn spawn(
    slot: Arc<DbSlot>,
    options: WriterOptions,
    on_batch: impl Fn(BatchStats) + Send + 'static,
    outbox_signal: Arc<tokio::sync::Notify>,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (handle, mut queue) = WriterHandle::channel(options.queue);
    let max_batch = options.max_batch.max(1);
    let durability = if options.durable { Durability::Immediate } else { Durability::None };
    let thread = std::thread::Builder::new().name("inbound-writer".into()).spawn(move || {
        let mut batch = Vec::with_capacity(max_batch);
        while let Some(first) = queue.blocking_recv() {
            batch.push(first);
            take_waiting(&mut batch, &mut queue, max_batch);
            let started = Instant::now();
            let results = commit_batch(&slot, &batch, durability);
            on_batch(BatchStats::of(&results, started));
            if results.iter().any(Result::is_ok) {
                slot.committed();
                // Incidents, escalations and notifications may have become due.
                outbox_signal.notify_one();
            }
            answer(&mut batch, results);
        }
    })?;
    Ok((handle, thread))
}

/// Applies each change set whose reads still hold, commits once, and returns
/// one result per change set in order. An I/O failure fails the slot, so
/// the database is reopened before the next commit.
fn commit_batch(
    slot: &DbSlot,
    batch: &[Job],
    durability: Durability,
) -> Vec<Result<(), CommitError>> {
    let failed = |error: Error| {
        if let Error::Unavailable(why) = &error {
            slot.fail(why);
        }
        vec![Err(CommitError::from(error)); batch.len()]
    };
    let db = match slot.get() {
        Ok(db) => db,
        Err(error) => return failed(error),
    };
    let mut txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(error) => return failed(error.into()),
    };
    if let Err(error) = txn.set_durability(durability) {
        return failed(error.into());
    }
    let results = match apply_batch(&txn, batch) {
        Ok(results) => results,
        // A half-applied change set must not be committed: abandon the whole
        // transaction (dropping it aborts) and fail the batch.
        Err(error) => return failed(error.into()),
    };
    if let Err(error) = txn.commit() {
        return failed(error.into());
    }
    results
}

/// The tables of one batch's transaction, the next free log sequence, and
/// the incidents this batch has read or written, decoded once: a change set
/// checks an incident's version and then replaces it, and without this the
/// record would be read and decoded twice.
struct Batch<'txn> {
    tables: Tables<'txn>,
    next_log_seq: u64,
    incidents: HashMap<IncidentId, Option<Incident>>,
}

impl Batch<'_> {
    /// Incident `id` as this transaction holds it now.
    fn incident(&mut self, id: IncidentId) -> Result<Option<&Incident>, redb::Error> {
        if !self.incidents.contains_key(&id) {
            let stored = records::incident(&self.tables.incidents, id)?;
            self.incidents.insert(id, stored);
        }
        Ok(self.incidents.get(&id).and_then(Option::as_ref))
    }
}

fn apply_batch(
    txn: &WriteTransaction,
    batch: &[Job],
) -> Result<Vec<Result<(), CommitError>>, redb::Error> {
    let tables = Tables::open(txn)?;
    let next_log_seq = tables.meta.get(META_NEXT_LOG_SEQ)?.map_or(0, |v| v.value());
    let mut batch_tables = Batch { tables, next_log_seq, incidents: HashMap::new() };
    let tables = &mut batch_tables;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let checked = match reads_still_hold(tables, &job.changes.reads)? {
            Ok(()) => state_quotas_hold(&tables.tables, &job.changes.writes)?,
            refused => refused,
        };
        match checked {
            Ok(()) => {
                apply(tables, &job.changes.writes)?;
                results.push(Ok(()));
            }
            Err(refusal) => results.push(Err(refusal)),
        }
    }
    let next_log_seq = tables.next_log_seq;
    tables.tables.meta.insert(META_NEXT_LOG_SEQ, next_log_seq)?;
    Ok(results)
}

/// `Ok` when every read still holds; otherwise why the change set is not
/// applied: a conflict (run the call again) or a refused precondition.
fn reads_still_hold(
    batch: &mut Batch,
    checks: &[ReadCheck],
) -> Result<Result<(), CommitError>, redb::Error> {
    for check in checks {
        if let ReadCheck::IncidentVersion { id, expected } = check {
            if batch.incident(*id)?.map(|i| i.version) != *expected {
                return Ok(Err(CommitError::Conflict));
            }
            continue;
        }
        let tables = &batch.tables;
        let holds = match check {
            ReadCheck::OpenIncident { source, key, expected } => {
                records::id_for_key(&tables.open_by_key, source, key)? == *expected
            }
            ReadCheck::LatestIncident { source, key, expected } => {
                records::id_for_key(&tables.latest_by_key, source, key)? == *expected
            }
            ReadCheck::IncidentVersion { .. } => unreachable!("checked above"),
            ReadCheck::State { source, key, expected } => {
                records::state_value(&tables.state, source, key)? == *expected
            }
            ReadCheck::NotReplayed { failure } => {
                let record = tables.failures.get(*failure)?;
                let replayed = match record {
                    Some(bytes) => records::decode::<FailedDelivery>(bytes.value())?.replayed,
                    None => None,
                };
                if replayed.is_some() {
                    let message = format!("failed delivery {failure} was already replayed");
                    return Ok(Err(CommitError::Refused(message)));
                }
                true
            }
            ReadCheck::EscalationVersion { incident, expected } => {
                tables.escalation(*incident)?.map(|e| e.version) == *expected
            }
            ReadCheck::NotificationVersion { id, expected } => {
                tables.notification(*id)?.map(|n| n.version) == *expected
            }
            ReadCheck::Record { kind, name, expected } => {
                let stored = tables.keyed.get((kind.as_str(), name.as_str()))?;
                stored.map(|value| value.value().to_vec()) == *expected
            }
        };
        if !holds {
            return Ok(Err(CommitError::Conflict));
        }
    }
    Ok(Ok(()))
}

fn apply(batch: &mut Batch, writes: &[Write]) -> Result<(), redb::Error> {
    // Incidents this change set has logged to: their last entry is one of
    // ours, so a received event cannot repeat it.
    let mut logged: Vec<IncidentId> = Vec::new();
    let mut sharing = Sharing::plan(writes);
    for (index, write) in writes.iter().enumerate() {
        let tables = &mut batch.tables;
        match write {
            Write::PutIncident(incident) => put_incident(batch, incident)?,
            Write::AppendLog { incident, entry } => {
                let seq = batch.next_log_seq;
                batch.next_log_seq += 1;
                tables.log.insert((*incident, seq), encode(entry).as_slice())?;
                logged.push(*incident);
            }
            Write::AppendEvent { incident, entry, count_repeats } => {
                let counted = *count_repeats
                    && !logged.contains(incident)
                    && repeats::count_if_repeat(tables, *incident, entry)?;
                if !counted {
                    let seq = batch.next_log_seq;
                    batch.next_log_seq += 1;
                    let stored = sharing.entry_to_store(index, entry);
                    let stored = encode(stored.as_ref().unwrap_or(entry));
                    tables.log.insert((*incident, seq), stored.as_slice())?;
                }
                logged.push(*incident);
            }
            Write::SetState { source, key, value, .. } => {
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
            Write::DeleteIncident { id, resolved_at } => {
                tables.delete_incident(*id, *resolved_at)?;
                batch.incidents.insert(*id, None);
            }
            Write::DeleteFailure(id) => tables.delete_failure(*id)?,
            Write::PutEscalation(escalation) => tables.put_escalation(escalation)?,
            Write::PutNotification(notification) => tables.put_notification(notification)?,
            Write::PutPassword { person, hash } => {
                tables.passwords.insert(person.as_str(), hash.as_str())?;
            }
            Write::PutSession { key, session } => {
                tables.sessions.insert(key.as_str(), encode(session).as_slice())?;
            }
            Write::DeleteSession { key } => {
                tables.sessions.remove(key.as_str())?;
            }
            Write::DeleteSessionsOf { person } => tables.delete_sessions_of(person)?,
            Write::AppendAudit(entry) => tables.append_audit(entry)?,
            Write::DeleteAuditBefore(id) => tables.delete_audit_before(*id)?,
            Write::AddShift(shift) => tables.add_shift(shift)?,
            Write::DeleteShift(id) => {
                tables.shifts.remove(*id)?;
            }
            Write::PutFeedKey { person, digest } => {
                tables.feed_keys.insert(person.as_str(), digest.as_str())?;
            }
            Write::PutRecord { kind, name, value } => {
                tables.keyed.insert((kind.as_str(), name.as_str()), value.as_slice())?;
            }
            Write::DeleteRecord { kind, name } => {
                tables.keyed.remove((kind.as_str(), name.as_str()))?;
            }
            Write::ForgetPerson { person } => {
                tables.passwords.remove(person.as_str())?;
                tables.feed_keys.remove(person.as_str())?;
                tables.delete_sessions_of(person)?;
            }
        }
    }
    for shared in sharing.into_records() {
        keep_shared_body(&mut batch.tables, &shared)?;
    }
    Ok(())
}

/// Stores a shared event body, or counts the new references to it when an
/// identical one is already kept.
fn keep_shared_body(tables: &mut Tables, shared: &SharedRecord) -> Result<(), redb::Error> {
    let refs = tables.event_bodies.get(shared.key.as_str())?.map_or(0, |v| v.value().0);
    tables
        .event_bodies
        .insert(shared.key.as_str(), (refs + shared.refs, shared.record.as_slice()))?;
    Ok(())
}

/// `Ok` when no source's plugin state would exceed its quota after
/// `writes`; a conflict otherwise. Checked against the transaction, which
/// already holds the batch's earlier change sets.
fn state_quotas_hold(
    tables: &Tables,
    writes: &[Write],
) -> Result<Result<(), CommitError>, redb::Error> {
    let holds = state_quota::holds::<redb::Error>(
        writes,
        |source, key| Ok(tables.state.get((source, key))?.map(|v| v.value().len())),
        |source| Ok(tables.state_bytes.get(source)?.map_or(0, |v| v.value())),
    )?;
    Ok(if holds { Ok(()) } else { Err(CommitError::Conflict) })
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

/// Stores `incident` and keeps its indexes in step: the status indexes are
/// touched only when the status changed (a comment changes no index).
fn put_incident(batch: &mut Batch, incident: &Incident) -> Result<(), redb::Error> {
    let previous = batch.incident(incident.id)?.cloned();
    let tables = &mut batch.tables;
    tables.incidents.insert(incident.id, encode(incident).as_slice())?;

    let (source, key, id) = (incident.source.as_str(), incident.key.as_str(), incident.id);
    let old_status = previous.as_ref().map(|old| old.status);
    if old_status.is_none() {
        tables.by_source.insert((source, id), ())?;
        tables.latest_by_key.insert((source, key), id)?;
    }
    if old_status != Some(incident.status) {
        if let Some(old) = old_status {
            tables.by_status.remove((old.code(), id))?;
            tables.by_source_status.remove((source, old.code(), id))?;
            adjust_count(tables, source, old.code(), -1)?;
        }
        tables.by_status.insert((incident.status.code(), id), ())?;
        tables.by_source_status.insert((source, incident.status.code(), id), ())?;
        adjust_count(tables, source, incident.status.code(), 1)?;
    }

    tables.follow_incident(previous.as_ref(), incident)?;

    if incident.status == Status::Resolved && old_status != Some(Status::Resolved) {
        // Resolved incidents are never reopened: one entry each, for retention.
        tables.resolved_at.insert((incident.updated_at, id), ())?;
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
    batch.incidents.insert(id, Some(incident.clone()));
    Ok(())
}
