//! Email: one message per notification (or per digest of notifications a
//! contact's throttle held) to the person's address. The host
//! sends it through the channel's SMTP server and sets `Message-ID` from the
//! notification's id, so a resend after a crash can be recognised.

use inbound_notifier_sdk::{
    Channel, Digest, Email, Kind, Message, Notification, Notifier, RenderError,
};
use serde::Deserialize;

struct EmailNotifier;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Put before every subject; default `[inbound]`.
    subject_prefix: Option<String>,
}

/// The person's address: an email channel cannot be a target by itself.
fn address(
    recipient: &inbound_notifier_sdk::Recipient,
    channel: &Channel,
) -> Result<String, RenderError> {
    recipient.address.clone().ok_or_else(|| {
        RenderError::new(
            "no-address",
            format!(
                "the email channel {:?} can only notify people (with an email address in [[people]]), not be a target by itself",
                channel.name
            ),
        )
    })
}

impl Notifier for EmailNotifier {
    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings: Settings = channel.settings()?;
        let to = address(&digest.recipient, &channel)?;
        let prefix = settings.subject_prefix.unwrap_or_else(|| "[inbound]".into());
        let subject = format!("{prefix} {}", one_line(&digest.title()));
        let text = format!(
            "{}\nThese were held back so as not to flood you: each is listed once, here.\n",
            digest.text()
        );
        Ok(vec![Message::Email(Email { to: vec![to], subject, text, html: None })])
    }

    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings: Settings = channel.settings()?;
        let to = address(&notification.recipient, &channel)?;
        let incident = &notification.incident;
        let prefix = settings.subject_prefix.unwrap_or_else(|| "[inbound]".into());
        let what = match notification.kind {
            Kind::Triggered => "needs someone",
            Kind::Resolved => "resolved",
        };
        let subject = format!("{prefix} #{} {what}: {}", incident.id, one_line(&incident.summary));
        let mut text = format!(
            "Incident #{} {what}.\n\nSummary:  {}\nPriority: {}\nSource:   {}\nStatus:   {}\nLevel:    {}\n",
            incident.id,
            incident.summary,
            incident.priority.as_deref().unwrap_or("none"),
            incident.source,
            incident.status,
            notification.level + 1,
        );
        if let Some(url) = &incident.url {
            text.push_str(&format!("Link:     {url}\n"));
        }
        if !incident.details.trim().is_empty() {
            text.push_str(&format!("\n{}\n", incident.details));
        }
        if notification.kind == Kind::Triggered {
            if let Some(url) = &notification.accept_url {
                text.push_str(&format!("\nAccept:  {url}\n"));
            }
            if let Some(url) = &notification.resolve_url {
                text.push_str(&format!("Resolve: {url}\n"));
            }
        }
        Ok(vec![Message::Email(Email { to: vec![to], subject, text, html: None })])
    }
}

/// Subjects are one line: header injection is the host's to refuse, but a
/// newline in a summary should not make the message fail.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

inbound_notifier_sdk::register_notifier!(EmailNotifier);

#[cfg(test)]
mod tests {
    #[test]
    fn a_summary_becomes_one_line() {
        assert_eq!(super::one_line("a\r\nb  c"), "a b c");
    }
}
