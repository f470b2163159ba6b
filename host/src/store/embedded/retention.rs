//! Retention: what the host forgets, in small change sets through the
//! writer, so a sweep never holds the write lock long enough to stall a
//! webhook.
//!
//! A resolved incident goes with everything that hangs off it (log,
//! escalation, notifications, index entries, its count); a failed delivery
//! with its body. Freed pages are reused by later commits; the file shrinks
//! only with `inbound compact`.

use super::records;
use super::tables::*;
use crate::store::changes::{ChangeSet, ReadCheck, Write};
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, FailureId, IncidentId, LogEntry, Millis, Status};
use crate::store::queries::{RetentionCutoffs, SWEEP_CHUNK};
use crate::store::shared_bodies;
use redb::{ReadTransaction, ReadableTable};

/// One chunk of what `cutoffs` expire, as a change set (empty when
/// nothing is left). Each incident is deleted only if it has not changed
/// since this read.
pub fn expired(txn: &ReadTransaction, cutoffs: RetentionCutoffs) -> Result<ChangeSet, Error> {
    let mut changes = ChangeSet::default();
    if let Some(before) = cutoffs.resolved_before {
        let index = txn.open_table(RESOLVED_AT)?;
        let incidents = txn.open_table(INCIDENTS)?;
        for entry in index.range(..(before, 0))?.take(SWEEP_CHUNK) {
            let (resolved_at, id) = entry?.0.value();
            let version = records::incident(&incidents, id)?.map(|i| i.version);
            changes.reads.push(ReadCheck::IncidentVersion { id, expected: version });
            changes.writes.push(Write::DeleteIncident { id, resolved_at });
        }
    }
    if let Some(before) = cutoffs.failed_before {
        // Failure ids grow with the time of receipt: the oldest come first.
        let failures = txn.open_table(FAILED_DELIVERIES)?;
        for entry in failures.iter()?.take(SWEEP_CHUNK) {
            let (_, value) = entry?;
            let failure: FailedDelivery = records::decode(value.value())?;
            if failure.received_at >= before {
                break;
            }
            changes.writes.push(Write::DeleteFailure(failure.id));
        }
    }
    changes.writes.extend(super::accounts::expired(txn, cutoffs)?);
    Ok(changes)
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
        let Some(incident) = records::incident(&self.incidents, id)? else {
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
        if records::id_for_key(&self.latest_by_key, source, key)? == Some(id) {
            self.latest_by_key.remove((source, key))?;
        }
        let count = self.counts.get((source, code))?.map_or(0, |v| v.value());
        self.counts.insert((source, code), count.saturating_sub(1))?;
        self.delete_log(id)?;
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

    /// Deletes an incident's log, and each shared event body with the last
    /// entry that referred to it.
    fn delete_log(&mut self, id: IncidentId) -> Result<(), redb::Error> {
        let mut shared = Vec::new();
        for entry in self.log.extract_from_if((id, 0)..=(id, u64::MAX), |_, _| true)? {
            let (_, value) = entry?;
            // Decode only the entries that can refer to a shared body.
            if !shared_bodies::may_refer(value.value()) {
                continue;
            }
            let entry: LogEntry = records::decode(value.value())?;
            shared.extend(shared_bodies::key_of(&entry).map(str::to_string));
        }
        for key in shared {
            let kept = self.event_bodies.get(key.as_str())?.map(|v| {
                let (refs, record) = v.value();
                (refs, record.to_vec())
            });
            match kept {
                Some((refs, record)) if refs > 1 => {
                    self.event_bodies.insert(key.as_str(), (refs - 1, record.as_slice()))?;
                }
                _ => {
                    self.event_bodies.remove(key.as_str())?;
                }
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

#[cfg(test)]
mod tests {
    use super::super::testing::TestEngine;
    use super::*;
    use crate::store::engine::Engine;
    use crate::store::model::{Action, Incident, LogKind};
    use crate::store::outbox::{DeliveryStatus, Notification, NotificationKind, Recipient};
    use crate::store::queries::NotificationQuery;
    use crate::store::writer::CommitError;
    use redb::ReadableDatabase;

    const DAY: Millis = 24 * 60 * 60 * 1000;

    fn incident(id: IncidentId, status: Status, at: Millis) -> Incident {
        Incident {
            id,
            source: "s".into(),
            key: format!("k{id}"),
            status,
            summary: "s".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            escalation_policy: "p".into(),
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }

    fn notification(id: u64, incident: IncidentId, status: DeliveryStatus) -> Notification {
        Notification {
            id,
            incident,
            kind: NotificationKind::Triggered,
            level: 0,
            round: 0,
            recipient: Recipient { channel: "c".into(), person: None, address: None },
            created_at: 0,
            status,
            attempts: 1,
            next_attempt_at: 5,
            messages_sent: 0,
            last_error: None,
            sent_at: None,
            version: 1,
            held: false,
            change: None,
            after_minutes: 0,
        }
    }

    fn commit(store: &TestEngine, changes: ChangeSet) -> Result<(), CommitError> {
        store.commit(changes)
    }

    #[test]
    fn an_expired_incident_goes_with_its_log_escalation_notifications_and_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = TestEngine::open(&dir.path().join("db"));
        let entry = LogEntry { at: 0, kind: LogKind::Created { by: "t".into() } };
        let writes = vec![
            Write::PutIncident(incident(1, Status::Resolved, DAY)),
            Write::PutIncident(incident(2, Status::Resolved, 10 * DAY)),
            Write::PutIncident(incident(3, Status::Pending, DAY)),
            Write::AppendLog { incident: 1, entry: entry.clone() },
            Write::AppendLog { incident: 2, entry },
            Write::PutNotification(notification(1, 1, DeliveryStatus::Pending)),
            Write::PutNotification(notification(2, 1, DeliveryStatus::Failed)),
            Write::PutNotification(notification(3, 2, DeliveryStatus::Sent)),
        ];
        commit(&store, ChangeSet { reads: vec![], writes }).unwrap();
        let cutoffs = RetentionCutoffs { resolved_before: Some(5 * DAY), ..Default::default() };
        let expired = store.expired(cutoffs).unwrap();
        assert_eq!(expired.writes, vec![Write::DeleteIncident { id: 1, resolved_at: DAY }]);
        commit(&store, expired).unwrap();

        assert_eq!(store.incident(1).unwrap(), None);
        assert!(store.log_before(1, None, 10).unwrap().items.is_empty());
        assert!(store.escalation_of(1).unwrap().is_none());
        let of_incident = NotificationQuery { incident: Some(1), limit: 10, ..Default::default() };
        assert!(store.notifications(&of_incident).unwrap().items.is_empty());
        assert_eq!(store.notification(1).unwrap(), None);
        assert_eq!(store.notification(2).unwrap(), None);
        assert!(store.notification(3).unwrap().is_some(), "another incident's notification");
        assert_eq!(store.log_before(2, None, 10).unwrap().items.len(), 1);
        assert!(store.incident(3).unwrap().is_some(), "open incidents never expire");
        let counts = store.counts(Some("s")).unwrap();
        assert_eq!((counts.pending, counts.resolved), (1, 1));
        assert!(store.expired(cutoffs).unwrap().is_empty(), "nothing left to delete");
    }

    fn received(body: &str) -> LogEntry {
        LogEntry {
            at: 0,
            kind: LogKind::EventReceived {
                action: Action::Created,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.into(),
                body_bytes: body.len(),
                body_truncated: false,
                repeats: 0,
                last_repeat_at: None,
                shared_body: None,
            },
        }
    }

    #[test]
    fn a_shared_event_body_goes_with_the_last_entry_that_refers_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = TestEngine::open(&path);
        let event = |incident, body: &str| Write::AppendEvent {
            incident,
            entry: received(body),
            count_repeats: true,
        };
        // One event about incidents 1, 2 and 3, another about 4 and 5.
        let mut writes: Vec<Write> = [1, 3, 4, 5]
            .into_iter()
            .map(|id| Write::PutIncident(incident(id, Status::Resolved, DAY)))
            .collect();
        writes.push(Write::PutIncident(incident(2, Status::Pending, DAY)));
        writes.extend([event(1, "group"), event(2, "group"), event(3, "group")]);
        commit(&store, ChangeSet { reads: vec![], writes }).unwrap();
        let writes = vec![event(4, "other"), event(5, "other")];
        commit(&store, ChangeSet { reads: vec![], writes }).unwrap();
        for (id, body) in [(1, "group"), (2, "group"), (3, "group"), (5, "other")] {
            let entries = store.log_before(id, None, 10).unwrap().items;
            assert_eq!(entries[0].1, received(body), "incident {id} reads the whole event");
        }

        let cutoffs = RetentionCutoffs { resolved_before: Some(5 * DAY), ..Default::default() };
        commit(&store, store.expired(cutoffs).unwrap()).unwrap();
        let entries = store.log_before(2, None, 10).unwrap().items;
        assert_eq!(entries[0].1, received("group"), "the open incident keeps the body");
        store.close();

        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let bodies = txn.open_table(EVENT_BODIES).unwrap();
        let kept: Vec<u64> = bodies.iter().unwrap().map(|row| row.unwrap().1.value().0).collect();
        assert_eq!(kept, vec![1], "one record left, referred to by incident 2 alone");
    }

    #[test]
    fn an_incident_changed_after_the_sweep_read_it_is_not_deleted_by_that_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let store = TestEngine::open(&dir.path().join("db"));
        let resolved = incident(1, Status::Resolved, DAY);
        commit(
            &store,
            ChangeSet { reads: vec![], writes: vec![Write::PutIncident(resolved.clone())] },
        )
        .unwrap();
        let cutoffs = RetentionCutoffs { resolved_before: Some(5 * DAY), ..Default::default() };
        let expired = store.expired(cutoffs).unwrap();
        let commented = Incident { version: 2, ..resolved };
        commit(&store, ChangeSet { reads: vec![], writes: vec![Write::PutIncident(commented)] })
            .unwrap();
        assert_eq!(commit(&store, expired), Err(CommitError::Conflict));
        assert!(store.incident(1).unwrap().is_some());
    }
}
