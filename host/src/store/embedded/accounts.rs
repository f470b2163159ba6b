//! Passwords, console sessions and the audit trail in redb: the writer's
//! side (on [`Tables`]) and the reads, each in one read transaction.

use super::records::{decode, encode};
use super::tables::*;
use crate::store::accounts::{AuditEntry, AuditQuery, StoredSession};
use crate::store::changes::Write;
use crate::store::error::Error;
use crate::store::model::Millis;
use crate::store::page::Page;
use crate::store::queries::{RetentionCutoffs, SWEEP_CHUNK};
use crate::store::shifts::Shift;
use redb::{ReadTransaction, ReadableTable};

/// How long an ended shift is kept before retention deletes it.
pub const SHIFTS_KEPT_MILLIS: u64 = 7 * 24 * 3600 * 1000;

impl Tables<'_> {
    /// Ends every session `person` holds. Sessions are few (one per signed-in
    /// browser), so a scan is cheaper than an index kept on every sign-in.
    pub fn delete_sessions_of(&mut self, person: &str) -> Result<(), redb::Error> {
        let mut theirs = Vec::new();
        for entry in self.sessions.iter()? {
            let (key, value) = entry?;
            let session: StoredSession = decode(value.value())?;
            if session.principal.person() == Some(person) {
                theirs.push(key.value().to_string());
            }
        }
        for key in theirs {
            self.sessions.remove(key.as_str())?;
        }
        Ok(())
    }

    /// The next id from counter `name`, never one used before.
    fn next_id(&mut self, name: &str, last: Option<u64>) -> Result<u64, redb::Error> {
        let counted = self.meta.get(name)?.map(|value| value.value());
        let id = counted.unwrap_or(1).max(last.map_or(1, |last| last + 1));
        self.meta.insert(name, id + 1)?;
        Ok(id)
    }

    /// Appends `entry` under the next id.
    pub fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), redb::Error> {
        let last = self.audit.last()?.map(|(key, _)| key.value());
        let id = self.next_id(META_NEXT_AUDIT_ID, last)?;
        let entry = AuditEntry { id, ..entry.clone() };
        self.audit.insert(id, encode(&entry).as_slice())?;
        Ok(())
    }

    /// Stores `shift` under the next id.
    pub fn add_shift(&mut self, shift: &Shift) -> Result<(), redb::Error> {
        let last = self.shifts.last()?.map(|(key, _)| key.value());
        let id = self.next_id(META_NEXT_SHIFT_ID, last)?;
        let shift = Shift { id, ..shift.clone() };
        self.shifts.insert(id, encode(&shift).as_slice())?;
        Ok(())
    }

    pub fn delete_audit_before(&mut self, id: u64) -> Result<(), redb::Error> {
        let old: Vec<u64> = self
            .audit
            .range(..id)?
            .map(|entry| entry.map(|(key, _)| key.value()))
            .collect::<Result<_, _>>()?;
        for key in old {
            self.audit.remove(key)?;
        }
        Ok(())
    }
}

pub fn password_hash(txn: &ReadTransaction, person: &str) -> Result<Option<String>, Error> {
    let table = txn.open_table(PASSWORDS)?;
    Ok(table.get(person)?.map(|hash| hash.value().to_string()))
}

/// Shifts that end after `after`. They are few (people take them by hand),
/// so they are read whole.
pub fn shifts(txn: &ReadTransaction, after: Millis) -> Result<Vec<Shift>, Error> {
    let table = txn.open_table(SHIFTS)?;
    let mut found = Vec::new();
    for entry in table.iter()? {
        let shift: Shift = decode(entry?.1.value())?;
        if shift.until > after {
            found.push(shift);
        }
    }
    Ok(found)
}

/// Whose feed key has `digest`. Keys are one per person: a scan.
pub fn feed_key_owner(txn: &ReadTransaction, digest: &str) -> Result<Option<String>, Error> {
    let table = txn.open_table(FEED_KEYS)?;
    for entry in table.iter()? {
        let (person, stored) = entry?;
        if stored.value() == digest {
            return Ok(Some(person.value().to_string()));
        }
    }
    Ok(None)
}

pub fn session(txn: &ReadTransaction, key: &str) -> Result<Option<StoredSession>, Error> {
    let table = txn.open_table(SESSIONS)?;
    match table.get(key)? {
        Some(value) => Ok(Some(decode(value.value())?)),
        None => Ok(None),
    }
}

pub fn audit(txn: &ReadTransaction, query: &AuditQuery) -> Result<Page<AuditEntry>, Error> {
    let table = txn.open_table(AUDIT)?;
    let before = query.before.unwrap_or(u64::MAX);
    let entries = table.range(..before)?.rev().filter_map(|entry| {
        let decoded = entry
            .map_err(Error::from)
            .and_then(|(_, value)| Ok(decode::<AuditEntry>(value.value())?));
        match decoded {
            Ok(entry) if query.action.as_ref().is_some_and(|action| *action != entry.action) => {
                None
            }
            other => Some(other),
        }
    });
    Page::read(entries, query.limit, |entry| entry.id)
}

/// The retention chunk of sessions and audit entries that `cutoffs` expire.
pub fn expired(txn: &ReadTransaction, cutoffs: RetentionCutoffs) -> Result<Vec<Write>, Error> {
    let mut writes = Vec::new();
    if let Some(before) = cutoffs.sessions_before {
        let sessions = txn.open_table(SESSIONS)?;
        for entry in sessions.iter()? {
            let (key, value) = entry?;
            let session: StoredSession = decode(value.value())?;
            if session.expires_at < before {
                writes.push(Write::DeleteSession { key: key.value().to_string() });
                if writes.len() >= SWEEP_CHUNK {
                    break;
                }
            }
        }
    }
    if let Some(before) = cutoffs.sessions_before {
        // Ended shifts are kept a week, for "who covered last night".
        let ended = before.saturating_sub(SHIFTS_KEPT_MILLIS);
        for entry in txn.open_table(SHIFTS)?.iter()?.take(SWEEP_CHUNK) {
            let shift: Shift = decode(entry?.1.value())?;
            if shift.until < ended {
                writes.push(Write::DeleteShift(shift.id));
            }
        }
    }
    if let Some(before) = cutoffs.audit_before {
        let audit = txn.open_table(AUDIT)?;
        // Ids grow with time: everything below the first entry written at
        // or after the cutoff goes, a chunk at a time.
        let mut cut = None;
        for entry in audit.iter()?.take(SWEEP_CHUNK) {
            let (key, value) = entry?;
            if decode::<AuditEntry>(value.value())?.at >= before {
                break;
            }
            cut = Some(key.value() + 1);
        }
        if let Some(cut) = cut {
            writes.push(Write::DeleteAuditBefore(cut));
        }
    }
    Ok(writes)
}
