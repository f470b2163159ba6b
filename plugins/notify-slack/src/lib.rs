//! Slack incoming webhooks: one Block Kit message per notification.
//!
//! The channel's `url` is the incoming webhook URL Slack gives
//! (`https://hooks.slack.com/services/...`). A person's Slack contact
//! address is their member id (`U0123ABCD`), mentioned in the message.

use inbound_notifier_sdk::{Channel, Kind, Message, Notification, Notifier, RenderError};
use serde::Deserialize;
use serde_json::{Value, json};

struct Slack;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Text put before the summary, e.g. a team's name.
    prefix: Option<String>,
}

// Slack's documented limits for the blocks used here.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;

impl Notifier for Slack {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings: Settings = channel.settings()?;
        Ok(vec![
            Message::post_json("", &payload(&notification, settings.prefix.as_deref()))
                .header("idempotency-key", notification.id.clone()),
        ])
    }
}

fn payload(notification: &Notification, prefix: Option<&str>) -> Value {
    let incident = &notification.incident;
    let (icon, verb) = match notification.kind {
        Kind::Triggered => (":rotating_light:", "needs someone"),
        Kind::Resolved => (":white_check_mark:", "is resolved"),
    };
    let title = format!(
        "{}#{} {}",
        prefix.map(|p| format!("{p} ")).unwrap_or_default(),
        incident.id,
        incident.summary
    );
    let mention = match &notification.recipient.address {
        Some(member) if notification.kind == Kind::Triggered => format!("<@{member}> "),
        _ => String::new(),
    };
    let fallback =
        format!("{mention}{icon} Incident #{} {verb}: {}", incident.id, incident.summary);
    let mut fields = vec![
        field("Status", &incident.status),
        field("Priority", incident.priority.as_deref().unwrap_or("none")),
        field("Source", &incident.source),
        field("Level", &(notification.level + 1).to_string()),
    ];
    if let Some(person) = &notification.recipient.person {
        fields.push(field("For", person));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&title, HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&fallback, SECTION_MAX)}, "fields": fields}),
    ];
    if !incident.details.trim().is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "plain_text", "text": cut(&incident.details, SECTION_MAX)}}));
    }
    let mut buttons = Vec::new();
    if notification.kind == Kind::Triggered {
        if let Some(url) = &notification.accept_url {
            buttons.push(button("Accept", url, Some("primary")));
        }
        if let Some(url) = &notification.resolve_url {
            buttons.push(button("Resolve", url, None));
        }
    }
    if let Some(url) = &incident.url {
        buttons.push(button("Open", url, None));
    }
    if !buttons.is_empty() {
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }
    json!({"text": cut(&fallback, SECTION_MAX), "blocks": blocks})
}

fn field(label: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": cut(&format!("*{label}*\n{value}"), FIELD_MAX)})
}

fn button(text: &str, url: &str, style: Option<&str>) -> Value {
    let mut button =
        json!({"type": "button", "text": {"type": "plain_text", "text": text}, "url": url});
    if let Some(style) = style {
        button["style"] = json!(style);
    }
    button
}

/// At most `max` characters, cut on a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

inbound_notifier_sdk::register_notifier!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_slacks_limit() {
        assert_eq!(cut(&"ø".repeat(200), HEADER_MAX).chars().count(), HEADER_MAX);
        assert_eq!(cut("short", HEADER_MAX), "short");
    }
}
