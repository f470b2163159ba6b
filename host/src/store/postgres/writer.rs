//! This host's PostgreSQL writer: group commit, as on redb, with the
//! change sets' reads checked under locks every host takes alike.
//!
//! One task takes every change set waiting (up to [`super::MAX_BATCH`]) and
//! applies them in one transaction: first one statement takes a
//! transaction-scoped advisory lock for everything any of them reads or
//! writes, in sorted order (two hosts' batches never deadlock); then each
//! change set's reads are checked and, where they hold, its writes applied,
//! exactly as the embedded writer does; the counts per status last, also
//! in sorted order. The commit answers every caller. Should a change set
//! still collide with another host's (the unique index on open keys, a
//! deadlock through some path the locks miss), the batch is rolled back
//! and its change sets are committed one by one, the colliding one
//! answered "conflict" so its call runs again on fresh reads.

use super::keyed;
use super::link::{CHANGES_CHANNEL, Connection, Link, SentWrite};
use super::reads::{self, decode, sql_id};
use crate::store::changes::{ChangeSet, ReadCheck, Write};
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, Incident, IncidentId, LogEntry, Status};
use crate::store::outbox::{DeliveryStatus, Escalation, Notification, escalation_after};
use crate::store::repeats;
use crate::store::shared_bodies::{self, Sharing};
use crate::store::state_quota;
use crate::store::writer::{BatchStats, CommitError, Job, answer, take_waiting};
use futures_util::future::join_all;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

/// A statement parameter the pipelined write owns.
type Param = Box<dyn ToSql + Sync + Send>;

macro_rules! params {
    ($($value:expr),* $(,)?) => { vec![$(Box::new($value) as Param),*] };
}

/// Why a transaction did not commit.
enum Failure {
    /// It collided with another host's: retry the change sets one by one.
    Contended,
    Failed(CommitError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Failure {
        let contended = [
            SqlState::UNIQUE_VIOLATION,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ];
        if error.code().is_some_and(|code| contended.contains(code)) {
            return Failure::Contended;
        }
        Failure::from(Error::from(error))
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Failed(error.into())
    }
}

pub(super) async fn run(
    link: Arc<Link>,
    mut jobs: mpsc::Receiver<Job>,
    max_batch: usize,
    on_batch: impl Fn(BatchStats) + Send + 'static,
    outbox_signal: Arc<tokio::sync::Notify>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        take_waiting(&mut batch, &mut jobs, max_batch);
        let started = Instant::now();
        let results = commit_batch(&link, &batch).await;
        on_batch(BatchStats::of(&results, started));
        if results.iter().any(Result::is_ok) {
            outbox_signal.notify_one();
        }
        answer(&mut batch, results);
    }
}

/// Most advisory locks one transaction takes: PostgreSQL's lock table is
/// shared by every session of every host (64 per connection by default), so
/// a batch of change sets that each read many keys (an Alertmanager group
/// of hundreds of alerts) is committed in several transactions.
const MAX_LOCKS: usize = 1024;

