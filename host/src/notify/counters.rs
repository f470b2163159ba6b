//! The delivery counters of `/metrics`, by channel, and how one attempt's
//! outcome counts.

use super::delivery::Attempt;

pub const SENT: &str = "inbound_notifications_sent_total";
pub const FAILED: &str = "inbound_notifications_failed_total";
pub const RETRIED: &str = "inbound_notification_retries_total";
/// Notifications held by their contact's throttle (counted once each).
pub const HELD: &str = "inbound_notifications_held_total";
/// Digests delivered.
pub const DIGESTS: &str = "inbound_digests_sent_total";

/// Counts an attempt that delivered (or not) `notifications` notifications
/// through `channel`, and logs one that did not.
pub fn attempt(outcome: &Attempt, channel: &str, notifications: u64, about: &str) {
    let channel = channel.to_string();
    match outcome {
        Attempt::Sent(_) => metrics::counter!(SENT, "channel" => channel).increment(notifications),
        Attempt::Retry { detail, .. } => {
            tracing::warn!(channel = %channel, "delivery of {about} failed, will retry: {detail}");
            metrics::counter!(RETRIED, "channel" => channel).increment(notifications)
        }
        Attempt::Failed(detail) => {
            tracing::warn!(channel = %channel, "{about} failed: {detail}");
            metrics::counter!(FAILED, "channel" => channel).increment(notifications)
        }
    }
}
