//! Slack incoming webhooks: one Block Kit message per notification, and per
//! digest of notifications a contact's throttle held (a list of links).
//!
//! The channel's `url` is the incoming webhook URL Slack gives
//! (`https://hooks.slack.com/services/...`). A person's Slack contact
//! address is their member id (`U0123ABCD`), mentioned in the message.

use inbound_notifier_sdk::{Channel, Digest, Kind, Message, Notification, Notifier, RenderError};
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
const BLOCKS_MAX: usize = 50;

impl Notifier for Slack {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings: Settings = channel.settings()?;
        Ok(vec![
            Message::post_json("", &payload(&notification, settings.prefix.as_deref()))
                .header("idempotency-key", notification.id.clone()),
        ])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings: Settings = channel.settings()?;
        Ok(digest_payloads(&digest, settings.prefix.as_deref())
            .iter()
            .enumerate()
            .map(|(part, payload)| {
                Message::post_json("", payload)
                    .header("idempotency-key", format!("{}-{}", digest.id, part + 1))
            })
            .collect())
    }
}

/// A digest as messages: a header, then one line per incident (its link,
/// priority and Accept link) in sections of at most Slack's size, as many
/// messages as the blocks need.
fn digest_payloads(digest: &Digest, prefix: Option<&str>) -> Vec<Value> {
    let title =
        format!("{}{}", prefix.map(|p| format!("{p} ")).unwrap_or_default(), digest.title());
    let mention = match &digest.recipient.address {
        Some(member) => format!("<@{member}> "),
        None => String::new(),
    };
    let mut sections = vec![String::new()];
    for notification in &digest.notifications {
        let incident = &notification.incident;
        let summary = escape(&cut(&incident.summary, 200));
        let mut line = match web_url(incident.url.as_deref()) {
            Some(url) => format!("• <{url}|#{} {summary}>", incident.id),
            None => format!("• #{} {summary}", incident.id),
        };
        if let Some(priority) = &incident.priority {
            line.push_str(&format!(" ({priority})"));
        }
        line.push_str(Digest::resolved_mark(notification));
        if let Some(url) = &notification.accept_url {
            line.push_str(&format!(" · <{url}|Accept>"));
        }
        line.push('\n');
        let last = sections.last_mut().expect("one section at least");
        if last.len() + line.len() > SECTION_MAX && !last.is_empty() {
            sections.push(line);
        } else {
            last.push_str(&line);
        }
    }
    let fallback = cut(&format!("{mention}:rotating_light: {}", digest.title()), SECTION_MAX);
    sections
        .chunks(BLOCKS_MAX - 1)
        .map(|chunk| {
            let mut blocks = vec![json!({"type": "header", "text": {"type": "plain_text", "text": cut(&title, HEADER_MAX), "emoji": true}})];
            blocks.extend(chunk.iter().map(|text| {
                json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_MAX)}})
            }));
            json!({"text": fallback, "blocks": blocks})
        })
        .collect()
}

/// Slack's mrkdwn escapes: `&`, `<` and `>`.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn web_url(url: Option<&str>) -> Option<&str> {
    url.filter(|url| url.starts_with("https://") || url.starts_with("http://"))
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
    fn a_long_digest_takes_several_sections_and_every_incident_is_listed() {
        let notification = |id: u64| Notification {
            id: format!("n{id}"),
            kind: Kind::Triggered,
            incident: inbound_notifier_sdk::Incident {
                id,
                source: "support".into(),
                status: "pending".into(),
                summary: format!("Printer {id} <on fire> & smoking"),
                details: String::new(),
                priority: None,
                url: Some(format!("https://example.com/t/{id}")),
                created_at: 0,
            },
            level: 0,
            recipient: inbound_notifier_sdk::Recipient { person: None, address: None },
            accept_url: Some(format!("https://inbound.example.com/ack/{}", "x".repeat(150))),
            resolve_url: None,
            sent_at: 0,
        };
        let digest = Digest {
            id: "d".into(),
            recipient: inbound_notifier_sdk::Recipient { person: None, address: None },
            notifications: (1..=500).map(notification).collect(),
            sent_at: 0,
        };
        let payloads = digest_payloads(&digest, None);
        let text = payloads.iter().map(|p| p.to_string()).collect::<String>();
        for id in 1..=500 {
            assert!(
                text.contains(&format!("|#{id} Printer {id} &lt;on fire&gt; &amp; smoking>")),
                "{id}"
            );
        }
        for payload in &payloads {
            let blocks = payload["blocks"].as_array().unwrap();
            assert!(blocks.len() <= BLOCKS_MAX);
            assert!(
                blocks
                    .iter()
                    .all(|b| b["text"]["text"].as_str().unwrap().chars().count() <= SECTION_MAX)
            );
        }
        assert!(payloads.len() <= 16, "within the host's messages per render");
    }

    #[test]
    fn long_text_is_cut_to_slacks_limit() {
        assert_eq!(cut(&"ø".repeat(200), HEADER_MAX).chars().count(), HEADER_MAX);
        assert_eq!(cut("short", HEADER_MAX), "short");
    }
}
