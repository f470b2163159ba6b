//! Escalations and the notification outbox, as stored.
//!
//! An [`Escalation`] is kept per incident and derived by the writer from the
//! incident's status, like an index: created with the incident (level 0 due
//! at once), stopped when it is accepted, turned into "resolved notices due"
//! when it is resolved. Because the writer does it, the timer is in the same
//! durable commit as the change that schedules it, whichever path made the
//! change (webhook, API, one-click link). The notify engine then fires due
//! escalations into [`Notification`]s (the outbox) and delivers them; each
//! of those steps is one commit guarded by the versions it read, so a level
//! never fires twice and a delivery is never recorded twice.

use super::Embedded;
use super::records::{self, decode};
use super::tables::*;
use crate::store::Error;
use crate::store::model::{Incident, IncidentId, Millis, Status};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

pub type NotificationId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Levels fire while nobody accepts.
    Active,
    /// Someone accepted: no further levels.
    Accepted,
    /// Levels (and repeats) are used up; nobody accepted.
    Exhausted,
    /// Resolved; the "resolved" notices to everyone notified are due.
    ResolvedNoticeDue,
    /// Resolved and everything is sent (or there was no one to tell).
    Closed,
}

/// Someone (or some channel) a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub channel: String,
    /// The person from `[[people]]`; none for a `channel:` target.
    pub person: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredLevel {
    pub level: u32,
    pub round: u32,
    /// When it was due and when it fired (later after downtime).
    pub due_at: Millis,
    pub fired_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub incident: IncidentId,
    pub policy: String,
    /// The level that fires next.
    pub next_level: u32,
    /// 0 on the first run through the levels, n on the n-th repeat.
    pub round: u32,
    /// When the engine must act next; none when nothing is left to do.
    pub due_at: Option<Millis>,
    pub state: EscalationState,
    /// Everyone notified so far, once each: the resolved notice goes to them.
    pub notified: Vec<Recipient>,
    pub fired: Vec<FiredLevel>,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Triggered,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

impl DeliveryStatus {
    /// Stable one-byte code used in index keys. Never renumber.
    pub fn code(self) -> u8 {
        match self {
            DeliveryStatus::Pending => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Failed => 2,
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "sent" => Some(DeliveryStatus::Sent),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One message to one recipient through one channel: an outbox entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub incident: IncidentId,
    pub kind: NotificationKind,
    pub level: u32,
    pub round: u32,
    pub recipient: Recipient,
    pub created_at: Millis,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Millis,
    /// Messages of the rendered list already delivered: a retry resumes there.
    pub messages_sent: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<Millis>,
    pub version: u64,
}

impl Notification {
    /// Stable across retries and restarts: receivers drop a resend by it.
    pub fn idempotency_key(&self) -> String {
        format!("inbound-{}-{}", self.incident, self.id)
    }
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
}

impl DueFilter {
    pub fn admits(&self, notification: &Notification) -> bool {
        !self.in_flight.contains(&notification.id)
            && !self.full_channels.contains(&notification.recipient.channel)
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

/// The writer's side: escalations and notifications in the batch's
/// transaction, with their indexes kept in step.
impl Tables<'_> {
    pub fn escalation(&self, incident: IncidentId) -> Result<Option<Escalation>, redb::Error> {
        Ok(match self.escalations.get(incident)? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        })
    }

    pub fn put_escalation(&mut self, escalation: &Escalation) -> Result<(), redb::Error> {
        if let Some(old) = self.escalation(escalation.incident)?
            && let Some(due) = old.due_at
        {
            self.escalation_due.remove((due, old.incident))?;
        }
        self.escalations.insert(escalation.incident, records::encode(escalation).as_slice())?;
        if let Some(due) = escalation.due_at {
            self.escalation_due.insert((due, escalation.incident), ())?;
        }
        Ok(())
    }

    pub fn notification(&self, id: NotificationId) -> Result<Option<Notification>, redb::Error> {
        Ok(match self.notifications.get(id)? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        })
    }

    pub fn put_notification(&mut self, notification: &Notification) -> Result<(), redb::Error> {
        match self.notification(notification.id)? {
            Some(old) => {
                self.notification_status.remove((old.status.code(), old.id))?;
                if old.status == DeliveryStatus::Pending {
                    self.notification_due.remove((old.next_attempt_at, old.id))?;
                }
            }
            None => {
                self.notification_by_incident
                    .insert((notification.incident, notification.id), ())?;
            }
        }
        self.notifications.insert(notification.id, records::encode(notification).as_slice())?;
        self.notification_status.insert((notification.status.code(), notification.id), ())?;
        if notification.status == DeliveryStatus::Pending {
            self.notification_due.insert((notification.next_attempt_at, notification.id), ())?;
        }
        Ok(())
    }

    /// Keeps the incident's escalation in step with its status: the part of
    /// escalation that must commit with the incident change itself.
    pub fn follow_incident(
        &mut self,
        previous: Option<&Incident>,
        incident: &Incident,
    ) -> Result<(), redb::Error> {
        // The escalation follows the status alone: same status, nothing to do.
        if previous.is_some_and(|old| old.status == incident.status) {
            return Ok(());
        }
        let stored = match previous {
            None => None,
            Some(_) => self.escalation(incident.id)?,
        };
        if let Some(escalation) = escalation_after(previous, stored, incident) {
            self.put_escalation(&escalation)?;
        }
        Ok(())
    }
}

/// The escalation `incident` should have after changing from `previous`
/// (none: it is new), given the escalation `stored` for it; `None` when
/// nothing is to be written. Both engines' writers call it in the commit
/// that changes the incident.
pub(in crate::store) fn escalation_after(
    previous: Option<&Incident>,
    stored: Option<Escalation>,
    incident: &Incident,
) -> Option<Escalation> {
    if previous.is_some_and(|old| old.status == incident.status) {
        return None;
    }
    let mut escalation = match previous {
        None => Escalation {
            incident: incident.id,
            policy: incident.escalation_policy.clone(),
            next_level: 0,
            round: 0,
            due_at: Some(incident.created_at),
            state: EscalationState::Active,
            notified: Vec::new(),
            fired: Vec::new(),
            version: 0,
        },
        // Incidents from before escalations existed have none.
        Some(_) => stored.clone()?,
    };
    match incident.status {
        Status::Pending => {}
        Status::Accepted => {
            if matches!(escalation.state, EscalationState::Active | EscalationState::Exhausted) {
                escalation.state = EscalationState::Accepted;
                escalation.due_at = None;
            }
        }
        Status::Resolved => {
            if !matches!(
                escalation.state,
                EscalationState::ResolvedNoticeDue | EscalationState::Closed
            ) {
                if escalation.notified.is_empty() {
                    escalation.state = EscalationState::Closed;
                    escalation.due_at = None;
                } else {
                    escalation.state = EscalationState::ResolvedNoticeDue;
                    escalation.due_at = Some(incident.updated_at);
                }
            }
        }
    }
    let unchanged = stored
        .as_ref()
        .is_some_and(|old| old.state == escalation.state && old.due_at == escalation.due_at);
    if unchanged {
        return None;
    }
    escalation.version += 1;
    Some(escalation)
}

/// Read-only views of escalations and the outbox.
impl Embedded {
    pub fn allocate_notification_id(&self) -> Result<NotificationId, Error> {
        Ok(self.next_notification_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// Escalations due at `now` or before, earliest first, with their incident.
    pub fn due_escalations(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<(Escalation, Option<Incident>)>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let due = txn.open_table(ESCALATION_DUE)?;
        let escalations = txn.open_table(ESCALATIONS)?;
        let incidents = txn.open_table(INCIDENTS)?;
        let mut found = Vec::new();
        for entry in due.range((0, 0)..=(now, u64::MAX))?.take(limit) {
            let (_, id) = entry?.0.value();
            if let Some(bytes) = escalations.get(id)? {
                let escalation: Escalation = decode(bytes.value())?;
                found.push((escalation, records::incident(&incidents, id)?));
            }
        }
        Ok(found)
    }

    /// The earliest time an escalation or a pending notification is due.
    pub fn next_due(&self) -> Result<Option<Millis>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let escalation = txn.open_table(ESCALATION_DUE)?.first()?.map(|(k, _)| k.value().0);
        let notification = txn.open_table(NOTIFICATION_DUE)?.first()?.map(|(k, _)| k.value().0);
        Ok(match (escalation, notification) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Pending notifications due at `now` or before that `filter` admits,
    /// earliest first.
    pub fn due_notifications(
        &self,
        now: Millis,
        limit: usize,
        filter: &DueFilter,
    ) -> Result<Vec<Notification>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let due = txn.open_table(NOTIFICATION_DUE)?;
        let notifications = txn.open_table(NOTIFICATIONS)?;
        let mut found = Vec::new();
        for entry in due.range((0, 0)..=(now, u64::MAX))? {
            if found.len() >= limit {
                break;
            }
            let (_, id) = entry?.0.value();
            if filter.in_flight.contains(&id) {
                continue;
            }
            if let Some(bytes) = notifications.get(id)? {
                let notification: Notification = decode(bytes.value())?;
                if filter.admits(&notification) {
                    found.push(notification);
                }
            }
        }
        Ok(found)
    }

    pub fn notification(&self, id: NotificationId) -> Result<Option<Notification>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let table = txn.open_table(NOTIFICATIONS)?;
        Ok(match table.get(id)? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        })
    }

    /// One page of the notifications `query` selects, newest first, and
    /// the cursor of the next page.
    pub fn notifications(
        &self,
        query: &NotificationQuery,
    ) -> Result<(Vec<Notification>, Option<NotificationId>), Error> {
        let txn = self.slot.get()?.begin_read()?;
        let table = txn.open_table(NOTIFICATIONS)?;
        let before = query.before.unwrap_or(u64::MAX);
        let limit = query.limit.max(1);
        // Takes `id` if the query selects it; true once a page and one more
        // are found (the one more says another page follows).
        let mut page: Vec<Notification> = Vec::new();
        let mut take = |id: NotificationId| -> Result<bool, Error> {
            if let Some(bytes) = table.get(id)? {
                let notification: Notification = decode(bytes.value())?;
                if query.status.is_none_or(|status| notification.status == status) {
                    page.push(notification);
                }
            }
            Ok(page.len() > limit)
        };
        match (query.incident, query.status) {
            (Some(incident), _) => {
                let index = txn.open_table(NOTIFICATION_BY_INCIDENT)?;
                for entry in index.range((incident, 0)..(incident, before))?.rev() {
                    if take(entry?.0.value().1)? {
                        break;
                    }
                }
            }
            (None, Some(status)) => {
                let index = txn.open_table(NOTIFICATION_STATUS)?;
                let code = status.code();
                for entry in index.range((code, 0)..(code, before))?.rev() {
                    if take(entry?.0.value().1)? {
                        break;
                    }
                }
            }
            (None, None) => {
                for entry in table.range(..before)?.rev() {
                    if take(entry?.0.value())? {
                        break;
                    }
                }
            }
        }
        let next = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|n| n.id)
        } else {
            None
        };
        Ok((page, next))
    }

    /// The incident's escalation, if it has one.
    pub fn escalation_of(&self, incident: IncidentId) -> Result<Option<Escalation>, Error> {
        let txn = self.slot.get()?.begin_read()?;
        Ok(match txn.open_table(ESCALATIONS)?.get(incident)? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        })
    }

    pub fn outbox_stats(&self) -> Result<OutboxStats, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let index = txn.open_table(NOTIFICATION_STATUS)?;
        let count = |status: DeliveryStatus| -> Result<u64, Error> {
            let code = status.code();
            Ok(index.range((code, 0)..=(code, u64::MAX))?.count() as u64)
        };
        let pending_code = DeliveryStatus::Pending.code();
        // Ids grow with time, so the smallest pending id is the oldest.
        let oldest = match index.range((pending_code, 0)..=(pending_code, u64::MAX))?.next() {
            Some(entry) => {
                let id = entry?.0.value().1;
                let table = txn.open_table(NOTIFICATIONS)?;
                match table.get(id)? {
                    Some(bytes) => Some(decode::<Notification>(bytes.value())?.created_at),
                    None => None,
                }
            }
            None => None,
        };
        Ok(OutboxStats {
            pending: count(DeliveryStatus::Pending)?,
            failed: count(DeliveryStatus::Failed)?,
            oldest_pending_at: oldest,
        })
    }
}
