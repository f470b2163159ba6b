//! An event's headers and body stored once, however many incidents it
//! concerned.
//!
//! An Alertmanager group of twenty alerts is one webhook about twenty
//! incidents, and each incident's log gets an entry for it. Stored inline,
//! the body (up to `storage.event_body_cap_bytes`) was written twenty times.
//! Now, when several received-event entries of one change set carry the
//! same headers and body, the writer keeps them once in `event_bodies`,
//! under the SHA-256 of the record (so both engines can name it without
//! asking the database for an id), with the number of entries that refer to
//! it; each entry keeps only the key. Retention drops the record with the
//! last entry that refers to it. The store puts headers and body back into
//! every entry it returns, so nothing above the store sees the difference.
//!
//! An event about one incident keeps its body inline: a second record per
//! webhook would cost the common case more than it saves.

use super::changes::Write;
use super::model::{LogEntry, LogKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The part of a received event that its entries share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SharedBody {
    headers: Vec<(String, String)>,
    body: String,
}

/// What entries must carry alike to share a record: headers and body.
type EventContent<'a> = (&'a [(String, String)], &'a str);

/// One record to keep: its key, its encoding, and how many entries of the
/// change set were stored referring to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRecord {
    pub key: String,
    pub record: Vec<u8>,
    pub refs: u64,
}

/// Which received events of one change set share their body, and how many
/// of their entries were stored so far.
#[derive(Debug, Default)]
pub struct Sharing {
    records: Vec<SharedRecord>,
    /// Per write: the index in `records` of the body it shares.
    of_write: Vec<Option<usize>>,
}

impl Sharing {
    /// Finds, in `writes`, the received events whose headers and body at
    /// least one other received event of the same change set carries.
    pub fn plan(writes: &[Write]) -> Sharing {
        let events = writes.iter().filter(|w| matches!(w, Write::AppendEvent { .. })).count();
        if events < 2 {
            return Sharing::default();
        }
        let mut groups: HashMap<EventContent, Vec<usize>> = HashMap::new();
        for (index, write) in writes.iter().enumerate() {
            if let Write::AppendEvent { entry, .. } = write
                && let LogKind::EventReceived { headers, body, shared_body: None, .. } = &entry.kind
            {
                groups.entry((headers.as_slice(), body.as_str())).or_default().push(index);
            }
        }
        let mut sharing = Sharing { records: Vec::new(), of_write: vec![None; writes.len()] };
        for ((headers, body), members) in groups {
            if members.len() < 2 {
                continue;
            }
            let shared = SharedBody { headers: headers.to_vec(), body: body.to_string() };
            let record = serde_json::to_vec(&shared).expect("strings always serialize");
            let key = hex(&Sha256::digest(&record));
            for index in members {
                sharing.of_write[index] = Some(sharing.records.len());
            }
            sharing.records.push(SharedRecord { key, record, refs: 0 });
        }
        sharing
    }

    /// The entry to store for write `index`: `entry` itself, or, when its
    /// body is shared, the entry without headers and body and with the
    /// record's key (counted as one more reference).
    pub fn entry_to_store(&mut self, index: usize, entry: &LogEntry) -> Option<LogEntry> {
        let record = &mut self.records[(*self.of_write.get(index)?)?];
        record.refs += 1;
        Some(stripped(entry, &record.key))
    }

    /// The records at least one stored entry refers to, in the order of
    /// their keys (one webhook's change set has one record at most today;
    /// a change set with more locks them in a fixed order).
    pub fn into_records(mut self) -> impl Iterator<Item = SharedRecord> {
        self.records.sort_by(|a, b| a.key.cmp(&b.key));
        self.records.into_iter().filter(|record| record.refs > 0)
    }
}

/// The key of the record `entry`'s headers and body are kept in, if any.
pub fn key_of(entry: &LogEntry) -> Option<&str> {
    match &entry.kind {
        LogKind::EventReceived { shared_body, .. } => shared_body.as_deref(),
        _ => None,
    }
}

/// False when the stored entry `bytes` surely refers to no shared body: a
/// cheap test before decoding (the field name, as serde writes it).
pub fn may_refer(bytes: &[u8]) -> bool {
    const FIELD: &[u8] = b"\"shared_body\"";
    bytes.windows(FIELD.len()).any(|window| window == FIELD)
}

