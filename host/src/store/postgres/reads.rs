//! Everything the host reads from PostgreSQL, as the embedded engine
//! answers it: the same pages, orders and cursors. Each read is a function
//! of one connection: the engine runs it on a reader (`postgres.rs`); a
//! plugin call's snapshot (`snapshot.rs`) and the writer's checks use the
//! single-record ones.

use super::link::Connection;
use crate::store::changes::{ChangeSet, ReadCheck, Write};
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry, Millis};
use crate::store::outbox::{Escalation, Notification, NotificationId};
use crate::store::page::{Page, fetch_for};
use crate::store::queries::{
    Counts, DueFilter, ListQuery, NotificationQuery, OutboxStats, RetentionCutoffs, SWEEP_CHUNK,
};
use crate::store::shared_bodies;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// Decodes a stored JSON record.
pub(super) fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes)
        .map_err(|error| Error::Corrupted(format!("undecodable record: {error}")))
}

/// Ids are u64 in the model and bigint in PostgreSQL; every id fits.
pub(super) fn sql_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

pub(super) fn id_of(row: &Row, column: usize) -> u64 {
    row.get::<_, i64>(column) as u64
}

/// Rows of a prepared query.
pub(super) async fn rows(
    db: &Connection,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, Error> {
    let statement = db.statement(sql).await.map_err(Error::from)?;
    db.client.query(&statement, params).await.map_err(Error::from)
}

/// At most one row of a prepared query.
pub(super) async fn row(
    db: &Connection,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>, Error> {
    let statement = db.statement(sql).await.map_err(Error::from)?;
    db.client.query_opt(&statement, params).await.map_err(Error::from)
}

pub(super) async fn incident(db: &Connection, id: IncidentId) -> Result<Option<Incident>, Error> {
    match row(db, "SELECT record FROM incidents WHERE id = $1", &[&sql_id(id)]).await? {
        Some(row) => Ok(Some(decode(row.get(0))?)),
        None => Ok(None),
    }
}

pub(super) async fn open_incident_id(
    db: &Connection,
    source: &str,
    key: &str,
) -> Result<Option<IncidentId>, Error> {
    let sql = "SELECT id FROM incidents WHERE source = $1 AND key = $2 AND status <> 2";
    Ok(row(db, sql, &[&source, &key]).await?.map(|row| id_of(&row, 0)))
}

pub(super) async fn latest_incident_id(
    db: &Connection,
    source: &str,
    key: &str,
) -> Result<Option<IncidentId>, Error> {
    let sql = "SELECT max(id) FROM incidents WHERE source = $1 AND key = $2";
    let found = row(db, sql, &[&source, &key]).await?;
    Ok(found.and_then(|row| row.get::<_, Option<i64>>(0)).map(|id| id as u64))
}

pub(super) async fn state(
    db: &Connection,
    source: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, Error> {
    let sql = "SELECT value FROM plugin_state WHERE source = $1 AND key = $2";
    Ok(row(db, sql, &[&source, &key]).await?.map(|row| row.get(0)))
}

pub(super) async fn state_bytes(db: &Connection, source: &str) -> Result<u64, Error> {
    let sql = "SELECT bytes FROM plugin_state_bytes WHERE source = $1";
    Ok(row(db, sql, &[&source]).await?.map_or(0, |row| row.get::<_, i64>(0).max(0) as u64))
}

pub(super) async fn escalation(
    db: &Connection,
    incident: IncidentId,
) -> Result<Option<Escalation>, Error> {
    let sql = "SELECT record FROM escalations WHERE incident = $1";
    match row(db, sql, &[&sql_id(incident)]).await? {
        Some(row) => Ok(Some(decode(row.get(0))?)),
        None => Ok(None),
    }
}

pub(super) async fn notification(
    db: &Connection,
    id: NotificationId,
) -> Result<Option<Notification>, Error> {
    match row(db, "SELECT record FROM notifications WHERE id = $1", &[&sql_id(id)]).await? {
        Some(row) => Ok(Some(decode(row.get(0))?)),
        None => Ok(None),
    }
}

pub(super) async fn failure(
    db: &Connection,
    id: FailureId,
) -> Result<Option<FailedDelivery>, Error> {
    match row(db, "SELECT record FROM failed_deliveries WHERE id = $1", &[&sql_id(id)]).await? {
        Some(row) => Ok(Some(decode(row.get(0))?)),
        None => Ok(None),
    }
}

/// The next value of one of the id sequences.
pub(super) async fn next_id(db: &Connection, sql: &'static str) -> Result<u64, Error> {
    let row = row(db, sql, &[])
        .await?
        .ok_or_else(|| Error::Other("PostgreSQL: nextval: no row".into()))?;
    Ok(id_of(&row, 0))
}

/// One page of `rows` of (id, record), fetched newest first, the ids its cursors.
fn paged<T: serde::de::DeserializeOwned>(rows: Vec<Row>, limit: usize) -> Result<Page<T>, Error> {
    Ok(Page::cut(records(rows)?, limit, |(id, _)| *id).map(|(_, record)| record))
}

fn records<T: serde::de::DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<(u64, T)>, Error> {
    rows.iter().map(|row| Ok((id_of(row, 0), decode(row.get(1))?))).collect()
}

/// Rows of (seq, entry, shared body record or NULL): the entries as the
/// store hands them out, headers and body restored.
pub(super) fn log_entries(rows: Vec<Row>) -> Result<Vec<(u64, LogEntry)>, Error> {
    rows.iter()
        .map(|row| {
            let mut entry: LogEntry = decode(row.get(1))?;
            let record: Option<&[u8]> = row.get(2);
            shared_bodies::restore(&mut entry, record)
                .map_err(|error| Error::Corrupted(format!("undecodable event body: {error}")))?;
            Ok((id_of(row, 0), entry))
        })
        .collect()
}

/// One chunk of what `cutoffs` expire (see the embedded engine's).
pub(super) async fn expired(
    db: &Connection,
    cutoffs: RetentionCutoffs,
) -> Result<ChangeSet, Error> {
    let mut changes = ChangeSet::default();
    let chunk = SWEEP_CHUNK as i64;
    if let Some(before) = cutoffs.resolved_before {
        let sql = "SELECT id, resolved_at, version FROM incidents WHERE resolved_at < $1 \
                   ORDER BY resolved_at, id LIMIT $2";
        for row in rows(db, sql, &[&sql_id(before), &chunk]).await? {
            let id = id_of(&row, 0);
            let resolved_at = row.get::<_, i64>(1) as u64;
            let version = row.get::<_, i64>(2) as u64;
            changes.reads.push(ReadCheck::IncidentVersion { id, expected: Some(version) });
            changes.writes.push(Write::DeleteIncident { id, resolved_at });
        }
    }
    if let Some(before) = cutoffs.failed_before {
        let sql = "SELECT id FROM failed_deliveries WHERE received_at < $1 ORDER BY id LIMIT $2";
        for row in rows(db, sql, &[&sql_id(before), &chunk]).await? {
            changes.writes.push(Write::DeleteFailure(id_of(&row, 0)));
        }
    }
    Ok(changes)
}

pub(super) async fn list(db: &Connection, query: &ListQuery) -> Result<Page<Incident>, Error> {
    let before = sql_id(query.before.unwrap_or(u64::MAX));
    let limit = query.limit;
    let fetch = fetch_for(limit) as i64;
    let status = query.status.map(|s| s.code() as i16);
    let found = match (&query.source, status) {
        (None, None) => {
            let sql = "SELECT id, record FROM incidents WHERE id < $1 \
                       ORDER BY id DESC LIMIT $2";
            rows(db, sql, &[&before, &fetch]).await?
        }
        (None, Some(status)) => {
            let sql = "SELECT id, record FROM incidents WHERE status = $1 AND id < $2 \
                       ORDER BY id DESC LIMIT $3";
            rows(db, sql, &[&status, &before, &fetch]).await?
        }
        (Some(source), None) => {
            let sql = "SELECT id, record FROM incidents WHERE source = $1 AND id < $2 \
                       ORDER BY id DESC LIMIT $3";
            rows(db, sql, &[source, &before, &fetch]).await?
        }
        (Some(source), Some(status)) => {
            let sql = "SELECT id, record FROM incidents \
                       WHERE source = $1 AND status = $2 AND id < $3 \
                       ORDER BY id DESC LIMIT $4";
            rows(db, sql, &[source, &status, &before, &fetch]).await?
        }
    };
    paged(found, limit)
}

pub(super) async fn incident_with_log(
    db: &Connection,
    id: IncidentId,
) -> Result<Option<(Incident, Vec<LogEntry>)>, Error> {
    let Some(found) = incident(db, id).await? else {
        return Ok(None);
    };
    let sql = "SELECT l.seq, l.entry, b.record FROM incident_log l \
               LEFT JOIN event_bodies b ON b.key = l.shared_body \
               WHERE l.incident = $1 ORDER BY l.seq";
    let log = log_entries(rows(db, sql, &[&sql_id(id)]).await?)?;
    let log = log.into_iter().map(|(_, entry)| entry).collect();
    Ok(Some((found, log)))
}

pub(super) async fn failures(
    db: &Connection,
    before: Option<FailureId>,
    limit: usize,
) -> Result<Page<FailedDelivery>, Error> {
    let before = sql_id(before.unwrap_or(u64::MAX));
    let sql = "SELECT id, record FROM failed_deliveries WHERE id < $1 \
               ORDER BY id DESC LIMIT $2";
    let found = rows(db, sql, &[&before, &(fetch_for(limit) as i64)]).await?;
    paged(found, limit)
}

/// One failed delivery and its original body.
pub(super) async fn failure_and_body(
    db: &Connection,
    id: FailureId,
) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error> {
    let sql = "SELECT record, body FROM failed_deliveries WHERE id = $1";
    match row(db, sql, &[&sql_id(id)]).await? {
        Some(row) => {
            let body: Option<Vec<u8>> = row.get(1);
            Ok(Some((decode(row.get(0))?, body.unwrap_or_default())))
        }
        None => Ok(None),
    }
}

pub(super) async fn counts(db: &Connection, source: Option<&str>) -> Result<Counts, Error> {
    let found = match source {
        Some(source) => {
            let sql = "SELECT status, count FROM incident_counts WHERE source = $1";
            rows(db, sql, &[&source]).await?
        }
        None => rows(db, "SELECT status, count FROM incident_counts", &[]).await?,
    };
    let mut counts = Counts::default();
    for row in found {
        counts.add(row.get::<_, i16>(0) as u8, row.get::<_, i64>(1).max(0) as u64);
    }
    Ok(counts)
}

pub(super) async fn log_before(
    db: &Connection,
    id: IncidentId,
    before: Option<u64>,
    limit: usize,
) -> Result<Page<(u64, LogEntry)>, Error> {
    let (before, fetch) = (sql_id(before.unwrap_or(u64::MAX)), fetch_for(limit) as i64);
    let sql = "SELECT l.seq, l.entry, b.record FROM incident_log l \
               LEFT JOIN event_bodies b ON b.key = l.shared_body \
               WHERE l.incident = $1 AND l.seq < $2 ORDER BY l.seq DESC LIMIT $3";
    let found = rows(db, sql, &[&sql_id(id), &before, &fetch]).await?;
    Ok(Page::cut(log_entries(found)?, limit, |(seq, _)| *seq))
}

pub(super) async fn log_after(
    db: &Connection,
    id: IncidentId,
    after: Option<u64>,
    limit: usize,
) -> Result<Page<(u64, LogEntry)>, Error> {
    let start = sql_id(after.map_or(0, |seq| seq.saturating_add(1)));
    let fetch = fetch_for(limit) as i64;
    let sql = "SELECT l.seq, l.entry, b.record FROM incident_log l \
               LEFT JOIN event_bodies b ON b.key = l.shared_body \
               WHERE l.incident = $1 AND l.seq >= $2 ORDER BY l.seq LIMIT $3";
    let found = rows(db, sql, &[&sql_id(id), &start, &fetch]).await?;
    Ok(Page::cut(log_entries(found)?, limit, |(seq, _)| *seq))
}

pub(super) async fn newest_incident_of(
    db: &Connection,
    source: &str,
) -> Result<Option<Incident>, Error> {
    let sql = "SELECT record FROM incidents WHERE source = $1 ORDER BY id DESC LIMIT 1";
    match row(db, sql, &[&source]).await? {
        Some(row) => Ok(Some(decode(row.get(0))?)),
        None => Ok(None),
    }
}

pub(super) async fn due_escalations(
    db: &Connection,
    now: Millis,
    limit: usize,
) -> Result<Vec<(Escalation, Option<Incident>)>, Error> {
    let sql = "SELECT e.record, i.record FROM escalations e \
               LEFT JOIN incidents i ON i.id = e.incident \
               WHERE e.due_at <= $1 ORDER BY e.due_at, e.incident LIMIT $2";
    let found = rows(db, sql, &[&sql_id(now), &(limit as i64)]).await?;
    found
        .iter()
        .map(|row| {
            let incident: Option<&[u8]> = row.get(1);
            Ok((decode(row.get(0))?, incident.map(decode).transpose()?))
        })
        .collect()
}

pub(super) async fn next_due(db: &Connection) -> Result<Option<Millis>, Error> {
    // least() skips NULLs: the earlier of the two, or whichever exists.
    let sql = "SELECT least((SELECT min(due_at) FROM escalations), \
                            (SELECT min(due_at) FROM notifications))";
    let found = row(db, sql, &[]).await?;
    Ok(found.and_then(|row| row.get::<_, Option<i64>>(0)).map(|due| due.max(0) as u64))
}

pub(super) async fn due_notifications(
    db: &Connection,
    now: Millis,
    limit: usize,
    filter: &DueFilter,
) -> Result<Vec<Notification>, Error> {
    let in_flight: Vec<i64> = filter.in_flight.iter().map(|&id| sql_id(id)).collect();
    let full: Vec<String> = filter.full_channels.iter().cloned().collect();
    let busy: Vec<String> = filter.busy_contacts.iter().cloned().collect();
    // The channel and address live in the record (JSON): the due index
    // orders the scan and the filter drops what is left out. The contact
    // is `Recipient::contact_key`: channel, U+001F, address or nothing.
    let sql = "SELECT id, record FROM ( \
                 SELECT id, record, due_at, (j #>> '{recipient,channel}') AS channel, \
                        (j #>> '{recipient,channel}') || chr(31) \
                          || coalesce(j #>> '{recipient,address}', '') AS contact \
                 FROM (SELECT id, record, due_at, convert_from(record, 'UTF8')::jsonb AS j \
                       FROM notifications WHERE due_at <= $1) due) listed \
               WHERE NOT (id = ANY($2)) AND NOT (channel = ANY($3)) \
                 AND NOT (contact = ANY($5)) AND ($6::text IS NULL OR contact = $6) \
               ORDER BY due_at, id LIMIT $4";
    let params: [&(dyn ToSql + Sync); 6] =
        [&sql_id(now), &in_flight, &full, &(limit as i64), &busy, &filter.only_contact];
    let found = rows(db, sql, &params).await?;
    Ok(records(found)?.into_iter().map(|(_, n)| n).collect())
}

pub(super) async fn notifications(
    db: &Connection,
    query: &NotificationQuery,
) -> Result<Page<Notification>, Error> {
    let limit = query.limit;
    let (before, fetch) = (sql_id(query.before.unwrap_or(u64::MAX)), fetch_for(limit) as i64);
    let status = query.status.map(|status| status.code() as i16);
    let incident = query.incident.map(sql_id);
    // One statement per filter, so each plans on its own index.
    let found = match (incident, status) {
        (Some(incident), Some(status)) => {
            let sql = "SELECT id, record FROM notifications \
                       WHERE incident = $1 AND status = $2 AND id < $3 \
                       ORDER BY id DESC LIMIT $4";
            rows(db, sql, &[&incident, &status, &before, &fetch]).await?
        }
        (Some(incident), None) => {
            let sql = "SELECT id, record FROM notifications WHERE incident = $1 AND id < $2 \
                       ORDER BY id DESC LIMIT $3";
            rows(db, sql, &[&incident, &before, &fetch]).await?
        }
        (None, Some(status)) => {
            let sql = "SELECT id, record FROM notifications WHERE status = $1 AND id < $2 \
                       ORDER BY id DESC LIMIT $3";
            rows(db, sql, &[&status, &before, &fetch]).await?
        }
        (None, None) => {
            let sql = "SELECT id, record FROM notifications WHERE id < $1 \
                       ORDER BY id DESC LIMIT $2";
            rows(db, sql, &[&before, &fetch]).await?
        }
    };
    paged(found, limit)
}

pub(super) async fn outbox_stats(db: &Connection) -> Result<OutboxStats, Error> {
    // Each on the status index: pending and failed rows only, not
    // every notification ever sent.
    let sql = "SELECT (SELECT count(*) FROM notifications WHERE status = 0), \
                      (SELECT count(*) FROM notifications WHERE status = 2), \
                      (SELECT min(created_at) FROM notifications WHERE status = 0)";
    let found =
        row(db, sql, &[]).await?.ok_or_else(|| Error::Other("PostgreSQL: no row".into()))?;
    Ok(OutboxStats {
        pending: found.get::<_, i64>(0) as u64,
        failed: found.get::<_, i64>(1) as u64,
        oldest_pending_at: found.get::<_, Option<i64>>(2).map(|at| at as u64),
    })
}
