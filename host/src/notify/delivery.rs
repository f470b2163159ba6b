//! Delivering one outbox entry: render it with its channel's notifier, send
//! each message, and record the attempt (in the notification and the
//! incident's log) in one commit guarded by the notification's version.
//!
//! A crash after sending and before that commit resends on restart, with
//! the same idempotency key (`Idempotency-Key` header, email `Message-ID`),
//! so receivers can drop the duplicate: at least once, recognisably.

use super::engine::describe;
use super::links::{self, Claims, LinkAction};
use super::render::{self, Message};
use super::setup::Setup;
use super::transport::{self, SendError};
use crate::store::{
    ChangeSet, DeliveryStatus, Incident, LogEntry, LogKind, Millis, Notification, NotificationKind,
    ReadCheck, Write,
};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Sent(String),
    Retry { detail: String, retry_after: Option<std::time::Duration> },
    Failed(String),
}

/// The notification as the notifier sees it.
pub fn to_wit(
    setup: &Setup,
    notification: &Notification,
    incident: &Incident,
    now: Millis,
) -> render::Notification {
    let recipient = &notification.recipient;
    let link = |action| {
        let signer = setup.links.as_ref()?;
        // Incident 0 is a contact check's test message: nothing to act on.
        if notification.kind != NotificationKind::Triggered || incident.id == 0 {
            return None;
        }
        let hours = setup.config.notifications.link_valid_hours;
        let claims = Claims {
            incident: incident.id,
            action,
            person: Claims::recipient_name(recipient),
            channel: recipient.channel.clone(),
            // From the notification's creation, so every retry renders the same link.
            expires: links::expires_at(notification.created_at, hours),
        };
        Some(setup.link(&signer.sign(&claims)))
    };
    render::Notification {
        id: notification.idempotency_key(),
        kind: match notification.kind {
            NotificationKind::Triggered => render::Kind::Triggered,
            NotificationKind::Resolved => render::Kind::Resolved,
            // Never rendered by a notifier: the source's plugin renders it
            // (`outbound.rs`). Named for the match only.
            NotificationKind::Outbound => render::Kind::Triggered,
        },
        incident: render::Incident {
            id: incident.id,
            source: incident.source.clone(),
            status: serde_json::to_value(incident.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            summary: incident.summary.clone(),
            details: incident.details.clone(),
            priority: incident
                .priority
                .and_then(|p| serde_json::to_value(p).ok())
                .and_then(|v| v.as_str().map(str::to_string)),
            url: incident.url.clone(),
            created_at: incident.created_at,
        },
        level: notification.level,
        recipient: render::Recipient {
            person: recipient.person.clone(),
            address: recipient.address.clone(),
        },
        accept_url: link(LinkAction::Accept),
        resolve_url: link(LinkAction::Resolve),
        sent_at: now / 1000,
    }
}

/// Renders (blocking, off the async runtime) and sends the messages not sent
/// yet, all within the channel's timeout: a notifier that renders many
/// messages, or a receiver that answers each one slowly, holds a delivery
/// slot no longer than that. What was sent stays sent; the next attempt
/// resumes after it. Returns how the attempt ended and how many messages are
/// now sent.
pub async fn attempt(
    setup: std::sync::Arc<Setup>,
    client: &reqwest::Client,
    notification: &Notification,
    incident: &Incident,
    now: Millis,
) -> (Attempt, u32) {
    let wit_notification = to_wit(&setup, notification, incident, now);
    let job = Job {
        channel: &notification.recipient.channel,
        key: notification.idempotency_key(),
        sent: notification.messages_sent,
    };
    send(setup, client, job, move |notifiers, channel| notifiers.render(&wit_notification, channel))
        .await
}

/// What one attempt sends: through which channel, under which idempotency
/// key, and how many of its messages an earlier attempt delivered.
pub struct Job<'a> {
    pub channel: &'a str,
    pub key: String,
    pub sent: u32,
}

