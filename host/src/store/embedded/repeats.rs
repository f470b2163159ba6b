//! Repeated events counted in redb (the rule is `store::repeats`).

use super::records::{decode, encode};
use super::tables::Tables;
use crate::store::model::{IncidentId, LogEntry, LogKind};
use crate::store::repeats::counted;
use crate::store::shared_bodies;
use redb::ReadableTable;

/// When `entry` is a received event with the same action and logged body as
/// the last entry of `incident`'s log, adds one to that entry's repeat count
/// and returns true; otherwise changes nothing and returns false.
pub fn count_if_repeat(
    tables: &mut Tables,
    incident: IncidentId,
    entry: &LogEntry,
) -> Result<bool, redb::Error> {
    if !matches!(entry.kind, LogKind::EventReceived { .. }) {
        return Ok(false);
    }
    let log = &mut tables.log;
    let Some(last) = log.range((incident, 0)..=(incident, u64::MAX))?.next_back() else {
        return Ok(false);
    };
    let (key, value) = last?;
    let seq = key.value().1;
    let mut stored: LogEntry = decode(value.value())?;
    drop((key, value));
    // A last entry whose body is kept apart is compared with that body.
    let shared = shared_bodies::key_of(&stored).map(str::to_string);
    if let Some(shared) = &shared {
        let record = tables.event_bodies.get(shared.as_str())?;
        shared_bodies::restore(&mut stored, record.as_ref().map(|r| r.value().1))
            .map_err(|e| redb::StorageError::Corrupted(format!("event body {shared}: {e}")))?;
    }
    match counted(stored, entry) {
        Some(counted) => {
            let counted = match &shared {
                Some(shared) => shared_bodies::without_body(counted, shared),
                None => counted,
            };
            tables.log.insert((incident, seq), encode(&counted).as_slice())?;
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::Action;

    fn event(at: u64, action: Action, body: &str) -> LogEntry {
        LogEntry {
            at,
            kind: LogKind::EventReceived {
                action,
                headers: Vec::new(),
                body: body.into(),
                body_bytes: body.len(),
                body_truncated: false,
                repeats: 0,
                last_repeat_at: None,
                shared_body: None,
            },
        }
    }

    #[test]
    fn only_the_same_action_and_body_as_the_last_entry_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("db")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut tables = Tables::open(&txn).unwrap();
            assert!(!count_if_repeat(&mut tables, 1, &event(1, Action::Unchanged, "a")).unwrap());
            tables
                .log
                .insert((1, 0), encode(&event(1, Action::Unchanged, "a")).as_slice())
                .unwrap();
            assert!(count_if_repeat(&mut tables, 1, &event(2, Action::Unchanged, "a")).unwrap());
            assert!(count_if_repeat(&mut tables, 1, &event(3, Action::Unchanged, "a")).unwrap());
            assert!(!count_if_repeat(&mut tables, 1, &event(4, Action::Unchanged, "b")).unwrap());
            assert!(!count_if_repeat(&mut tables, 1, &event(4, Action::Created, "a")).unwrap());
            assert!(!count_if_repeat(&mut tables, 2, &event(4, Action::Unchanged, "a")).unwrap());
            let stored: LogEntry =
                decode(tables.log.get((1, 0)).unwrap().unwrap().value()).unwrap();
            let LogKind::EventReceived { repeats, last_repeat_at, .. } = stored.kind else {
                panic!("{stored:?}")
            };
            assert_eq!((repeats, last_repeat_at), (2, Some(3)));
            let comment = LogEntry { at: 5, kind: LogKind::Created { by: "x".into() } };
            tables.log.insert((1, 1), encode(&comment).as_slice()).unwrap();
            assert!(!count_if_repeat(&mut tables, 1, &event(6, Action::Unchanged, "a")).unwrap());
        }
        txn.commit().unwrap();
    }
}