async fn commit_batch(link: &Link, batch: &[Job]) -> Vec<Result<(), CommitError>> {
    let db = match link.get() {
        Ok(db) => db,
        Err(error) => {
            return vec![Err(CommitError::Unavailable(error.to_string())); batch.len()];
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    let mut chunk: Vec<&ChangeSet> = Vec::new();
    let mut locks = 0;
    for job in batch {
        let needed = lock_names(&job.changes).len();
        if !chunk.is_empty() && locks + needed > MAX_LOCKS {
            results.extend(commit_chunk(&db, &chunk).await);
            chunk.clear();
            locks = 0;
        }
        chunk.push(&job.changes);
        locks += needed;
    }
    results.extend(commit_chunk(&db, &chunk).await);
    results
}

async fn commit_chunk(
    db: &Arc<Connection>,
    change_sets: &[&ChangeSet],
) -> Vec<Result<(), CommitError>> {
    match transaction(db, change_sets).await {
        Ok(results) => results,
        // A collision with another host, or one change set the server
        // refuses (a value it cannot store): one at a time, so only the
        // change set concerned is answered with it.
        Err(Failure::Contended | Failure::Failed(CommitError::Storage(_)))
            if change_sets.len() > 1 =>
        {
            let mut results = Vec::with_capacity(change_sets.len());
            for changes in change_sets {
                results.push(match transaction(db, &[changes]).await {
                    Ok(mut result) => result.pop().unwrap_or(Err(CommitError::Conflict)),
                    Err(Failure::Contended) => Err(CommitError::Conflict),
                    Err(Failure::Failed(error)) => Err(error),
                });
            }
            results
        }
        Err(Failure::Contended) => vec![Err(CommitError::Conflict); change_sets.len()],
        Err(Failure::Failed(error)) => vec![Err(error); change_sets.len()],
    }
}

/// One transaction for `change_sets`: one result per change set, or the
/// reason nothing was committed.
async fn transaction(
    db: &Arc<Connection>,
    change_sets: &[&ChangeSet],
) -> Result<Vec<Result<(), CommitError>>, Failure> {
    // Explicitly: the checks must see what another host committed while
    // this one waited for its locks, whatever the server's default is.
    db.client.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
    let applied = apply_all(db, change_sets).await;
    match applied {
        Ok(results) => {
            db.client.batch_execute("COMMIT").await?;
            Ok(results)
        }
        Err(failure) => {
            // Their answers are errors now ("transaction aborted"), or lost.
            db.sent.lock().unwrap_or_else(|e| e.into_inner()).clear();
            // A broken connection rolls back by itself.
            let _ = db.client.batch_execute("ROLLBACK").await;
            Err(failure)
        }
    }
}

async fn apply_all(
    db: &Arc<Connection>,
    change_sets: &[&ChangeSet],
) -> Result<Vec<Result<(), CommitError>>, Failure> {
    lock_everything_touched(db, change_sets).await?;
    let mut batch = Batch { db, incidents: HashMap::new(), counts: BTreeMap::new() };
    let mut results = Vec::with_capacity(change_sets.len());
    for changes in change_sets {
        let checked = match reads_still_hold(&mut batch, changes).await? {
            Ok(()) => state_quotas_hold(db, &changes.writes).await?,
            refused => refused,
        };
        if checked.is_ok() {
            apply(&mut batch, &changes.writes).await?;
            // The next change set's checks must see these writes' errors
            // as this change set's, not its own.
            flush(db).await?;
        }
        results.push(checked);
    }
    // Sorted (a BTreeMap), so two hosts take these rows in the same order.
    for ((source, code), delta) in &batch.counts {
        if *delta != 0 {
            execute(
                db,
                "INSERT INTO incident_counts (source, status, count) VALUES ($1, $2, greatest(0, $3::bigint)) \
                 ON CONFLICT (source, status) \
                 DO UPDATE SET count = greatest(0, incident_counts.count + $3::bigint)",
                params![source.clone(), *code, *delta],
            )
            .await?;
        }
    }
    flush(db).await?;
    if results.iter().any(Result::is_ok) {
        db.client.batch_execute(&format!("NOTIFY {CHANGES_CHANNEL}")).await?;
    }
    Ok(results)
}

/// The batch's transaction and what it has read or changed so far.
struct Batch<'a> {
    db: &'a Arc<Connection>,
    /// Incidents read or written in this transaction, decoded once.
    incidents: HashMap<IncidentId, Option<Incident>>,
    /// Change of the incident count per (source, status code).
    counts: BTreeMap<(String, i16), i64>,
}

impl Batch<'_> {
    async fn incident(&mut self, id: IncidentId) -> Result<Option<&Incident>, Failure> {
        if !self.incidents.contains_key(&id) {
            let stored = reads::incident(self.db, id).await?;
            self.incidents.insert(id, stored);
        }
        Ok(self.incidents.get(&id).and_then(Option::as_ref))
    }

    fn count(&mut self, source: &str, status: Status, delta: i64) {
        *self.counts.entry((source.to_string(), status.code() as i16)).or_default() += delta;
    }
}

