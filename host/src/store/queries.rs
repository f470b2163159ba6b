//! What reads are asked besides an id, and the totals they answer: the
//! filters and cursors of listings, and counts for the console and metrics.

use super::model::{IncidentId, Millis, Status};
use super::outbox::{DeliveryStatus, Notification, NotificationId};

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub source: Option<String>,
    /// Only incidents with a smaller id (the previous page's cursor).
    pub before: Option<IncidentId>,
    pub limit: usize,
}

/// Which notifications a listing pages through, newest first.
#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    pub status: Option<DeliveryStatus>,
    pub incident: Option<IncidentId>,
    /// Only notifications with a smaller id (the previous page's cursor).
    pub before: Option<NotificationId>,
    pub limit: usize,
}

/// What a listing of due notifications leaves out: those being delivered
/// here already, and those of channels with no free delivery slot. Without
/// it, a stalled channel's backlog (oldest first) would fill every listing
/// and hide the other channels' notifications behind it.
#[derive(Debug, Clone, Default)]
pub struct DueFilter {
    pub in_flight: std::collections::HashSet<NotificationId>,
    pub full_channels: std::collections::HashSet<String>,
    /// Contacts ([`Recipient::contact_key`](super::outbox::Recipient::contact_key))
    /// being delivered to now: their notifications wait for that delivery.
    pub busy_contacts: std::collections::HashSet<String>,
    /// Only this contact's notifications (a digest gathering them).
    pub only_contact: Option<String>,
}

impl DueFilter {
    pub fn admits(&self, notification: &Notification) -> bool {
        let contact = || notification.recipient.contact_key();
        !self.in_flight.contains(&notification.id)
            && !self.full_channels.contains(&notification.recipient.channel)
            && (self.busy_contacts.is_empty() || !self.busy_contacts.contains(&contact()))
            && self.only_contact.as_ref().is_none_or(|only| *only == contact())
    }

    /// Every due notification of one contact.
    pub fn contact(key: &str) -> DueFilter {
        DueFilter { only_contact: Some(key.to_string()), ..DueFilter::default() }
    }
}

/// What the outbox holds, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    pub pending: u64,
    pub failed: u64,
    /// `created_at` of the oldest pending notification.
    pub oldest_pending_at: Option<Millis>,
}

/// Incidents per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: u64,
    pub accepted: u64,
    pub resolved: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.pending + self.accepted + self.resolved
    }

    pub fn of(&self, status: Status) -> u64 {
        match status {
            Status::Pending => self.pending,
            Status::Accepted => self.accepted,
            Status::Resolved => self.resolved,
        }
    }

    pub(super) fn add(&mut self, code: u8, count: u64) {
        match code {
            0 => self.pending += count,
            1 => self.accepted += count,
            _ => self.resolved += count,
        }
    }
}

/// Most incidents or failed deliveries one change set deletes: small enough
/// to ride along with a batch of webhooks.
pub const SWEEP_CHUNK: usize = 64;

/// What a retention sweep may delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Resolved incidents resolved before this moment.
    pub resolved_before: Option<Millis>,
    /// Failed deliveries received before this moment.
    pub failed_before: Option<Millis>,
    /// Audit entries written before this moment.
    pub audit_before: Option<Millis>,
    /// Console sessions that expired before this moment.
    pub sessions_before: Option<Millis>,
}

/// What a backup wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    pub rows: u64,
    pub bytes: u64,
}