/// One attempt: `render` (blocking, off the async runtime, in a render
/// slot), then every message from `job.sent` on, all within the channel's
/// timeout. Returns how it ended and how many messages are now sent.
pub async fn send(
    setup: std::sync::Arc<Setup>,
    client: &reqwest::Client,
    job: Job<'_>,
    render: impl FnOnce(
        &render::NotifierHost,
        &render::Channel,
    ) -> Result<Vec<Message>, render::RenderError>
    + Send
    + 'static,
) -> (Attempt, u32) {
    let mut sent = job.sent;
    let Some(channel) = setup.channel(job.channel).cloned() else {
        return (
            Attempt::Failed(format!("the channel {:?} is no longer configured", job.channel)),
            sent,
        );
    };
    let wit_channel = render::Channel {
        name: channel.name.clone(),
        settings: serde_json::to_string(&channel.settings).unwrap_or_else(|_| "{}".into()),
        secret: channel.signing_secret.clone(),
    };
    let timeout = setup.channel_timeout(&channel);
    let deadline = tokio::time::Instant::now() + timeout;
    // Why an attempt ended at its deadline: before rendering finished, or
    // after `sent` of `total` messages.
    let out_of_time = |sent: u32, total: Option<usize>| {
        let ms = timeout.as_millis();
        let detail = match total {
            Some(total) => format!(
                "the attempt used its channel's whole timeout ({ms} ms) after {sent} of {total} messages"
            ),
            None => format!("the attempt used its channel's whole timeout ({ms} ms) rendering"),
        };
        Attempt::Retry { detail, retry_after: None }
    };
    let renderer = setup.clone();
    let rendering = async {
        let slot = setup.notifiers.slots.clone().acquire_owned().await.ok()?;
        Some(
            tokio::task::spawn_blocking(move || {
                let _slot = slot;
                render(&renderer.notifiers, &wit_channel)
            })
            .await,
        )
    };
    let messages = match tokio::time::timeout_at(deadline, rendering).await {
        Err(_) => return (out_of_time(sent, None), sent),
        Ok(None) => {
            return (
                Attempt::Retry {
                    detail: "the notifiers are shutting down".into(),
                    retry_after: None,
                },
                sent,
            );
        }
        Ok(Some(Ok(Ok(messages)))) => messages,
        Ok(Some(Ok(Err(error)))) => return (Attempt::Failed(error.to_string()), sent),
        Ok(Some(Err(error))) => {
            return (Attempt::Failed(format!("the render task failed: {error}")), sent);
        }
    };
    let key = job.key;
    let mut last = String::from("nothing to send");
    for message in messages.iter().skip(sent as usize) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return (out_of_time(sent, Some(messages.len())), sent);
        }
        let result = match (message, &channel.url, &channel.smtp) {
            (Message::Http(request), Some(url), _) => match url::Url::parse(url) {
                Ok(url) => transport::send_http(client, &url, request, &key, left).await,
                Err(error) => Err(SendError {
                    detail: format!("the channel url is invalid: {error}"),
                    retry: false,
                    retry_after: None,
                }),
            },
            (Message::Email(email), _, Some(smtp)) => {
                transport::send_email(smtp, email, &key, left).await
            }
            (Message::Http(_), None, _) => Err(SendError {
                detail: "the notifier returned an HTTP request for an email channel".into(),
                retry: false,
                retry_after: None,
            }),
            (Message::Email(_), _, None) => Err(SendError {
                detail: "the notifier returned an email for an HTTP channel".into(),
                retry: false,
                retry_after: None,
            }),
        };
        match result {
            Ok(summary) => {
                sent += 1;
                last = summary;
            }
            // Cut short by what was left of the attempt's time: say so.
            Err(error) if error.retry && tokio::time::Instant::now() >= deadline => {
                return (out_of_time(sent, Some(messages.len())), sent);
            }
            Err(error) if error.retry => {
                return (
                    Attempt::Retry { detail: error.detail, retry_after: error.retry_after },
                    sent,
                );
            }
            Err(error) => return (Attempt::Failed(error.detail), sent),
        }
    }
    (Attempt::Sent(last), sent)
}

/// The commit that cancels a person's later rule step (`after_minutes`)
/// whose incident is no longer pending when it comes due; `None` when it
/// is to be sent.
pub fn cancelled(
    notification: &Notification,
    incident: &Incident,
    now: Millis,
) -> Option<ChangeSet> {
    if notification.after_minutes == 0
        || notification.kind != NotificationKind::Triggered
        || incident.status == crate::store::Status::Pending
    {
        return None;
    }
    let mut next = notification.clone();
    next.version += 1;
    next.status = DeliveryStatus::Cancelled;
    let status = serde_json::to_value(incident.status).unwrap_or_default();
    let entry = LogEntry {
        at: now,
        kind: LogKind::NotificationAttempt {
            notification: notification.id,
            channel: notification.recipient.channel.clone(),
            recipient: describe(&notification.recipient),
            attempt: notification.attempts,
            outcome: "cancelled".into(),
            detail: format!(
                "not sent: the incident was {} before this rule's {} minutes",
                status.as_str().unwrap_or("changed"),
                notification.after_minutes
            ),
        },
    };
    Some(ChangeSet {
        reads: vec![ReadCheck::NotificationVersion {
            id: notification.id,
            expected: Some(notification.version),
        }],
        writes: vec![
            Write::PutNotification(next),
            Write::AppendLog { incident: notification.incident, entry },
        ],
    })
}

/// The commit that records an attempt: the notification's new state and a
/// log entry on its incident.
pub fn record(
    setup: &Setup,
    notification: &Notification,
    outcome: &Attempt,
    messages_sent: u32,
    now: Millis,
) -> ChangeSet {
    let mut next = notification.clone();
    next.version += 1;
    next.attempts += 1;
    next.messages_sent = messages_sent;
    let max_attempts = setup.config.notifications.max_attempts;
    let (word, detail) = match outcome {
        Attempt::Sent(summary) => {
            next.status = DeliveryStatus::Sent;
            next.sent_at = Some(now);
            next.last_error = None;
            ("sent", summary.clone())
        }
        Attempt::Retry { detail, retry_after } if next.attempts < max_attempts => {
            next.next_attempt_at = now + setup.backoff(next.attempts, *retry_after);
            next.last_error = Some(detail.clone());
            ("retrying", format!("{detail}; next attempt in {} ms", next.next_attempt_at - now))
        }
        Attempt::Retry { detail, .. } => {
            next.status = DeliveryStatus::Failed;
            next.last_error = Some(format!("{detail} (gave up after {} attempts)", next.attempts));
            ("failed", next.last_error.clone().unwrap_or_default())
        }
        Attempt::Failed(detail) => {
            next.status = DeliveryStatus::Failed;
            next.last_error = Some(detail.clone());
            ("failed", detail.clone())
        }
    };
    let entry = LogEntry {
        at: now,
        kind: LogKind::NotificationAttempt {
            notification: notification.id,
            channel: notification.recipient.channel.clone(),
            recipient: describe(&notification.recipient),
            attempt: next.attempts,
            outcome: word.to_string(),
            detail,
        },
    };
    ChangeSet {
        reads: vec![ReadCheck::NotificationVersion {
            id: notification.id,
            expected: Some(notification.version),
        }],
        writes: vec![
            Write::PutNotification(next),
            Write::AppendLog { incident: notification.incident, entry },
        ],
    }
}
