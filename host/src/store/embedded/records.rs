//! Lookups shared by the snapshot a plugin reads and the writer's validation,
//! written once over redb's `ReadableTable` so both see the same logic.

use crate::store::model::{Incident, IncidentId, LogEntry};
use crate::store::shared_bodies;
use redb::{ReadableTable, StorageError};

pub fn incident(
    table: &impl ReadableTable<u64, &'static [u8]>,
    id: IncidentId,
) -> Result<Option<Incident>, StorageError> {
    match table.get(id)? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
}

pub fn id_for_key(
    table: &impl ReadableTable<(&'static str, &'static str), u64>,
    source: &str,
    key: &str,
) -> Result<Option<IncidentId>, StorageError> {
    Ok(table.get((source, key))?.map(|id| id.value()))
}

pub fn state_value(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    source: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StorageError> {
    Ok(table.get((source, key))?.map(|value| value.value().to_vec()))
}

/// A stored log entry as the store hands it out: with its headers and
/// body, also when they are kept once in `bodies` for several incidents.
pub fn log_entry(
    bodies: &impl ReadableTable<&'static str, (u64, &'static [u8])>,
    bytes: &[u8],
) -> Result<LogEntry, StorageError> {
    let mut entry: LogEntry = decode(bytes)?;
    if let Some(key) = shared_bodies::key_of(&entry) {
        let record = bodies.get(key)?;
        shared_bodies::restore(&mut entry, record.as_ref().map(|r| r.value().1))
            .map_err(|error| StorageError::Corrupted(format!("undecodable event body: {error}")))?;
    }
    Ok(entry)
}

pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes)
        .map_err(|error| StorageError::Corrupted(format!("undecodable record: {error}")))
}

pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("model types always serialize")
}
