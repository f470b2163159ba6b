//! Retention: what the host forgets, in small change sets through the
//! writer, so a sweep never holds the write lock long enough to stall a
//! webhook.
//!
//! A resolved incident goes with everything that hangs off it (log,
//! escalation, notifications, index entries, its count); a failed delivery
//! with its body. Freed pages are reused by later commits; the file shrinks
//! only with `inbound compact`.

use super::changes::{ChangeSet, ReadCheck, Write};
use super::model::{FailedDelivery, FailureId, IncidentId, Millis, Status};
use super::reads;
use super::tables::*;
use super::{Error, Store};
use redb::{ReadableDatabase, ReadableTable};

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
}

impl Store {
    /// One chunk of what `cutoffs` expire, as a change set for
    /// [`Store::commit`] (empty when nothing is left). Each incident is
    /// deleted only if it has not changed since this read.
    pub fn expired(&self, cutoffs: RetentionCutoffs) -> Result<ChangeSet, Error> {
        let txn = self.slot.get()?.begin_read()?;
        let mut changes = ChangeSet::default();
        if let Some(before) = cutoffs.resolved_before {
            let index = txn.open_table(RESOLVED_AT)?;
            let incidents = txn.open_table(INCIDENTS)?;
            for entry in index.range(..(before, 0))?.take(SWEEP_CHUNK) {
                let (resolved_at, id) = entry?.0.value();
                let version = reads::incident(&incidents, id)?.map(|i| i.version);
                changes.reads.push(ReadCheck::IncidentVersion { id, expected: version });
                changes.writes.push(Write::DeleteIncident { id, resolved_at });
            }
        }
        if let Some(before) = cutoffs.failed_before {
            // Failure ids grow with the time of receipt: the oldest come first.
            let failures = txn.open_table(FAILED_DELIVERIES)?;
            for entry in failures.iter()?.take(SWEEP_CHUNK) {
                let (_, value) = entry?;
                let failure: FailedDelivery = reads::decode(value.value())?;
                if failure.received_at >= before {
                    break;
                }
                changes.writes.push(Write::DeleteFailure(failure.id));
            }
        }
        Ok(changes)
    }
}

/// The writer's side: deleting one incident or failed delivery and every
/// row that refers to it.
impl Tables<'_> {
    pub fn delete_incident(
        &mut self,
        id: IncidentId,
        resolved_at: Millis,
    ) -> Result<(), redb::Error> {
        self.resolved_at.remove((resolved_at, id))?;
        let Some(incident) = reads::incident(&self.incidents, id)? else {
            return Ok(());
        };
        let (source, key, code) =
            (incident.source.as_str(), incident.key.as_str(), incident.status.code());
        // Only resolved incidents expire; an open one keeps its key lookups.
        if incident.status != Status::Resolved {
            return Ok(());
        }
        self.incidents.remove(id)?;
        self.by_status.remove((code, id))?;
        self.by_source.remove((source, id))?;
        self.by_source_status.remove((source, code, id))?;
        if reads::id_for_key(&self.latest_by_key, source, key)? == Some(id) {
            self.latest_by_key.remove((source, key))?;
        }
        let count = self.counts.get((source, code))?.map_or(0, |v| v.value());
        self.counts.insert((source, code), count.saturating_sub(1))?;
        self.log.retain_in((id, 0)..=(id, u64::MAX), |_, _| false)?;
        if let Some(escalation) = self.escalation(id)? {
            if let Some(due) = escalation.due_at {
                self.escalation_due.remove((due, id))?;
            }
            self.escalations.remove(id)?;
        }
        let mut notifications = Vec::new();
        for entry in self.notification_by_incident.range((id, 0)..=(id, u64::MAX))? {
            notifications.push(entry?.0.value().1);
        }
        for notification in notifications {
            self.notification_by_incident.remove((id, notification))?;
            if let Some(stored) = self.notification(notification)? {
                self.notification_status.remove((stored.status.code(), notification))?;
                self.notification_due.remove((stored.next_attempt_at, notification))?;
                self.notifications.remove(notification)?;
            }
        }
        Ok(())
    }

    pub fn delete_failure(&mut self, id: FailureId) -> Result<(), redb::Error> {
        self.failures.remove(id)?;
        self.failure_bodies.remove(id)?;
        Ok(())
    }
}
