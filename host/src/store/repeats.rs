//! Repeated events counted, not logged again: Alertmanager re-sends a firing
//! group every `repeat_interval`, and a log of a thousand identical entries
//! says less than one entry with a count.

use super::model::{IncidentId, LogEntry, LogKind};
use super::reads::{decode, encode};
use redb::{ReadableTable, Table};

/// When `entry` is a received event with the same action and logged body as
/// the last entry of `incident`'s log, adds one to that entry's repeat count
/// and returns true; otherwise changes nothing and returns false.
pub fn count_if_repeat(
    log: &mut Table<(u64, u64), &'static [u8]>,
    incident: IncidentId,
    entry: &LogEntry,
) -> Result<bool, redb::Error> {
    if !matches!(entry.kind, LogKind::EventReceived { .. }) {
        return Ok(false);
    }
    let Some(last) = log.range((incident, 0)..=(incident, u64::MAX))?.next_back() else {
        return Ok(false);
    };
    let (key, value) = last?;
    let seq = key.value().1;
    let stored: LogEntry = decode(value.value())?;
    drop((key, value));
    match counted(stored, entry) {
        Some(counted) => {
            log.insert((incident, seq), encode(&counted).as_slice())?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// `last` (an incident's last log entry) with one more repeat when `entry`
/// is a received event with the same action and logged body; `None` when
/// `entry` is not a repeat of it. Both engines' writers use it.
pub(super) fn counted(mut last: LogEntry, entry: &LogEntry) -> Option<LogEntry> {
    let LogKind::EventReceived { action, body, body_bytes, .. } = &entry.kind else {
        return None;
    };
    let LogKind::EventReceived {
        action: stored_action,
        body: stored_body,
        body_bytes: stored_bytes,
        repeats,
        last_repeat_at,
        ..
    } = &mut last.kind
    else {
        return None;
    };
    if stored_action != action || stored_bytes != body_bytes || stored_body != body {
        return None;
    }
    *repeats = repeats.saturating_add(1);
    *last_repeat_at = Some(entry.at);
    Some(last)
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
            },
        }
    }

    #[test]
    fn only_the_same_action_and_body_as_the_last_entry_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("db")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut log = txn.open_table(super::super::tables::INCIDENT_LOG).unwrap();
            assert!(!count_if_repeat(&mut log, 1, &event(1, Action::Unchanged, "a")).unwrap());
            log.insert((1, 0), encode(&event(1, Action::Unchanged, "a")).as_slice()).unwrap();
            assert!(count_if_repeat(&mut log, 1, &event(2, Action::Unchanged, "a")).unwrap());
            assert!(count_if_repeat(&mut log, 1, &event(3, Action::Unchanged, "a")).unwrap());
            assert!(!count_if_repeat(&mut log, 1, &event(4, Action::Unchanged, "b")).unwrap());
            assert!(!count_if_repeat(&mut log, 1, &event(4, Action::Created, "a")).unwrap());
            assert!(!count_if_repeat(&mut log, 2, &event(4, Action::Unchanged, "a")).unwrap());
            let stored: LogEntry = decode(log.get((1, 0)).unwrap().unwrap().value()).unwrap();
            let LogKind::EventReceived { repeats, last_repeat_at, .. } = stored.kind else {
                panic!("{stored:?}")
            };
            assert_eq!((repeats, last_repeat_at), (2, Some(3)));
            let comment = LogEntry { at: 5, kind: LogKind::Created { by: "x".into() } };
            log.insert((1, 1), encode(&comment).as_slice()).unwrap();
            assert!(!count_if_repeat(&mut log, 1, &event(6, Action::Unchanged, "a")).unwrap());
        }
        txn.commit().unwrap();
    }
}
