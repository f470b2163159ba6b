//! Passwords, console sessions and the audit trail in PostgreSQL, read as
//! the embedded engine reads them (`store/embedded/accounts.rs`).

use super::link::Connection;
use super::reads::{decode, id_of, row, rows, sql_id};
use crate::store::accounts::{AuditEntry, AuditQuery, StoredSession};
use crate::store::changes::Write;
use crate::store::error::Error;
use crate::store::model::Millis;
use crate::store::page::{Page, fetch_for};
use crate::store::queries::{RetentionCutoffs, SWEEP_CHUNK};
use crate::store::shifts::Shift;

pub(super) async fn password_hash(db: &Connection, person: &str) -> Result<Option<String>, Error> {
    let sql = "SELECT hash FROM passwords WHERE person = $1";
    Ok(row(db, sql, &[&person]).await?.map(|row| row.get(0)))
}

pub(super) async fn shifts(db: &Connection, after: Millis) -> Result<Vec<Shift>, Error> {
    let sql = "SELECT id, record FROM shifts WHERE until > $1 ORDER BY id";
    let mut found = Vec::new();
    for row in rows(db, sql, &[&sql_id(after)]).await? {
        let shift: Shift = decode(row.get(1))?;
        found.push(Shift { id: id_of(&row, 0), ..shift });
    }
    Ok(found)
}

pub(super) async fn feed_key_owner(db: &Connection, digest: &str) -> Result<Option<String>, Error> {
    let sql = "SELECT person FROM feed_keys WHERE digest = $1";
    Ok(row(db, sql, &[&digest]).await?.map(|row| row.get(0)))
}

pub(super) async fn session(db: &Connection, key: &str) -> Result<Option<StoredSession>, Error> {
    match row(db, "SELECT record FROM sessions WHERE key = $1", &[&key]).await? {
        Some(row) => Ok(Some(decode(row.get(0))?)),
        None => Ok(None),
    }
}

pub(super) async fn audit(db: &Connection, query: &AuditQuery) -> Result<Page<AuditEntry>, Error> {
    let before = sql_id(query.before.unwrap_or(u64::MAX));
    let fetch = fetch_for(query.limit) as i64;
    let found = match &query.action {
        None => {
            let sql = "SELECT id, record FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2";
            rows(db, sql, &[&before, &fetch]).await?
        }
        Some(action) => {
            let sql = "SELECT id, record FROM audit WHERE action = $1 AND id < $2 \
                       ORDER BY id DESC LIMIT $3";
            rows(db, sql, &[action, &before, &fetch]).await?
        }
    };
    let mut entries = Vec::with_capacity(found.len());
    for row in found {
        let entry: AuditEntry = decode(row.get(1))?;
        entries.push(AuditEntry { id: id_of(&row, 0), ..entry });
    }
    Ok(Page::cut(entries, query.limit, |entry| entry.id))
}

/// The retention chunk of sessions and audit entries that `cutoffs` expire.
pub(super) async fn expired(
    db: &Connection,
    cutoffs: RetentionCutoffs,
) -> Result<Vec<Write>, Error> {
    let mut writes = Vec::new();
    let chunk = SWEEP_CHUNK as i64;
    if let Some(before) = cutoffs.sessions_before {
        let sql = "SELECT key FROM sessions WHERE expires_at < $1 LIMIT $2";
        for row in rows(db, sql, &[&sql_id(before), &chunk]).await? {
            writes.push(Write::DeleteSession { key: row.get(0) });
        }
    }
    if let Some(before) = cutoffs.sessions_before {
        // Ended shifts are kept a week, as on redb.
        let ended = before.saturating_sub(7 * 24 * 3600 * 1000);
        let sql = "SELECT id FROM shifts WHERE until < $1 LIMIT $2";
        for row in rows(db, sql, &[&sql_id(ended), &chunk]).await? {
            writes.push(Write::DeleteShift(id_of(&row, 0)));
        }
    }
    if let Some(before) = cutoffs.audit_before {
        let sql =
            "SELECT max(id) FROM (SELECT id FROM audit WHERE at < $1 ORDER BY id LIMIT $2) old";
        let newest: Option<i64> =
            row(db, sql, &[&sql_id(before), &chunk]).await?.and_then(|row| row.get(0));
        if let Some(newest) = newest {
            writes.push(Write::DeleteAuditBefore(newest as u64 + 1));
        }
    }
    Ok(writes)
}