/// Sends a write without waiting for its answer: the connection keeps
/// requests in order, so a later read in the same transaction sees it, and
/// [`flush`] collects the answers. About a dozen writes per webhook then
/// cost one round trip instead of a dozen.
async fn execute(
    db: &Arc<Connection>,
    sql: &'static str,
    params: Vec<Param>,
) -> Result<(), Failure> {
    let statement = db.statement(sql).await?;
    let connection = db.clone();
    let mut write: SentWrite = Box::pin(async move {
        let params: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|param| param.as_ref() as &(dyn ToSql + Sync)).collect();
        connection.client.execute(&statement, &params).await
    });
    // The first poll encodes and queues the request; its answer comes later.
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(write.as_mut().poll(cx))).await;
    if let std::task::Poll::Ready(result) = first {
        result?;
        return Ok(());
    }
    db.sent.lock().unwrap_or_else(|e| e.into_inner()).push(write);
    Ok(())
}

/// Waits for every write sent so far; the first error, in the order they
/// were sent (later ones fail only because the transaction was aborted).
async fn flush(db: &Arc<Connection>) -> Result<(), Failure> {
    let sent = std::mem::take(&mut *db.sent.lock().unwrap_or_else(|e| e.into_inner()));
    for result in join_all(sent).await {
        result?;
    }
    Ok(())
}

/// Takes a transaction-scoped advisory lock for every key, incident, state
/// key, failed delivery, escalation and notification the change sets read
/// or write, sorted, in one statement. Every host's writer does the same,
/// so two change sets that touch the same thing are serialized across
/// hosts, and the checks below see what the other committed.
async fn lock_everything_touched(
    db: &Arc<Connection>,
    change_sets: &[&ChangeSet],
) -> Result<(), Failure> {
    let mut keys: Vec<i64> = change_sets
        .iter()
        .flat_map(|changes| lock_names(changes))
        .map(|name| lock_key(&name))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    // unnest yields the array in order, and the locks are taken row by row.
    let statement =
        db.statement("SELECT pg_advisory_xact_lock(key) FROM unnest($1::bigint[]) AS key").await?;
    db.client.query(&statement, &[&keys]).await?;
    Ok(())
}

