//! The reads of incidents, their logs and failed deliveries in redb, each
//! in one read transaction. Each is bounded (an index lookup or one page),
//! so a page of the console costs the same over a thousand incidents or a
//! million.

use super::records;
use super::tables::*;
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry};
use crate::store::page::Page;
use crate::store::queries::{Counts, ListQuery};
use redb::{ReadTransaction, ReadableTable};

/// A page of incidents, newest first, by the query's filters.
pub fn list(txn: &ReadTransaction, query: &ListQuery) -> Result<Page<Incident>, Error> {
    let incidents = txn.open_table(INCIDENTS)?;
    let before = query.before.unwrap_or(u64::MAX);
    let limit = query.limit;
    // Each index is ordered by id within its prefix, so walking it backwards
    // from `before` yields newest first and stops after one page.
    let ids: Page<IncidentId> = match (&query.source, query.status) {
        (None, None) => {
            let range = incidents.range(..before)?.rev();
            Page::read(range.map(|entry| Ok::<_, Error>(entry?.0.value())), limit, |id| *id)?
        }
        (None, Some(status)) => {
            let table = txn.open_table(BY_STATUS)?;
            let code = status.code();
            let range = table.range((code, 0)..(code, before))?.rev();
            Page::read(range.map(|entry| Ok::<_, Error>(entry?.0.value().1)), limit, |id| *id)?
        }
        (Some(source), None) => {
            let table = txn.open_table(BY_SOURCE)?;
            let range = table.range((source.as_str(), 0)..(source.as_str(), before))?.rev();
            Page::read(range.map(|entry| Ok::<_, Error>(entry?.0.value().1)), limit, |id| *id)?
        }
        (Some(source), Some(status)) => {
            let table = txn.open_table(BY_SOURCE_STATUS)?;
            let code = status.code();
            let range = (source.as_str(), code, 0)..(source.as_str(), code, before);
            let range = table.range(range)?.rev();
            Page::read(range.map(|entry| Ok::<_, Error>(entry?.0.value().2)), limit, |id| *id)?
        }
    };
    let mut page = Vec::with_capacity(ids.items.len());
    for id in ids.items {
        if let Some(incident) = records::incident(&incidents, id)? {
            page.push(incident);
        }
    }
    Ok(Page { items: page, next: ids.next })
}

/// The incident and its whole log, oldest entry first.
pub fn incident_with_log(
    txn: &ReadTransaction,
    id: IncidentId,
) -> Result<Option<(Incident, Vec<LogEntry>)>, Error> {
    let Some(incident) = records::incident(&txn.open_table(INCIDENTS)?, id)? else {
        return Ok(None);
    };
    let log_table = txn.open_table(INCIDENT_LOG)?;
    let bodies = txn.open_table(EVENT_BODIES)?;
    let mut log = Vec::new();
    for entry in log_table.range((id, 0)..=(id, u64::MAX))? {
        log.push(records::log_entry(&bodies, entry?.1.value())?);
    }
    Ok(Some((incident, log)))
}

pub fn incident(txn: &ReadTransaction, id: IncidentId) -> Result<Option<Incident>, Error> {
    Ok(records::incident(&txn.open_table(INCIDENTS)?, id)?)
}

/// Failed deliveries, newest first, one page at a time.
pub fn failures(
    txn: &ReadTransaction,
    before: Option<FailureId>,
    limit: usize,
) -> Result<Page<FailedDelivery>, Error> {
    let table = txn.open_table(FAILED_DELIVERIES)?;
    let range = table.range(..before.unwrap_or(u64::MAX))?.rev();
    let failures = range.map(|entry| Ok(records::decode(entry?.1.value())?));
    Page::read(failures, limit, |failure: &FailedDelivery| failure.id)
}

/// One failed delivery and its original body.
pub fn failure(
    txn: &ReadTransaction,
    id: FailureId,
) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error> {
    let Some(record) = txn.open_table(FAILED_DELIVERIES)?.get(id)? else {
        return Ok(None);
    };
    let failure: FailedDelivery = records::decode(record.value())?;
    let body =
        txn.open_table(FAILED_BODIES)?.get(id)?.map(|b| b.value().to_vec()).unwrap_or_default();
    Ok(Some((failure, body)))
}

/// Incidents per status, of one source or of all.
pub fn counts(txn: &ReadTransaction, source: Option<&str>) -> Result<Counts, Error> {
    let table = txn.open_table(COUNTS)?;
    let mut counts = Counts::default();
    match source {
        Some(source) => {
            for entry in table.range((source, 0)..=(source, u8::MAX))? {
                let (key, count) = entry?;
                counts.add(key.value().1, count.value());
            }
        }
        // One row per source and status: a handful, whatever the volume.
        None => {
            for entry in table.iter()? {
                let (key, count) = entry?;
                counts.add(key.value().1, count.value());
            }
        }
    }
    Ok(counts)
}

