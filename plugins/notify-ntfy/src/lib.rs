//! ntfy (<https://ntfy.sh>, or a self-hosted ntfy server): one push
//! notification per notification, with a one-tap Accept.
//!
//! The channel's `url` is the ntfy server (`https://ntfy.sh`); its
//! `settings.topic` is the topic people subscribe to in the ntfy app. The
//! message is published as JSON to the server's root, so summaries in any
//! language survive (ntfy's header form is ASCII only). When the channel has
//! a `signing_secret`, it is sent as the access token of a protected topic.
//!
//! A triggered notification carries an `http` action that POSTs the
//! notification's signed accept link: one tap on the phone accepts the
//! incident, and the incident's page is the notification's click target.
//!
//! A digest of notifications a contact's throttle held is one push (a few
//! when long) listing each incident by number and summary, with its link;
//! one tap cannot accept them all, so it carries no Accept action.

use inbound_notifier_sdk::{Channel, Digest, Kind, Message, Notification, Notifier, RenderError};
use serde::Deserialize;
use serde_json::{Value, json};

struct Ntfy;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The ntfy topic, e.g. `acme-oncall-7f3a` (choose one nobody guesses
    /// on a public server).
    topic: String,
}

/// ntfy's limits: a message body of 4096 bytes, a title kept short enough
/// to read on a lock screen.
const MESSAGE_MAX: usize = 4096;
const TITLE_MAX: usize = 200;

impl Notifier for Ntfy {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let topic = topic(&channel)?;
        let body = payload(&notification, &topic);
        Ok(vec![publish(&channel, &body, notification.id.clone())])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let topic = topic(&channel)?;
        let parts = digest_payloads(&digest, &topic);
        let count = parts.len();
        Ok(parts
            .iter()
            .enumerate()
            .map(|(part, body)| {
                let key = if count == 1 {
                    digest.id.clone()
                } else {
                    format!("{}-{}", digest.id, part + 1)
                };
                publish(&channel, body, key)
            })
            .collect())
    }
}

fn topic(channel: &Channel) -> Result<String, RenderError> {
    let settings: Settings = channel.settings()?;
    if !valid_topic(&settings.topic) {
        return Err(RenderError::invalid_settings(format!(
            "topic {:?} is not an ntfy topic: 1 to 64 letters, digits, '-' or '_'",
            settings.topic
        )));
    }
    Ok(settings.topic)
}

fn publish(channel: &Channel, body: &Value, key: String) -> Message {
    let mut message = Message::post_json("/", body).header("idempotency-key", key);
    if let Some(token) = &channel.secret {
        message = message.header("authorization", format!("Bearer {token}"));
    }
    message
}

/// A digest as ntfy messages: each incident one line (number, summary,
/// link), as many lines per message as its 4096 bytes hold.
pub fn digest_payloads(digest: &Digest, topic: &str) -> Vec<Value> {
    let mut parts: Vec<String> = vec![String::new()];
    for notification in &digest.notifications {
        let incident = &notification.incident;
        let summary = incident.summary.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut line = cut(&format!("#{} {summary}", incident.id), 300);
        line.push_str(Digest::resolved_mark(notification));
        if let Some(url) = web_url(incident.url.as_deref()) {
            line.push_str(&format!(" {url}"));
        }
        line.push('\n');
        let last = parts.last_mut().expect("one part at least");
        if last.len() + line.len() > MESSAGE_MAX && !last.is_empty() {
            parts.push(line);
        } else {
            last.push_str(&line);
        }
    }
    let urgent = digest.notifications.iter().map(|n| priority(&n.incident)).max().unwrap_or(3);
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(part, text)| {
            let title = if count == 1 {
                digest.title()
            } else {
                format!("{} ({}/{count})", digest.title(), part + 1)
            };
            json!({
                "topic": topic,
                "title": cut(&title, TITLE_MAX),
                "message": cut(text.trim_end(), MESSAGE_MAX),
                "priority": urgent,
                "tags": ["rotating_light"],
            })
        })
        .collect()
}

fn valid_topic(topic: &str) -> bool {
    (1..=64).contains(&topic.len())
        && topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// ntfy's JSON publishing body.
pub fn payload(notification: &Notification, topic: &str) -> Value {
    let incident = &notification.incident;
    let (verb, tags, priority) = match notification.kind {
        Kind::Triggered => ("needs someone", vec!["rotating_light"], priority(incident)),
        Kind::Resolved => ("is resolved", vec!["white_check_mark"], 2),
    };
    let mut lines = vec![format!("Incident #{} {verb}.", incident.id)];
    lines.push(format!("Source: {}", incident.source));
    if let Some(person) = &notification.recipient.person {
        lines.push(format!("For: {person}"));
    }
    if !incident.details.is_empty() {
        lines.push(String::new());
        lines.push(incident.details.clone());
    }
    let mut body = json!({
        "topic": topic,
        "title": cut(&format!("#{} {}", incident.id, incident.summary), TITLE_MAX),
        "message": cut(&lines.join("\n"), MESSAGE_MAX),
        "priority": priority,
        "tags": tags,
    });
    if let Some(url) = web_url(incident.url.as_deref()) {
        body["click"] = json!(url);
    }
    let mut actions = Vec::new();
    if let Some(accept) = &notification.accept_url {
        actions.push(json!({
            "action": "http",
            "label": "Accept",
            "url": accept,
            "method": "POST",
            "clear": true,
        }));
    }
    if let Some(url) = web_url(incident.url.as_deref()) {
        actions.push(json!({ "action": "view", "label": "Open", "url": url }));
    }
    if !actions.is_empty() {
        body["actions"] = json!(actions);
    }
    body
}

/// ntfy's priorities: 5 urgent (a loud, persistent alert), 4 high, 3 the
/// default, 2 low.
fn priority(incident: &inbound_notifier_sdk::Incident) -> u8 {
    match incident.priority.as_deref() {
        Some("urgent") => 5,
        Some("high") => 4,
        Some("low") => 2,
        _ => 3,
    }
}

fn web_url(url: Option<&str>) -> Option<&str> {
    url.filter(|url| url.starts_with("https://") || url.starts_with("http://"))
}

/// `text` cut to `max` bytes on a character boundary, marked when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

inbound_notifier_sdk::register_notifier!(Ntfy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_what_ntfy_accepts() {
        assert!(valid_topic("acme-oncall_7f3a"));
        for bad in ["", "a b", "a/b", "ø", &"x".repeat(65)] {
            assert!(!valid_topic(bad), "{bad:?}");
        }
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let cut = cut(&"ø".repeat(3000), 4096);
        assert!(cut.len() <= 4096 && cut.ends_with("..."), "{}", cut.len());
    }
}
