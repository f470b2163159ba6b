//! Delivering to one throttled contact: its due notifications, one message
//! at a time, each within the contact's throttle (`throttle.rs`).
//!
//! ```text
//! slot free, nothing held  --> the oldest alone (as on any channel)
//! slot free, some held     --> one digest of everything due (up to DIGEST_MAX)
//! no slot free             --> the rest held: pending, due when a slot frees
//! ```
//!
//! Before a message goes, its slot is taken in the contact's keyed record
//! (compare-and-set, so hosts sharing a database agree; on a shared
//! database the same commit claims the notifications). Only then is it
//! sent, and then recorded as any attempt is: nothing is marked sent before
//! its message was accepted, so a crash in between resends it (same
//! idempotency key), never loses it. An attempt that delivered nothing (a
//! render error, a receiver that refused or was down) gives its slot back.

use super::counters;
use super::delivery::{self, Attempt, Job};
use super::engine::describe;
use super::render;
use super::setup::Setup;
use super::throttle::{ContactRecord, DIGEST_MAX, Window};
use crate::store::{
    ChangeSet, CommitError, DeliveryStatus, DueFilter, Incident, Keyed, LogEntry, LogKind, Millis,
    Notification, ReadCheck, RecordKind, Store, Write, put_record, record_absent,
};
use std::collections::VecDeque;
use std::sync::Arc;

/// What delivering to one contact needs.
pub struct Contact<'a> {
    pub store: &'a Arc<Store>,
    pub setup: Arc<Setup>,
    pub client: &'a reqwest::Client,
    pub clock: &'a (dyn Fn() -> Millis + Send + Sync),
    /// `Recipient::contact_key`: the keyed record's name.
    pub key: String,
    pub window: Window,
}

/// Delivers `listed` (the contact's due notifications, oldest first) as
/// far as the throttle allows and holds the rest.
pub async fn deliver(contact: &Contact<'_>, listed: Vec<Notification>) -> anyhow::Result<()> {
    let mut queue: VecDeque<Notification> = fresh(contact, listed).await?.into();
    let mut record = read_record(contact).await?;
    while !queue.is_empty() {
        let now = (contact.clock)();
        let sent = record.as_ref().map(|r| r.value.sent.as_slice()).unwrap_or_default();
        let free = contact.window.free_at(sent, now);
        if free > now {
            return hold(contact, queue.into(), free, now).await;
        }
        let batch = if queue.iter().any(|n| n.held) {
            queue.clear();
            gather(contact, now).await?
        } else {
            queue.pop_front().into_iter().collect()
        };
        if batch.is_empty() {
            break;
        }
        let Some((batch, taken)) = take_slot(contact, record, batch, now).await? else {
            // Another host took the slot or the notifications: next pass.
            return Ok(());
        };
        record = if send(contact, batch).await? {
            Some(taken)
        } else {
            release(contact, taken, now).await?
        };
    }
    Ok(())
}

/// Gives back the slot taken at `at` by an attempt that delivered nothing
/// (a render error, a receiver that refused or was down): the person got
/// no message, so it counts against nobody. Returns the record as it is now.
async fn release(
    contact: &Contact<'_>,
    taken: Keyed<ContactRecord>,
    at: Millis,
) -> anyhow::Result<Option<Keyed<ContactRecord>>> {
    let mut value = taken.value.clone();
    if let Some(index) = value.sent.iter().rposition(|&sent| sent == at) {
        value.sent.remove(index);
    }
    let changes = ChangeSet {
        reads: vec![taken.unchanged(RecordKind::Contact)],
        writes: vec![put_record(RecordKind::Contact, &contact.key, &value)],
    };
    match contact.store.commit(changes).await {
        Ok(()) => {
            let raw = serde_json::to_vec(&value).expect("a contact record serializes");
            Ok(Some(Keyed { name: contact.key.clone(), value, raw }))
        }
        // Another host changed it meanwhile: keep the slot spent, read anew.
        Err(CommitError::Conflict) => read_record(contact).await,
        Err(error) => Err(error.into()),
    }
}

/// The listed notifications as they are now, still pending and due.
async fn fresh(
    contact: &Contact<'_>,
    listed: Vec<Notification>,
) -> anyhow::Result<Vec<Notification>> {
    let store = contact.store.clone();
    let now = (contact.clock)();
    let current = tokio::task::spawn_blocking(move || {
        let mut current = Vec::new();
        for notification in listed {
            if let Some(n) = store.notification(notification.id)?
                && n.status == DeliveryStatus::Pending
                && n.next_attempt_at <= now
            {
                current.push(n);
            }
        }
        Ok::<_, crate::store::Error>(current)
    })
    .await??;
    Ok(current)
}

