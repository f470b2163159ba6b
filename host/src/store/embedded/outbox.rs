//! Escalations and the notification outbox in redb: the writer's side (kept
//! in step with their indexes) and the reads.

use super::records::{self, decode};
use super::tables::*;
use crate::store::error::Error;
use crate::store::model::{Incident, IncidentId, Millis};
use crate::store::outbox::{
    DeliveryStatus, Escalation, Notification, NotificationId, escalation_after,
};
use crate::store::page::Page;
use crate::store::queries::{DueFilter, NotificationQuery, OutboxStats};
use redb::{ReadTransaction, ReadableTable};

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

// The reads of escalations and the outbox, each in one read transaction.

/// Escalations due at `now` or before, earliest first, with their incident.
pub fn due_escalations(
    txn: &ReadTransaction,
    now: Millis,
    limit: usize,
) -> Result<Vec<(Escalation, Option<Incident>)>, Error> {
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
pub fn next_due(txn: &ReadTransaction) -> Result<Option<Millis>, Error> {
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
    txn: &ReadTransaction,
    now: Millis,
    limit: usize,
    filter: &DueFilter,
) -> Result<Vec<Notification>, Error> {
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

/// The notification, if it exists.
pub fn notification(
    txn: &ReadTransaction,
    id: NotificationId,
) -> Result<Option<Notification>, Error> {
    let table = txn.open_table(NOTIFICATIONS)?;
    Ok(match table.get(id)? {
        Some(bytes) => Some(decode(bytes.value())?),
        None => None,
    })
}

/// One page of the notifications `query` selects, newest first.
pub fn notifications(
    txn: &ReadTransaction,
    query: &NotificationQuery,
) -> Result<Page<Notification>, Error> {
    let table = txn.open_table(NOTIFICATIONS)?;
    let before = query.before.unwrap_or(u64::MAX);
    // The notification `id` if the query selects it.
    let selected = |id: Result<NotificationId, redb::StorageError>| -> Result<_, Error> {
        let Some(bytes) = table.get(id?)? else { return Ok(None) };
        let notification: Notification = decode(bytes.value())?;
        Ok(query.status.is_none_or(|status| notification.status == status).then_some(notification))
    };
    let page = |ids: &mut dyn Iterator<Item = Result<NotificationId, redb::StorageError>>| {
        let found = ids.map(selected).filter_map(Result::transpose);
        Page::read(found, query.limit, |notification: &Notification| notification.id)
    };
    match (query.incident, query.status) {
        (Some(incident), _) => {
            let index = txn.open_table(NOTIFICATION_BY_INCIDENT)?;
            let range = index.range((incident, 0)..(incident, before))?.rev();
            page(&mut range.map(|entry| Ok(entry?.0.value().1)))
        }
        (None, Some(status)) => {
            let index = txn.open_table(NOTIFICATION_STATUS)?;
            let code = status.code();
            let range = index.range((code, 0)..(code, before))?.rev();
            page(&mut range.map(|entry| Ok(entry?.0.value().1)))
        }
        (None, None) => page(&mut table.range(..before)?.rev().map(|entry| Ok(entry?.0.value()))),
    }
}

/// The incident's escalation, if it has one.
pub fn escalation_of(
    txn: &ReadTransaction,
    incident: IncidentId,
) -> Result<Option<Escalation>, Error> {
    Ok(match txn.open_table(ESCALATIONS)?.get(incident)? {
        Some(bytes) => Some(decode(bytes.value())?),
        None => None,
    })
}

/// What the outbox holds, for metrics.
pub fn outbox_stats(txn: &ReadTransaction) -> Result<OutboxStats, Error> {
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