/// A copy of `entry` without its headers and body, referring to `key`:
/// the body (up to the cap, once per incident) is never copied.
fn stripped(entry: &LogEntry, key: &str) -> LogEntry {
    let LogKind::EventReceived {
        action, body_bytes, body_truncated, repeats, last_repeat_at, ..
    } = &entry.kind
    else {
        return entry.clone();
    };
    LogEntry {
        at: entry.at,
        kind: LogKind::EventReceived {
            action: *action,
            headers: Vec::new(),
            body: String::new(),
            body_bytes: *body_bytes,
            body_truncated: *body_truncated,
            repeats: *repeats,
            last_repeat_at: *last_repeat_at,
            shared_body: Some(key.to_string()),
        },
    }
}

/// `entry` with its headers and body moved out, referring to `key`.
pub fn without_body(mut entry: LogEntry, key: &str) -> LogEntry {
    if let LogKind::EventReceived { headers, body, shared_body, .. } = &mut entry.kind {
        headers.clear();
        body.clear();
        *shared_body = Some(key.to_string());
    }
    entry
}

/// Puts the headers and body of `record` (a stored [`SharedBody`]) back
/// into `entry`. With no record (it cannot be missing unless the file was
/// damaged), the entry is left with empty headers and body rather than
/// failing the whole read.
pub fn restore(entry: &mut LogEntry, record: Option<&[u8]>) -> Result<(), serde_json::Error> {
    let LogKind::EventReceived { headers, body, shared_body, .. } = &mut entry.kind else {
        return Ok(());
    };
    if shared_body.take().is_none() {
        return Ok(());
    }
    if let Some(record) = record {
        let shared: SharedBody = serde_json::from_slice(record)?;
        *headers = shared.headers;
        *body = shared.body;
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::Action;

    fn event(incident: u64, body: &str) -> Write {
        Write::AppendEvent {
            incident,
            entry: LogEntry {
                at: 1,
                kind: LogKind::EventReceived {
                    action: Action::Created,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: body.into(),
                    body_bytes: body.len(),
                    body_truncated: false,
                    repeats: 0,
                    last_repeat_at: None,
                    shared_body: None,
                },
            },
            count_repeats: true,
        }
    }

    fn entry(write: &Write) -> &LogEntry {
        let Write::AppendEvent { entry, .. } = write else { panic!("{write:?}") };
        entry
    }

    #[test]
    fn one_event_keeps_its_body_inline() {
        let writes = vec![event(1, "a")];
        let mut sharing = Sharing::plan(&writes);
        assert_eq!(sharing.entry_to_store(0, entry(&writes[0])), None);
        assert_eq!(sharing.into_records().count(), 0);
    }

    #[test]
    fn the_same_body_for_several_incidents_is_kept_once() {
        let writes =
            vec![event(1, "group"), event(2, "group"), event(3, "other"), event(4, "group")];
        let mut sharing = Sharing::plan(&writes);
        let stored: Vec<_> = (0..4).map(|i| sharing.entry_to_store(i, entry(&writes[i]))).collect();
        assert!(stored[2].is_none(), "a body no other entry carries stays inline");
        let keys: Vec<_> = [0, 1, 3].iter().map(|&i| key_of(stored[i].as_ref().unwrap())).collect();
        assert!(keys.iter().all(|key| key.is_some() && *key == keys[0]));
        let records: Vec<_> = sharing.into_records().collect();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].refs, 3);

        let mut restored = stored[1].clone().unwrap();
        let LogKind::EventReceived { body, headers, .. } = &restored.kind else { panic!() };
        assert!(body.is_empty() && headers.is_empty());
        restore(&mut restored, Some(&records[0].record)).unwrap();
        assert_eq!(&restored, entry(&writes[1]));
    }

    #[test]
    fn only_entries_actually_stored_are_counted() {
        let writes = vec![event(1, "group"), event(2, "group")];
        let mut sharing = Sharing::plan(&writes);
        // The first was counted as a repeat of its incident's last entry.
        sharing.entry_to_store(1, entry(&writes[1]));
        assert_eq!(sharing.into_records().map(|r| r.refs).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn different_headers_are_different_records() {
        let mut other = event(2, "group");
        if let Write::AppendEvent { entry, .. } = &mut other
            && let LogKind::EventReceived { headers, .. } = &mut entry.kind
        {
            headers.push(("x-delivery".into(), "2".into()));
        }
        let writes = vec![event(1, "group"), other];
        let mut sharing = Sharing::plan(&writes);
        assert_eq!(sharing.entry_to_store(0, entry(&writes[0])), None);
    }
}
