//! Small records the host keeps by kind and name: maintenance windows made
//! at run time, heartbeat timers, and what each contact was sent lately
//! (the throttle). Few of each (tens, not millions), read whole, written
//! one at a time with compare-and-set: a change carries the bytes it read
//! ([`ReadCheck::Record`](super::ReadCheck::Record)), so two hosts that
//! act on the same timer commit once.
//!
//! One table for all of them, on both engines, instead of one per kind:
//! each kind is a handful of JSON records with the same needs (list all,
//! put, delete, check unchanged), and a new kind costs no migration.

use super::changes::{ReadCheck, Write};
pub use super::record_kind::RecordKind;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record as stored: its value and the exact bytes it was read from,
/// which a change that depends on it checks again at commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<T> {
    pub name: String,
    pub value: T,
    pub raw: Vec<u8>,
}

impl<T: DeserializeOwned + Serialize> Keyed<T> {
    /// Decodes what an engine listed; a record this build cannot read is
    /// skipped with a warning rather than stopping every timer of its kind.
    pub fn decode_all(kind: RecordKind, rows: Vec<(String, Vec<u8>)>) -> Vec<Keyed<T>> {
        rows.into_iter()
            .filter_map(|(name, raw)| match serde_json::from_slice(&raw) {
                Ok(value) => Some(Keyed { name, value, raw }),
                Err(error) => {
                    tracing::warn!(
                        kind = kind.as_str(),
                        name,
                        "unreadable record skipped: {error}"
                    );
                    None
                }
            })
            .collect()
    }

    /// The check that this record is still as read.
    pub fn unchanged(&self, kind: RecordKind) -> ReadCheck {
        ReadCheck::Record { kind, name: self.name.clone(), expected: Some(self.raw.clone()) }
    }
}

/// The check that no record `name` of `kind` exists yet.
pub fn record_absent(kind: RecordKind, name: &str) -> ReadCheck {
    ReadCheck::Record { kind, name: name.to_string(), expected: None }
}

/// The write that stores `value` as record `name` of `kind`.
pub fn put_record<T: Serialize>(kind: RecordKind, name: &str, value: &T) -> Write {
    Write::PutRecord {
        kind,
        name: name.to_string(),
        value: serde_json::to_vec(value).expect("record types always serialize"),
    }
}
