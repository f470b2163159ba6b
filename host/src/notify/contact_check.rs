//! Contact checks: a test message to each of a person's contacts, sent now
//! through the channel's notifier and transport (not the outbox), and what
//! each receiver answered. `inbound people test NAME`, and the console.

use super::delivery::{self, Attempt};
use super::setup::Setup;
use crate::store::{
    DeliveryStatus, Incident, Millis, Notification, NotificationKind, Recipient, Status,
};
use serde::Serialize;
use std::sync::Arc;

/// What one contact's test message did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactCheck {
    pub channel: String,
    pub address: String,
    /// `sent` or `failed`.
    pub outcome: &'static str,
    /// The receiver's answer (`HTTP 200`, `250 OK`) or why it failed.
    pub detail: String,
}

/// Why no check ran.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CheckError {
    #[error("there is no person {0:?} in [[people]]")]
    UnknownPerson(String),
    #[error("{0:?} has no contact on channel {1:?}")]
    NoSuchContact(String, String),
}

/// Sends a test message to each contact of `person` (only `channel`'s when
/// given), one after the other, each within its channel's timeout.
pub async fn check(
    setup: Arc<Setup>,
    client: &reqwest::Client,
    person: &str,
    channel: Option<&str>,
    now: Millis,
) -> Result<Vec<ContactCheck>, CheckError> {
    let found =
        setup.config.person(person).ok_or_else(|| CheckError::UnknownPerson(person.to_string()))?;
    let contacts: Vec<_> = found
        .contacts
        .iter()
        .filter(|contact| channel.is_none_or(|name| contact.channel == name))
        .cloned()
        .collect();
    if let (Some(name), true) = (channel, contacts.is_empty()) {
        return Err(CheckError::NoSuchContact(person.to_string(), name.to_string()));
    }
    let incident = test_incident(now);
    let mut checks = Vec::new();
    for (index, contact) in contacts.iter().enumerate() {
        let recipient = Recipient {
            channel: contact.channel.clone(),
            person: Some(found.name.clone()),
            address: Some(contact.address.clone()),
        };
        let notification = test_notification(recipient, now, index as u64);
        let (outcome, _) =
            delivery::attempt(setup.clone(), client, &notification, &incident, now).await;
        let (outcome, detail) = match outcome {
            Attempt::Sent(detail) => ("sent", detail),
            Attempt::Retry { detail, .. } | Attempt::Failed(detail) => ("failed", detail),
        };
        checks.push(ContactCheck {
            channel: contact.channel.clone(),
            address: contact.address.clone(),
            outcome,
            detail,
        });
    }
    Ok(checks)
}

/// Incident 0, which no real incident is: the message says it is a test.
fn test_incident(now: Millis) -> Incident {
    Incident {
        id: 0,
        source: "inbound".into(),
        key: "contact-check".into(),
        status: Status::Pending,
        summary: "Test message from inbound: this contact works".into(),
        details: "Sent by a contact check (inbound people test). Nothing needs doing.".into(),
        priority: None,
        url: None,
        links: Vec::new(),
        escalation_policy: String::new(),
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

fn test_notification(recipient: Recipient, now: Millis, index: u64) -> Notification {
    Notification {
        // Its idempotency key (`inbound-0-<n>`) is new on every check, even
        // two in the same millisecond.
        id: rand::random::<u64>() >> 1 | index,
        incident: 0,
        kind: NotificationKind::Triggered,
        level: 0,
        round: 0,
        recipient,
        created_at: now,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        messages_sent: 0,
        last_error: None,
        sent_at: None,
        version: 0,
        held: false,
        change: None,
        after_minutes: 0,
    }
}