/// Everything of the contact due at `now`, oldest first, up to a digest's worth.
async fn gather(contact: &Contact<'_>, now: Millis) -> anyhow::Result<Vec<Notification>> {
    let store = contact.store.clone();
    let filter = DueFilter::contact(&contact.key);
    Ok(tokio::task::spawn_blocking(move || store.due_notifications(now, DIGEST_MAX, &filter))
        .await??)
}

async fn read_record(contact: &Contact<'_>) -> anyhow::Result<Option<Keyed<ContactRecord>>> {
    let store = contact.store.clone();
    let key = contact.key.clone();
    let raw =
        tokio::task::spawn_blocking(move || store.record(RecordKind::Contact, &key)).await??;
    Ok(raw.map(|raw| Keyed {
        name: contact.key.clone(),
        // A record this build cannot read counts no sends; the compare-and-
        // set still holds on its bytes.
        value: serde_json::from_slice(&raw).unwrap_or_default(),
        raw,
    }))
}

/// Takes a slot for `batch` at `now`: one commit of the contact's record
/// (as it was read, or absent) and, on a shared database, a claim on each
/// notification. `None` when another host got there first.
async fn take_slot(
    contact: &Contact<'_>,
    record: Option<Keyed<ContactRecord>>,
    batch: Vec<Notification>,
    now: Millis,
) -> anyhow::Result<Option<(Vec<Notification>, Keyed<ContactRecord>)>> {
    let before = record.as_ref().map(|r| r.value.clone()).unwrap_or_default();
    let value = contact.window.after_send(&before, now);
    let mut changes = ChangeSet {
        reads: vec![match &record {
            Some(record) => record.unchanged(RecordKind::Contact),
            None => record_absent(RecordKind::Contact, &contact.key),
        }],
        writes: vec![put_record(RecordKind::Contact, &contact.key, &value)],
    };
    let batch = if contact.store.is_shared() {
        let channel = &batch[0].recipient.channel;
        let lease = contact.setup.claim_lease(channel).as_millis() as u64;
        batch
            .into_iter()
            .map(|notification| {
                changes.reads.push(ReadCheck::NotificationVersion {
                    id: notification.id,
                    expected: Some(notification.version),
                });
                let mut claimed = notification;
                claimed.next_attempt_at = now + lease;
                claimed.version += 1;
                changes.writes.push(Write::PutNotification(claimed.clone()));
                claimed
            })
            .collect()
    } else {
        batch
    };
    match contact.store.commit(changes).await {
        Ok(()) => {
            let raw = serde_json::to_vec(&value).expect("a contact record serializes");
            Ok(Some((batch, Keyed { name: contact.key.clone(), value, raw })))
        }
        Err(CommitError::Conflict) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Sends `batch` (one slot taken): alone, or as one digest, and records it.
/// Returns whether any message was delivered.
async fn send(contact: &Contact<'_>, batch: Vec<Notification>) -> anyhow::Result<bool> {
    let store = contact.store.clone();
    let ids: Vec<_> = batch.iter().map(|n| n.incident).collect();
    let incidents = tokio::task::spawn_blocking(move || {
        let snapshot = store.snapshot()?;
        ids.into_iter().map(|id| snapshot.incident(id)).collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let setup = contact.setup.clone();
    let now = (contact.clock)();
    let mut gone = ChangeSet::default();
    let mut items: Vec<(Notification, Incident)> = Vec::new();
    for (notification, incident) in batch.into_iter().zip(incidents) {
        match incident {
            // A person's later rule step whose incident someone took meanwhile.
            Some(incident) => match delivery::cancelled(&notification, &incident, now) {
                Some(cancelled) => merge(&mut gone, cancelled),
                None => items.push((notification, incident)),
            },
            None => {
                let failed = Attempt::Failed("the incident no longer exists".into());
                let sent = notification.messages_sent;
                merge(&mut gone, delivery::record(&setup, &notification, &failed, sent, now));
            }
        }
    }
    if !gone.writes.is_empty() {
        commit(contact.store, gone).await?;
    }
    let (changes, delivered) = match items.as_slice() {
        [] => return Ok(false),
        [(notification, incident)] => {
            let (outcome, sent) =
                delivery::attempt(setup.clone(), contact.client, notification, incident, now).await;
            let about = format!("notification {}", notification.id);
            counters::attempt(&outcome, &notification.recipient.channel, 1, &about);
            let delivered = sent > notification.messages_sent;
            (delivery::record(&setup, notification, &outcome, sent, (contact.clock)()), delivered)
        }
        _ => digest(contact, &items, now).await,
    };
    commit(contact.store, changes).await?;
    Ok(delivered)
}

/// Renders and sends `items` as one digest; returns the commit recording it
/// on every notification, and whether any message of it was delivered.
async fn digest(
    contact: &Contact<'_>,
    items: &[(Notification, Incident)],
    now: Millis,
) -> (ChangeSet, bool) {
    let setup = contact.setup.clone();
    let (first, last) = (&items[0].0, &items[items.len() - 1].0);
    let id = format!("inbound-digest-{}-{}-{}", first.id, last.id, items.len());
    let wit = render::Digest {
        id: id.clone(),
        recipient: render::Recipient {
            person: first.recipient.person.clone(),
            address: first.recipient.address.clone(),
        },
        notifications: items
            .iter()
            .map(|(notification, incident)| delivery::to_wit(&setup, notification, incident, now))
            .collect(),
        sent_at: now / 1000,
    };
    let channel = first.recipient.channel.clone();
    let job = Job { channel: &channel, key: id.clone(), sent: 0 };
    let (outcome, sent) =
        delivery::send(setup.clone(), contact.client, job, move |notifiers, ch| {
            notifiers.render_digest(&wit, ch)
        })
        .await;
    let count = items.len();
    counters::attempt(&outcome, &channel, count as u64, &format!("digest {id}"));
    if matches!(outcome, Attempt::Sent(_)) {
        metrics::counter!(counters::DIGESTS, "channel" => channel.clone()).increment(1);
    }
    // Each notification's log names the digest it went in.
    let outcome = match outcome {
        Attempt::Sent(summary) => {
            Attempt::Sent(format!("in digest {id} with {count} incidents: {summary}"))
        }
        Attempt::Retry { detail, retry_after } => {
            Attempt::Retry { detail: format!("digest {id}: {detail}"), retry_after }
        }
        Attempt::Failed(detail) => Attempt::Failed(format!("digest {id}: {detail}")),
    };
    let recorded_at = (contact.clock)();
    let mut changes = ChangeSet::default();
    for (notification, _) in items {
        let sent = notification.messages_sent;
        merge(&mut changes, delivery::record(&setup, notification, &outcome, sent, recorded_at));
    }
    // One backoff for the whole digest, so it is retried together.
    let mut due = None;
    for write in &mut changes.writes {
        if let Write::PutNotification(next) = write
            && next.status == DeliveryStatus::Pending
        {
            next.next_attempt_at = *due.get_or_insert(next.next_attempt_at);
        }
    }
    (changes, sent > 0)
}

/// Holds `queue` until `free`: pending, due then, marked held; the first
/// hold of each is logged on its incident.
async fn hold(
    contact: &Contact<'_>,
    queue: Vec<Notification>,
    free: Millis,
    now: Millis,
) -> anyhow::Result<()> {
    let window_minutes = contact
        .setup
        .channel(&queue[0].recipient.channel)
        .and_then(|channel| channel.throttle())
        .map_or(0, |throttle| throttle.window_minutes);
    let channel = queue[0].recipient.channel.clone();
    let mut changes = ChangeSet::default();
    let mut newly = 0;
    for notification in queue {
        if notification.held && notification.next_attempt_at == free {
            continue;
        }
        let mut next = notification.clone();
        next.held = true;
        next.next_attempt_at = free;
        next.version += 1;
        changes.reads.push(ReadCheck::NotificationVersion {
            id: notification.id,
            expected: Some(notification.version),
        });
        changes.writes.push(Write::PutNotification(next));
        if notification.held {
            continue;
        }
        newly += 1;
        let entry = LogEntry {
            at: now,
            kind: LogKind::NotificationAttempt {
                notification: notification.id,
                channel: notification.recipient.channel.clone(),
                recipient: describe(&notification.recipient),
                attempt: notification.attempts,
                outcome: "held".into(),
                detail: format!(
                    "this contact had its {} messages in {window_minutes} minutes; held for a digest, due when a slot frees in {} s",
                    contact.window.max_messages,
                    (free - now).div_ceil(1000)
                ),
            },
        };
        changes.writes.push(Write::AppendLog { incident: notification.incident, entry });
    }
    if changes.writes.is_empty() {
        return Ok(());
    }
    match contact.store.commit(changes).await {
        Ok(()) => {
            metrics::counter!(counters::HELD, "channel" => channel).increment(newly);
            Ok(())
        }
        Err(CommitError::Conflict) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn merge(into: &mut ChangeSet, changes: ChangeSet) {
    into.reads.extend(changes.reads);
    into.writes.extend(changes.writes);
}

/// A conflict leaves the notifications as they were: the next pass sees them.
async fn commit(store: &Store, changes: ChangeSet) -> anyhow::Result<()> {
    match store.commit(changes).await {
        Ok(()) | Err(CommitError::Conflict) => Ok(()),
        Err(error) => Err(error.into()),
    }
}
