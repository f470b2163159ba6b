//! Reads of incidents from redb: counts per status, one page of an
//! incident's log, the newest incident of a source. Each is bounded (an
//! index lookup or one page), so a page of the console costs the same over a
//! thousand incidents or a million.

use super::Embedded;
use super::records;
use super::tables::*;
use crate::store::error::Error;
use crate::store::model::{Incident, IncidentId, LogEntry};
use crate::store::page::Page;
use crate::store::queries::Counts;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

impl Embedded {
    /// Incidents per status, of one source or of all.
    pub fn counts(&self, source: Option<&str>) -> Result<Counts, Error> {
        let txn = self.slot.get()?.begin_read()?;
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
        &self,
        id: IncidentId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        let txn = self.slot.get()?.begin_read()?;
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
    /// `after`, oldest first: reads a whole log in pages, or follows it.
    pub fn log_after(
        &self,
        id: IncidentId,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        let txn = self.slot.get()?.begin_read()?;
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
    pub fn newest_incident_of(&self, source: &str) -> Result<Option<Incident>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let index = txn.open_table(BY_SOURCE)?;
        let Some(entry) = index.range((source, 0)..=(source, u64::MAX))?.next_back() else {
            return Ok(None);
        };
        let id = entry?.0.value().1;
        Ok(records::incident(&txn.open_table(INCIDENTS)?, id)?)
    }
}

/// Fills [`COUNTS`] from the status index the first time a database is opened
/// by a host that keeps counts; later the writer keeps them in step.
pub(super) fn fill_counts_once(txn: &WriteTransaction) -> Result<(), Error> {
    let mut meta = txn.open_table(META)?;
    if meta.get(META_COUNTS_READY)?.is_some() {
        return Ok(());
    }
    let index = txn.open_table(BY_SOURCE_STATUS)?;
    let mut counts = txn.open_table(COUNTS)?;
    let mut current: Option<(String, u8, u64)> = None;
    for entry in index.iter()? {
        let key = entry?.0;
        let (source, code, _) = key.value();
        match &mut current {
            Some((s, c, n)) if s == source && *c == code => *n += 1,
            _ => {
                if let Some((s, c, n)) = current.take() {
                    counts.insert((s.as_str(), c), n)?;
                }
                current = Some((source.to_string(), code, 1));
            }
        }
    }
    if let Some((s, c, n)) = current {
        counts.insert((s.as_str(), c), n)?;
    }
    meta.insert(META_COUNTS_READY, 1)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::{ChangeSet, LogEntry, LogKind, Status, Write, now_millis};

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

    fn commit(store: &Store, writes: Vec<Write>) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(store.commit(ChangeSet { reads: vec![], writes })).unwrap();
    }

    #[test]
    fn counts_follow_creations_and_status_changes_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), Default::default(), |_| {}).unwrap();
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
        let store = Store::open(&path, Default::default(), |_| {}).unwrap();
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
        let store = Store::open(&path, Default::default(), |_| {}).unwrap();
        assert_eq!(store.counts(None).unwrap(), Counts { pending: 1, accepted: 0, resolved: 1 });
    }

    #[test]
    fn the_log_pages_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), Default::default(), |_| {}).unwrap();
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
