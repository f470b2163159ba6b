//! A contact's throttle: at most `max_messages` messages per window, the
//! arithmetic of when the next one may go, and the keyed record
//! (`RecordKind::Contact`, named by `Recipient::contact_key`) that keeps the
//! send times. Pure: `contact.rs` reads and writes the record.

use crate::store::Millis;
use serde::{Deserialize, Serialize};

/// A channel's throttle in real time (`[notifications] time_scale` applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub max_messages: u32,
    /// The window's length in milliseconds.
    pub length: Millis,
}

/// What one contact was sent lately: the send times (milliseconds) still in
/// the window, oldest first, at most the channel's `max_messages` of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub sent: Vec<Millis>,
}

/// Most notifications in one digest; the rest wait for the next slot.
pub const DIGEST_MAX: usize = 500;

impl Window {
    /// The sends of `sent` still in the window at `now`, oldest first.
    fn recent(&self, sent: &[Millis], now: Millis) -> Vec<Millis> {
        let mut recent: Vec<Millis> =
            sent.iter().copied().filter(|&at| at.saturating_add(self.length) > now).collect();
        recent.sort_unstable();
        recent
    }

    /// When the next message may go: `now` while fewer than `max_messages`
    /// were sent in the window; otherwise when the oldest of the last
    /// `max_messages` sends leaves it.
    pub fn free_at(&self, sent: &[Millis], now: Millis) -> Millis {
        let recent = self.recent(sent, now);
        let max = self.max_messages.max(1) as usize;
        if recent.len() < max {
            now
        } else {
            recent[recent.len() - max].saturating_add(self.length).max(now)
        }
    }

    /// The record after one more send at `at`: what left the window dropped,
    /// and no more than `max_messages` times kept (older ones no longer
    /// decide anything).
    pub fn after_send(&self, record: &ContactRecord, at: Millis) -> ContactRecord {
        let mut sent = self.recent(&record.sent, at);
        sent.push(at);
        sent.sort_unstable();
        let keep = self.max_messages.max(1) as usize;
        let cut = sent.len().saturating_sub(keep);
        ContactRecord { sent: sent.split_off(cut) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Millis = 60_000;

    fn window(max_messages: u32) -> Window {
        Window { max_messages, length: 10 * MINUTE }
    }

    #[test]
    fn a_slot_is_free_until_the_window_holds_max_messages() {
        let throttle = window(3);
        assert_eq!(throttle.free_at(&[], 1_000), 1_000);
        assert_eq!(throttle.free_at(&[0, MINUTE], 2 * MINUTE), 2 * MINUTE);
        // Three sends at 0, 1 and 2 minutes: the first leaves at 10.
        assert_eq!(throttle.free_at(&[0, MINUTE, 2 * MINUTE], 3 * MINUTE), 10 * MINUTE);
        // At 10 minutes it has left; the next slot after that is at 11.
        assert_eq!(throttle.free_at(&[0, MINUTE, 2 * MINUTE], 10 * MINUTE), 10 * MINUTE);
        assert_eq!(
            throttle.free_at(&[MINUTE, 2 * MINUTE, 10 * MINUTE], 10 * MINUTE + 1),
            11 * MINUTE
        );
    }

    #[test]
    fn sends_that_left_the_window_count_for_nothing() {
        let throttle = window(2);
        assert_eq!(throttle.free_at(&[0, 1, 2, 3], 10 * MINUTE + 3), 10 * MINUTE + 3);
        assert_eq!(throttle.free_at(&[0, 1, 2, 3], 10 * MINUTE + 1), 10 * MINUTE + 2);
    }

    #[test]
    fn the_record_keeps_only_what_can_still_decide() {
        let throttle = window(2);
        let mut record = ContactRecord::default();
        for at in [0, MINUTE, 2 * MINUTE] {
            record = throttle.after_send(&record, at);
        }
        assert_eq!(record.sent, vec![MINUTE, 2 * MINUTE], "bounded by max_messages");
        let record = throttle.after_send(&record, 12 * MINUTE);
        assert_eq!(record.sent, vec![12 * MINUTE], "the window has moved past the others");
    }

    #[test]
    fn a_storm_gets_max_messages_then_one_slot_per_send_leaving() {
        // 1,000 due at once, 10 per 10 minutes: 10 go at once, then the
        // first slot frees when the first send leaves the window.
        let throttle = window(10);
        let mut record = ContactRecord::default();
        let mut sent_at = Vec::new();
        for due in 0..1000u64 {
            let now = due * 60; // a thousand in a minute
            if throttle.free_at(&record.sent, now) == now {
                record = throttle.after_send(&record, now);
                sent_at.push(now);
            }
        }
        assert_eq!(sent_at.len(), 10);
        assert_eq!(throttle.free_at(&record.sent, MINUTE), 10 * MINUTE);
    }
}
