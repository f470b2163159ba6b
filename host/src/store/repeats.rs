//! Repeated events counted, not logged again: Alertmanager re-sends a firing
//! group every `repeat_interval`, and a log of a thousand identical entries
//! says less than one entry with a count.

use super::model::{LogEntry, LogKind};

/// `last` (an incident's last log entry, its body restored) with one more
/// repeat when `entry` is a received event with the same action and logged
/// body; `None` when `entry` is not a repeat of it. Both engines' writers
/// use it.
pub fn counted(mut last: LogEntry, entry: &LogEntry) -> Option<LogEntry> {
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