/// What `changes` reads or writes, by lock name. A row that a write
/// cascades from (an incident, for its escalation and notifications) is
/// named too, so a retention delete and a write to what hangs off it are
/// serialized.
fn lock_names(changes: &ChangeSet) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for check in &changes.reads {
        names.push(match check {
            ReadCheck::OpenIncident { source, key, .. }
            | ReadCheck::LatestIncident { source, key, .. } => lock_name("key", source, key),
            ReadCheck::IncidentVersion { id, .. } => format!("incident\x1f{id}"),
            ReadCheck::State { source, key, .. } => lock_name("state", source, key),
            ReadCheck::NotReplayed { failure } => format!("failure\x1f{failure}"),
            ReadCheck::EscalationVersion { incident, .. } => {
                format!("escalation\x1f{incident}")
            }
            ReadCheck::NotificationVersion { id, .. } => format!("notification\x1f{id}"),
            ReadCheck::Record { kind, name, .. } => lock_name("keyed", kind.as_str(), name),
        });
    }
    for write in &changes.writes {
        match write {
            Write::PutIncident(incident) => {
                names.push(lock_name("key", &incident.source, &incident.key));
                names.push(format!("incident\x1f{}", incident.id));
                names.push(format!("escalation\x1f{}", incident.id));
            }
            Write::AppendLog { incident, .. } | Write::AppendEvent { incident, .. } => {
                names.push(format!("incident\x1f{incident}"));
            }
            Write::SetState { source, key, .. } | Write::DeleteState { source, key } => {
                names.push(lock_name("state", source, key));
                names.push(format!("state-bytes\x1f{source}"));
            }
            Write::PutFailure { failure, .. } => names.push(format!("failure\x1f{}", failure.id)),
            Write::DeleteFailure(id) => names.push(format!("failure\x1f{id}")),
            Write::DeleteIncident { id, .. } => names.push(format!("incident\x1f{id}")),
            Write::PutEscalation(escalation) => {
                names.push(format!("escalation\x1f{}", escalation.incident));
                names.push(format!("incident\x1f{}", escalation.incident));
            }
            Write::PutNotification(notification) => {
                names.push(format!("notification\x1f{}", notification.id));
                names.push(format!("incident\x1f{}", notification.incident));
            }
            // Last write wins, as on redb; audit ids come from a sequence.
            Write::PutPassword { .. }
            | Write::PutSession { .. }
            | Write::DeleteSession { .. }
            | Write::DeleteSessionsOf { .. }
            | Write::AppendAudit(_)
            | Write::DeleteAuditBefore(_)
            | Write::AddShift(_)
            | Write::DeleteShift(_)
            | Write::PutFeedKey { .. }
            | Write::ForgetPerson { .. } => {}
            Write::PutRecord { kind, name, .. } | Write::DeleteRecord { kind, name } => {
                names.push(lock_name("keyed", kind.as_str(), name));
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

fn lock_name(kind: &str, source: &str, key: &str) -> String {
    format!("{kind}\x1f{source}\x1f{key}")
}

/// A stable 64-bit advisory lock key for `name` (a collision only makes two
/// unrelated change sets wait for each other).
fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(name.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes"))
}

/// `Ok` when every read still holds; otherwise why the change set is not
/// applied (see the embedded writer's). The checks are independent reads
/// under locks already held, so they are sent together (pipelined on the
/// connection) rather than one round trip each.
async fn reads_still_hold(
    batch: &mut Batch<'_>,
    changes: &ChangeSet,
) -> Result<Result<(), CommitError>, Failure> {
    let db = batch.db;
    let checks = &changes.reads;
    // Incidents whose version is checked or that are written, read once per
    // batch and kept (the writes need the previous record), in the same
    // round trip as the checks.
    let checked = checks.iter().filter_map(|check| match check {
        ReadCheck::IncidentVersion { id, .. } => Some(*id),
        _ => None,
    });
    let written = changes.writes.iter().filter_map(|write| match write {
        Write::PutIncident(incident) => Some(incident.id),
        Write::DeleteIncident { id, .. } => Some(*id),
        _ => None,
    });
    let mut missing: Vec<IncidentId> =
        checked.chain(written).filter(|id| !batch.incidents.contains_key(id)).collect();
    missing.sort_unstable();
    missing.dedup();
    let fetched = join_all(missing.iter().map(|id| reads::incident(db, *id))).await;
    for (id, found) in missing.into_iter().zip(fetched) {
        batch.incidents.insert(id, found?);
    }
    let incidents = &batch.incidents;
    let verdicts = join_all(checks.iter().map(|check| verdict(db, incidents, check))).await;
    for verdict in verdicts {
        if let Err(refusal) = verdict? {
            return Ok(Err(refusal));
        }
    }
    Ok(Ok(()))
}

/// One read check: `Ok(Ok(()))` when it holds.
async fn verdict(
    db: &Arc<Connection>,
    incidents: &HashMap<IncidentId, Option<Incident>>,
    check: &ReadCheck,
) -> Result<Result<(), CommitError>, Failure> {
    let holds = match check {
        ReadCheck::IncidentVersion { id, expected } => {
            incidents.get(id).and_then(Option::as_ref).map(|i| i.version) == *expected
        }
        ReadCheck::OpenIncident { source, key, expected } => {
            reads::open_incident_id(db, source, key).await? == *expected
        }
        ReadCheck::LatestIncident { source, key, expected } => {
            reads::latest_incident_id(db, source, key).await? == *expected
        }
        ReadCheck::State { source, key, expected } => {
            reads::state(db, source, key).await? == *expected
        }
        ReadCheck::NotReplayed { failure } => {
            if reads::failure(db, *failure).await?.and_then(|f| f.replayed).is_some() {
                let message = format!("failed delivery {failure} was already replayed");
                return Ok(Err(CommitError::Refused(message)));
            }
            true
        }
        ReadCheck::EscalationVersion { incident, expected } => {
            reads::escalation(db, *incident).await?.map(|e| e.version) == *expected
        }
        ReadCheck::NotificationVersion { id, expected } => {
            reads::notification(db, *id).await?.map(|n| n.version) == *expected
        }
        ReadCheck::Record { kind, name, expected } => {
            keyed::record(db, *kind, name).await? == *expected
        }
    };
    Ok(if holds { Ok(()) } else { Err(CommitError::Conflict) })
}

/// `Ok` when no source's plugin state would exceed its quota after
/// `writes` (see the embedded writer's): the stored values and totals it
/// needs are read together first.
async fn state_quotas_hold(
    db: &Arc<Connection>,
    writes: &[Write],
) -> Result<Result<(), CommitError>, Failure> {
    let mut keys: Vec<(&str, &str)> = state_quota::keys_read(writes).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(Ok(()));
    }
    let mut sources: Vec<&str> = keys.iter().map(|(source, _)| *source).collect();
    sources.dedup();
    let values = join_all(keys.iter().map(|(source, key)| reads::state(db, source, key)));
    let totals = join_all(sources.iter().map(|source| reads::state_bytes(db, source)));
    let (values, totals) = futures_util::future::join(values, totals).await;
    let mut lengths = HashMap::new();
    for (key, value) in keys.into_iter().zip(values) {
        lengths.insert(key, value?.map(|value| value.len()));
    }
    let mut stored = HashMap::new();
    for (source, total) in sources.into_iter().zip(totals) {
        stored.insert(source, total?);
    }
    let holds = state_quota::holds(
        writes,
        |source, key| Ok::<_, Failure>(lengths.get(&(source, key)).copied().flatten()),
        |source| Ok(stored.get(source).copied().unwrap_or(0)),
    )?;
    Ok(if holds { Ok(()) } else { Err(CommitError::Conflict) })
}

async fn apply(batch: &mut Batch<'_>, writes: &[Write]) -> Result<(), Failure> {
    // Incidents this change set has logged to: their last entry is one of
    // ours, so a received event cannot repeat it.
    let mut logged: Vec<IncidentId> = Vec::new();
    let mut sharing = Sharing::plan(writes);
    for (index, write) in writes.iter().enumerate() {
        let db = batch.db;
        match write {
            Write::PutIncident(incident) => put_incident(batch, incident).await?,
            Write::AppendLog { incident, entry } => {
                append_log(db, *incident, entry).await?;
                logged.push(*incident);
            }
            Write::AppendEvent { incident, entry, count_repeats } => {
                let counted = *count_repeats
                    && !logged.contains(incident)
                    && count_if_repeat(db, *incident, entry).await?;
                if !counted {
                    match sharing.entry_to_store(index, entry) {
                        Some(stored) => append_log(db, *incident, &stored).await?,
                        None => append_log(db, *incident, entry).await?,
                    }
                }
                logged.push(*incident);
            }
            Write::SetState { source, key, value, .. } => {
                let old = reads::state(db, source, key).await?;
                execute(
                    db,
                    "INSERT INTO plugin_state (source, key, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value",
                    params![source.clone(), key.clone(), value.clone()],
                )
                .await?;
                let old = old.map_or(0, |v| (key.len() + v.len()) as i64);
                adjust_state_bytes(db, source, (key.len() + value.len()) as i64 - old).await?;
            }
            Write::DeleteState { source, key } => {
                let old = reads::state(db, source, key).await?;
                execute(
                    db,
                    "DELETE FROM plugin_state WHERE source = $1 AND key = $2",
                    params![source.clone(), key.clone()],
                )
                .await?;
                let old = old.map_or(0, |v| (key.len() + v.len()) as i64);
                adjust_state_bytes(db, source, -old).await?;
            }
            Write::PutFailure { failure, body } => {
                put_failure(db, failure, body.as_deref()).await?
            }
            Write::DeleteIncident { id, .. } => {
                delete_incident(batch, *id).await?;
            }
            Write::DeleteFailure(id) => {
                let sql = "DELETE FROM failed_deliveries WHERE id = $1";
                execute(db, sql, params![sql_id(*id)]).await?;
            }
            Write::PutEscalation(escalation) => put_escalation(db, escalation).await?,
            Write::PutNotification(notification) => put_notification(db, notification).await?,
            Write::PutPassword { person, hash } => {
                let sql = "INSERT INTO passwords (person, hash) VALUES ($1, $2) \
                           ON CONFLICT (person) DO UPDATE SET hash = EXCLUDED.hash";
                execute(db, sql, params![person.clone(), hash.clone()]).await?;
            }
            Write::PutSession { key, session } => {
                let sql = "INSERT INTO sessions (key, person, expires_at, record) \
                           VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET \
                           person = EXCLUDED.person, expires_at = EXCLUDED.expires_at, \
                           record = EXCLUDED.record";
                let person = session.principal.person().map(str::to_string);
                let expires_at = sql_id(session.expires_at);
                execute(db, sql, params![key.clone(), person, expires_at, encode(session)]).await?;
            }
            Write::DeleteSession { key } => {
                execute(db, "DELETE FROM sessions WHERE key = $1", params![key.clone()]).await?;
            }
            Write::DeleteSessionsOf { person } => {
                let sql = "DELETE FROM sessions WHERE person = $1";
                execute(db, sql, params![person.clone()]).await?;
            }
            Write::AppendAudit(entry) => {
                let sql = "INSERT INTO audit (at, action, record) VALUES ($1, $2, $3)";
                let (at, action) = (sql_id(entry.at), entry.action.clone());
                execute(db, sql, params![at, action, encode(entry)]).await?;
            }
            Write::DeleteAuditBefore(id) => {
                execute(db, "DELETE FROM audit WHERE id < $1", params![sql_id(*id)]).await?;
            }
            Write::AddShift(shift) => {
                let sql = "INSERT INTO shifts (schedule, until, record) VALUES ($1, $2, $3)";
                let (schedule, until) = (shift.schedule.clone(), sql_id(shift.until));
                execute(db, sql, params![schedule, until, encode(shift)]).await?;
            }
            Write::DeleteShift(id) => {
                execute(db, "DELETE FROM shifts WHERE id = $1", params![sql_id(*id)]).await?;
            }
            Write::PutFeedKey { person, digest } => {
                let sql = "INSERT INTO feed_keys (person, digest) VALUES ($1, $2) \
                           ON CONFLICT (person) DO UPDATE SET digest = EXCLUDED.digest";
                execute(db, sql, params![person.clone(), digest.clone()]).await?;
            }
            Write::PutRecord { kind, name, value } => {
                let sql = "INSERT INTO keyed (kind, name, value) VALUES ($1, $2, $3) \
                           ON CONFLICT (kind, name) DO UPDATE SET value = EXCLUDED.value";
                let kind = kind.as_str().to_string();
                execute(db, sql, params![kind, name.clone(), value.clone()]).await?;
            }
            Write::DeleteRecord { kind, name } => {
                let sql = "DELETE FROM keyed WHERE kind = $1 AND name = $2";
                execute(db, sql, params![kind.as_str().to_string(), name.clone()]).await?;
            }
            Write::ForgetPerson { person } => {
                for sql in [
                    "DELETE FROM passwords WHERE person = $1",
                    "DELETE FROM feed_keys WHERE person = $1",
                    "DELETE FROM sessions WHERE person = $1",
                ] {
                    execute(db, sql, params![person.clone()]).await?;
                }
            }
        }
    }
    if writes.iter().any(|write| matches!(write, Write::DeleteIncident { .. })) {
        // Once per change set, after every incident's log released its share.
        execute(batch.db, "DELETE FROM event_bodies WHERE refs <= 0", params![]).await?;
    }
    for shared in sharing.into_records() {
        execute(
            batch.db,
            "INSERT INTO event_bodies (key, refs, record) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET refs = event_bodies.refs + EXCLUDED.refs",
            params![shared.key, shared.refs as i64, shared.record],
        )
        .await?;
    }
    Ok(())
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("model types always serialize")
}

/// Stores `incident`, keeps the counts and its escalation in step (see the
/// embedded writer's `put_incident`; PostgreSQL's indexes follow the row).
async fn put_incident(batch: &mut Batch<'_>, incident: &Incident) -> Result<(), Failure> {
    let previous = batch.incident(incident.id).await?.cloned();
    let status = incident.status.code() as i16;
    let resolved_at = (incident.status == Status::Resolved).then(|| sql_id(incident.updated_at));
    // A resolved incident keeps the moment it was resolved, for retention.
    execute(
        batch.db,
        "INSERT INTO incidents (id, source, key, status, version, resolved_at, record) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version, \
           resolved_at = CASE WHEN EXCLUDED.status = 2 \
                              THEN coalesce(incidents.resolved_at, EXCLUDED.resolved_at) END, \
           record = EXCLUDED.record",
        params![
            sql_id(incident.id),
            incident.source.clone(),
            incident.key.clone(),
            status,
            sql_id(incident.version),
            resolved_at,
            encode(incident),
        ],
    )
    .await?;
    let old_status = previous.as_ref().map(|old| old.status);
    if old_status != Some(incident.status) {
        if let Some(old) = old_status {
            batch.count(&incident.source, old, -1);
        }
        batch.count(&incident.source, incident.status, 1);
        let stored = match previous {
            Some(_) => reads::escalation(batch.db, incident.id).await?,
            None => None,
        };
        if let Some(escalation) = escalation_after(previous.as_ref(), stored, incident) {
            put_escalation(batch.db, &escalation).await?;
        }
    }
    batch.incidents.insert(incident.id, Some(incident.clone()));
    Ok(())
}

async fn append_log(
    db: &Arc<Connection>,
    incident: IncidentId,
    entry: &LogEntry,
) -> Result<(), Failure> {
    execute(
        db,
        "INSERT INTO incident_log (incident, seq, entry, shared_body) \
         VALUES ($1, nextval('log_seq'), $2, $3)",
        params![sql_id(incident), encode(entry), shared_bodies::key_of(entry).map(str::to_string)],
    )
    .await?;
    Ok(())
}

/// See `repeats::count_if_repeat`.
async fn count_if_repeat(
    db: &Arc<Connection>,
    incident: IncidentId,
    entry: &LogEntry,
) -> Result<bool, Failure> {
    let sql = "SELECT l.seq, l.entry, b.record FROM incident_log l \
               LEFT JOIN event_bodies b ON b.key = l.shared_body \
               WHERE l.incident = $1 ORDER BY l.seq DESC LIMIT 1";
    let Some(last) = reads::row(db, sql, &[&sql_id(incident)]).await? else {
        return Ok(false);
    };
    let seq: i64 = last.get(0);
    let stored: LogEntry = decode(last.get(1))?;
    let shared = shared_bodies::key_of(&stored).map(str::to_string);
    // Compared with its body restored, stored again without it.
    let Some((_, restored)) = reads::log_entries(vec![last])?.pop() else {
        return Ok(false);
    };
    let Some(counted) = repeats::counted(restored, entry) else {
        return Ok(false);
    };
    let counted = match &shared {
        Some(shared) => shared_bodies::without_body(counted, shared),
        None => counted,
    };
    execute(
        db,
        "UPDATE incident_log SET entry = $3 WHERE incident = $1 AND seq = $2",
        params![sql_id(incident), seq, encode(&counted)],
    )
    .await?;
    Ok(true)
}

async fn adjust_state_bytes(db: &Arc<Connection>, source: &str, delta: i64) -> Result<(), Failure> {
    if delta == 0 {
        return Ok(());
    }
    execute(
        db,
        "INSERT INTO plugin_state_bytes (source, bytes) VALUES ($1, greatest(0, $2::bigint)) \
         ON CONFLICT (source) \
         DO UPDATE SET bytes = greatest(0, plugin_state_bytes.bytes + $2::bigint)",
        params![source.to_string(), delta],
    )
    .await?;
    Ok(())
}

async fn put_failure(
    db: &Arc<Connection>,
    failure: &FailedDelivery,
    body: Option<&[u8]>,
) -> Result<(), Failure> {
    execute(
        db,
        "INSERT INTO failed_deliveries (id, received_at, record, body) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record, \
           body = coalesce(EXCLUDED.body, failed_deliveries.body)",
        params![
            sql_id(failure.id),
            sql_id(failure.received_at),
            encode(failure),
            body.map(<[u8]>::to_vec)
        ],
    )
    .await?;
    Ok(())
}

async fn put_escalation(db: &Arc<Connection>, escalation: &Escalation) -> Result<(), Failure> {
    execute(
        db,
        "INSERT INTO escalations (incident, due_at, version, record) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (incident) DO UPDATE SET due_at = EXCLUDED.due_at, \
           version = EXCLUDED.version, record = EXCLUDED.record",
        params![
            sql_id(escalation.incident),
            escalation.due_at.map(sql_id),
            sql_id(escalation.version),
            encode(escalation),
        ],
    )
    .await?;
    Ok(())
}

async fn put_notification(
    db: &Arc<Connection>,
    notification: &Notification,
) -> Result<(), Failure> {
    let due_at = (notification.status == DeliveryStatus::Pending)
        .then(|| sql_id(notification.next_attempt_at));
    execute(
        db,
        "INSERT INTO notifications (id, incident, status, due_at, created_at, version, record) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, due_at = EXCLUDED.due_at, \
           version = EXCLUDED.version, record = EXCLUDED.record",
        params![
            sql_id(notification.id),
            sql_id(notification.incident),
            notification.status.code() as i16,
            due_at,
            sql_id(notification.created_at),
            sql_id(notification.version),
            encode(notification),
        ],
    )
    .await?;
    Ok(())
}

/// Deletes a resolved incident with its log, escalation and notifications
/// (retention); an incident that is open again, or gone, is left alone.
async fn delete_incident(batch: &mut Batch<'_>, id: IncidentId) -> Result<(), Failure> {
    let Some(incident) = batch.incident(id).await?.cloned() else {
        return Ok(());
    };
    if incident.status != Status::Resolved {
        return Ok(());
    }
    let db = batch.db;
    let id_param = sql_id(id);
    // The log, releasing its entries' shares of event bodies (the bodies no
    // entry refers to any more are deleted once per change set, in `apply`).
    execute(
        db,
        "WITH gone AS (DELETE FROM incident_log WHERE incident = $1 RETURNING shared_body), \
              released AS (SELECT shared_body AS key, count(*) AS n FROM gone \
                           WHERE shared_body IS NOT NULL GROUP BY shared_body) \
         UPDATE event_bodies b SET refs = b.refs - r.n FROM released r WHERE b.key = r.key",
        params![id_param],
    )
    .await?;
    execute(db, "DELETE FROM notifications WHERE incident = $1", params![id_param]).await?;
    execute(db, "DELETE FROM escalations WHERE incident = $1", params![id_param]).await?;
    execute(db, "DELETE FROM incidents WHERE id = $1", params![id_param]).await?;
    batch.count(&incident.source, Status::Resolved, -1);
    batch.incidents.insert(id, None);
    Ok(())
}
