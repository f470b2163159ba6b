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
    let LogKind::EventReceived { action, body, body_bytes, .. } = &entry.kind else {
        return Ok(false);
    };
    let Some(last) = log.range((incident, 0)..=(incident, u64::MAX))?.next_back() else {
        return Ok(false);
    };
    let (key, value) = last?;
    let seq = key.value().1;
    let mut stored: LogEntry = decode(value.value())?;
    drop((key, value));
    let LogKind::EventReceived {
        action: stored_action,
        body: stored_body,
        body_bytes: stored_bytes,
        repeats,
        last_repeat_at,
        ..
    } = &mut stored.kind
    else {
        return Ok(false);
    };
    if stored_action != action || stored_bytes != body_bytes || stored_body != body {
        return Ok(false);
    }
    *repeats = repeats.saturating_add(1);
    *last_repeat_at = Some(entry.at);
    log.insert((incident, seq), encode(&stored).as_slice())?;
    Ok(true)
}
