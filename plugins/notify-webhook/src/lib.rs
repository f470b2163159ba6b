//! The generic webhook notifier: one signed JSON `POST` per notification,
//! or per digest of notifications a contact's throttle held.
//!
//! The body is the versioned document of docs/notifications.md
//! (`"version": 1`). Receivers verify it with the channel's signing secret:
//! `x-inbound-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! where `<timestamp>` is the `x-inbound-timestamp` header (Unix seconds).

use hmac::{Hmac, Mac};
use inbound_notifier_sdk::{Channel, Digest, Message, Notification, Notifier, RenderError};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

/// The body's `version`. A change that removes or renames a field bumps it.
pub const BODY_VERSION: u32 = 1;

struct Webhook;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// A path (with query) under the channel's URL origin; default: the URL itself.
    path: String,
}

impl Notifier for Webhook {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let body = body(&notification).to_string();
        Ok(vec![signed(&channel, &notification.id, notification.sent_at, body)?])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let body = digest_body(&digest).to_string();
        Ok(vec![signed(&channel, &digest.id, digest.sent_at, body)?])
    }
}

/// The `POST` of `body`, with the idempotency key `id` and the signature.
fn signed(channel: &Channel, id: &str, sent_at: u64, body: String) -> Result<Message, RenderError> {
    let settings: Settings = channel.settings()?;
    let secret = channel.secret.as_deref().ok_or_else(|| {
        RenderError::new(
            "missing-secret",
            format!(
                "the webhook channel {:?} needs a signing secret so receivers can verify it: set signing_secret_env in its [[channels]] entry",
                channel.name
            ),
        )
    })?;
    let timestamp = sent_at.to_string();
    Ok(Message::Http(inbound_notifier_sdk::HttpRequest {
        method: "POST".into(),
        url: settings.path,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("idempotency-key".into(), id.to_string()),
            ("x-inbound-notification-id".into(), id.to_string()),
            ("x-inbound-timestamp".into(), timestamp.clone()),
            ("x-inbound-signature".into(), format!("v1={}", sign(secret, &timestamp, &body))),
        ],
        body: body.into_bytes(),
    }))
}

/// A digest's body: `type` `incident.digest`, its own `id`, the title and
/// plain text a person reads, and every notification as the body it would
/// have had alone, without `version` and the incident's `details` (a
/// digest of hundreds stays small).
pub fn digest_body(digest: &Digest) -> serde_json::Value {
    let notifications: Vec<serde_json::Value> = digest
        .notifications
        .iter()
        .map(|notification| {
            let mut item = body(notification);
            if let Some(item) = item.as_object_mut() {
                item.remove("version");
                item.remove("sent_at");
                item.remove("recipient");
            }
            if let Some(incident) = item["incident"].as_object_mut() {
                incident.remove("details");
            }
            item
        })
        .collect();
    json!({
        "version": BODY_VERSION,
        "type": "incident.digest",
        "id": digest.id,
        "sent_at": digest.sent_at,
        "recipient": {
            "person": digest.recipient.person,
            "address": digest.recipient.address,
        },
        "title": digest.title(),
        "text": digest.text(),
        "notifications": notifications,
    })
}

/// The documented JSON body, version 1.
pub fn body(notification: &Notification) -> serde_json::Value {
    let incident = &notification.incident;
    json!({
        "version": BODY_VERSION,
        "type": format!("incident.{}", notification.kind.as_str()),
        "id": notification.id,
        "sent_at": notification.sent_at,
        "level": notification.level,
        "recipient": {
            "person": notification.recipient.person,
            "address": notification.recipient.address,
        },
        "incident": {
            "id": incident.id,
            "source": incident.source,
            "status": incident.status,
            "summary": incident.summary,
            "details": incident.details,
            "priority": incident.priority,
            "url": incident.url,
            "created_at": incident.created_at,
        },
        "links": {
            "accept": notification.accept_url,
            "resolve": notification.resolve_url,
        },
    })
}

/// Lower-case hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
}

inbound_notifier_sdk::register_notifier!(Webhook);

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector computed independently with Python's
    /// `hmac.new(b"secret", b'1700000000.{"version":1}', hashlib.sha256)`.
    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        assert_eq!(
            sign("secret", "1700000000", r#"{"version":1}"#),
            "6c49492c841520e805df0f6652ac4859b2bf8a94b97b7fe2664f0c02e62d2c85"
        );
        assert_ne!(
            sign("secret", "1700000001", r#"{"version":1}"#),
            sign("secret", "1700000000", r#"{"version":1}"#)
        );
    }
}
