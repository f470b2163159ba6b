//! The generic webhook notifier: one signed JSON `POST` per notification.
//!
//! The body is the versioned document of docs/notifications.md
//! (`"version": 1`). Receivers verify it with the channel's signing secret:
//! `x-inbound-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! where `<timestamp>` is the `x-inbound-timestamp` header (Unix seconds).

use hmac::{Hmac, Mac};
use inbound_notifier_sdk::{Channel, Message, Notification, Notifier, RenderError};
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
        let body = body(&notification).to_string();
        let timestamp = notification.sent_at.to_string();
        let message = Message::Http(inbound_notifier_sdk::HttpRequest {
            method: "POST".into(),
            url: settings.path,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("idempotency-key".into(), notification.id.clone()),
                ("x-inbound-notification-id".into(), notification.id.clone()),
                ("x-inbound-timestamp".into(), timestamp.clone()),
                ("x-inbound-signature".into(), format!("v1={}", sign(secret, &timestamp, &body))),
            ],
            body: body.into_bytes(),
        });
        Ok(vec![message])
    }
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