/// Up to `limit` log entries of incident `id` older than sequence
/// `before`, newest first.
pub fn log_before(
    txn: &ReadTransaction,
    id: IncidentId,
    before: Option<u64>,
    limit: usize,
) -> Result<Page<(u64, LogEntry)>, Error> {
    let table = txn.open_table(INCIDENT_LOG)?;
    let bodies = txn.open_table(EVENT_BODIES)?;
    let range = table.range((id, 0)..(id, before.unwrap_or(u64::MAX)))?.rev();
    let entries = range.map(|entry| {
        let (key, value) = entry?;
        Ok((key.value().1, records::log_entry(&bodies, value.value())?))
    });
    Page::read(entries, limit, |(seq, _)| *seq)
}

/// Up to `limit` log entries of incident `id` with a sequence above
/// `after`, oldest first.
pub fn log_after(
    txn: &ReadTransaction,
    id: IncidentId,
    after: Option<u64>,
    limit: usize,
) -> Result<Page<(u64, LogEntry)>, Error> {
    let table = txn.open_table(INCIDENT_LOG)?;
    let bodies = txn.open_table(EVENT_BODIES)?;
    let start = after.map_or(0, |seq| seq.saturating_add(1));
    let entries = table.range((id, start)..=(id, u64::MAX))?.map(|entry| {
        let (key, value) = entry?;
        Ok((key.value().1, records::log_entry(&bodies, value.value())?))
    });
    Page::read(entries, limit, |(seq, _)| *seq)
}

/// The most recently created incident of `source`.
pub fn newest_incident_of(txn: &ReadTransaction, source: &str) -> Result<Option<Incident>, Error> {
    let index = txn.open_table(BY_SOURCE)?;
    let Some(entry) = index.range((source, 0)..=(source, u64::MAX))?.next_back() else {
        return Ok(None);
    };
    let id = entry?.0.value().1;
    Ok(records::incident(&txn.open_table(INCIDENTS)?, id)?)
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestEngine;
    use super::*;
    use crate::store::changes::{ChangeSet, Write};
    use crate::store::engine::Engine;
    use crate::store::model::{LogKind, Status, now_millis};

    fn incident(id: IncidentId, source: &str, status: Status) -> Incident {
        Incident {
            id,
            source: source.into(),
            key: format!("k{id}"),
            status,
            summary: "s".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            escalation_policy: "p".into(),
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    fn commit(store: &TestEngine, writes: Vec<Write>) {
        store.commit(ChangeSet { reads: vec![], writes }).unwrap();
    }

    #[test]
    fn counts_follow_creations_and_status_changes_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = TestEngine::open(&dir.path().join("db"));
        commit(
            &store,
            vec![
                Write::PutIncident(incident(1, "a", Status::Pending)),
                Write::PutIncident(incident(2, "a", Status::Pending)),
                Write::PutIncident(incident(3, "b", Status::Pending)),
            ],
        );
        let mut accepted = incident(1, "a", Status::Accepted);
        accepted.version = 2;
        commit(&store, vec![Write::PutIncident(accepted.clone())]);
        // Writing the same status again must not count twice.
        commit(&store, vec![Write::PutIncident(accepted)]);
        let a = Counts { pending: 1, accepted: 1, resolved: 0 };
        assert_eq!(store.counts(Some("a")).unwrap(), a);
        assert_eq!(store.counts(Some("b")).unwrap(), Counts { pending: 1, ..Counts::default() });
        assert_eq!(store.counts(None).unwrap(), Counts { pending: 2, accepted: 1, resolved: 0 });
        assert_eq!(store.counts(Some("nobody")).unwrap(), Counts::default());
    }

    #[test]
    fn counts_are_filled_from_the_index_once_for_an_older_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = TestEngine::open(&path);
        commit(
            &store,
            vec![
                Write::PutIncident(incident(1, "a", Status::Pending)),
                Write::PutIncident(incident(2, "a", Status::Resolved)),
            ],
        );
        store.close();
        // Make it look like a database from before the counts table.
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.delete_table(COUNTS).unwrap();
        txn.open_table(META).unwrap().remove(META_COUNTS_READY).unwrap();
        txn.commit().unwrap();
        drop(db);
        let store = TestEngine::open(&path);
        assert_eq!(store.counts(None).unwrap(), Counts { pending: 1, accepted: 0, resolved: 1 });
    }

    #[test]
    fn the_log_pages_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = TestEngine::open(&dir.path().join("db"));
        let mut writes = vec![Write::PutIncident(incident(1, "a", Status::Pending))];
        for n in 0..5 {
            let kind = LogKind::Comment { author: None, text: format!("c{n}"), by: "t".into() };
            writes
                .push(Write::AppendLog { incident: 1, entry: LogEntry { at: now_millis(), kind } });
        }
        commit(&store, writes);
        let text = |page: &Page<(u64, LogEntry)>| -> Vec<String> {
            page.items
                .iter()
                .map(|(_, e)| match &e.kind {
                    LogKind::Comment { text, .. } => text.clone(),
                    _ => String::new(),
                })
                .collect()
        };
        let first = store.log_before(1, None, 2).unwrap();
        assert_eq!(text(&first), ["c4", "c3"]);
        let second = store.log_before(1, first.next, 2).unwrap();
        assert_eq!(text(&second), ["c2", "c1"]);
        let last = store.log_before(1, second.next, 2).unwrap();
        assert_eq!(text(&last), ["c0"]);
        assert_eq!(last.next, None);
    }
}
