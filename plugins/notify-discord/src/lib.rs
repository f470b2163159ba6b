//! Discord webhooks: one message with an embed per notification, and for a
//! digest of notifications a contact's throttle held, embeds listing each
//! incident on a line.
//!
//! The channel's `url` is the webhook URL Discord gives
//! (`https://discord.com/api/webhooks/{id}/{token}`). A person's Discord
//! contact address is their user id (a snowflake, `123456789012345678`),
//! mentioned in the message's `content`. Every message carries
//! `allowed_mentions` with an empty `parse` and that user alone, so text
//! from the alert (`@everyone`, a role) pings nobody.
//!
//! Discord answers `429` with `Retry-After` when a webhook posts too fast;
//! the host waits that long before the next attempt, which resumes after
//! the messages already delivered.

use inbound_notifier_sdk::{
    Channel, Digest, Kind, Message, Notification, Notifier, Recipient, RenderError,
};
use serde::Deserialize;
use serde_json::{Value, json};

struct Discord;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Posts under this name instead of the webhook's.
    username: Option<String>,
    /// Posts with this picture instead of the webhook's.
    avatar_url: Option<String>,
}

impl Settings {
    fn of(channel: &Channel) -> Result<Settings, RenderError> {
        let settings: Settings = channel.settings()?;
        if let Some(username) = &settings.username {
            let lower = username.to_lowercase();
            if username.trim().is_empty()
                || username.chars().count() > 80
                || username.chars().any(char::is_control)
                || lower.contains("discord")
                || lower.contains("clyde")
            {
                return Err(RenderError::invalid_settings(format!(
                    "username {username:?} must be 1 to 80 characters on one line, without \"discord\" or \"clyde\" (Discord refuses those)"
                )));
            }
        }
        if let Some(avatar) = &settings.avatar_url
            && web_url(Some(avatar)).is_none()
        {
            return Err(RenderError::invalid_settings(format!(
                "avatar_url {avatar:?} must be an http:// or https:// URL"
            )));
        }
        Ok(settings)
    }

    /// Adds the overrides to a message.
    fn apply(&self, mut message: Value) -> Value {
        if let Some(username) = &self.username {
            message["username"] = json!(username);
        }
        if let Some(avatar) = &self.avatar_url {
            message["avatar_url"] = json!(avatar);
        }
        message
    }
}

// Discord's documented limits, counted in characters (UTF-16 units here,
// which is never fewer).
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 2048;
/// Title, description, field names and values, footer and author of every
/// embed of one message together.
pub const EMBEDS_TOTAL_MAX: usize = 6000;
pub const EMBEDS_MAX: usize = 10;
pub const CONTENT_MAX: usize = 2000;
/// Characters of a fact's value here (Discord allows 1024).
const FIELD_SHORT_MAX: usize = 256;
/// The most messages one render may return (the host's limit).
const MAX_MESSAGES: usize = 16;
/// Characters of a summary in a digest's line.
const DIGEST_SUMMARY_MAX: usize = 200;
/// Characters of one digest line at most.
const DIGEST_LINE_MAX: usize = 600;
/// Links longer than this are not linked (an incident's URL comes from the
/// alert's sender).
const URL_MAX: usize = 2_048;
const FOOTER: &str = "inbound";
const RED: u32 = 0xD32F2F;
const GREEN: u32 = 0x2E7D32;

impl Notifier for Discord {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings = Settings::of(&channel)?;
        Ok(vec![
            Message::post_json("", &settings.apply(payload(&notification)))
                .header("idempotency-key", notification.id.clone()),
        ])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings = Settings::of(&channel)?;
        let payloads = digest_payloads(&digest);
        let count = payloads.len();
        Ok(payloads
            .into_iter()
            .enumerate()
            .map(|(part, payload)| {
                let key = if count == 1 {
                    digest.id.clone()
                } else {
                    format!("{}-{}", digest.id, part + 1)
                };
                Message::post_json("", &settings.apply(payload)).header("idempotency-key", key)
            })
            .collect())
    }
}

/// The Discord user id in an address: `123456789012345678`, `<@…>` or
/// `<@!…>`.
fn user_id(recipient: &Recipient) -> Option<String> {
    let address = recipient.address.as_deref()?.trim();
    let id = address
        .strip_prefix("<@")
        .and_then(|rest| rest.strip_suffix('>'))
        .map(|id| id.strip_prefix('!').unwrap_or(id))
        .unwrap_or(address);
    (id.len() >= 15 && id.len() <= 21 && id.chars().all(|c| c.is_ascii_digit()))
        .then(|| id.to_string())
}

/// `content` and `allowed_mentions`: the person mentioned by id, nobody else.
fn mention(recipient: &Recipient, paging: bool) -> (String, Value) {
    match user_id(recipient).filter(|_| paging) {
        Some(id) => (format!("<@{id}>"), json!({"parse": [], "users": [id]})),
        None => (String::new(), json!({"parse": [], "users": []})),
    }
}

/// The message of one notification: the incident's title linking it, what
/// happened with Accept / Resolve links and the details, the facts, and
/// when it was created.
fn payload(notification: &Notification) -> Value {
    let incident = &notification.incident;
    let triggered = notification.kind == Kind::Triggered;
    let (content, allowed_mentions) = mention(&notification.recipient, triggered);
    let title =
        cut(&format!("#{} {}", incident.id, escape(&one_line(&incident.summary))), TITLE_MAX);
    let verb = if triggered { "needs someone" } else { "is resolved" };
    let mut head = format!("**Incident #{} {verb}.**", incident.id);
    if triggered {
        let links: Vec<String> =
            [("Accept", &notification.accept_url), ("Resolve", &notification.resolve_url)]
                .into_iter()
                .filter_map(|(label, url)| {
                    url.as_deref().map(|url| format!("[{label}]({})", link(url)))
                })
                .collect();
        if !links.is_empty() {
            head.push('\n');
            head.push_str(&links.join(" · "));
        }
    }
    let mut fields = vec![
        field("Priority", incident.priority.as_deref().unwrap_or("none")),
        field("Status", &incident.status),
        field("Source", &incident.source),
        field("Level", &(notification.level + 1).to_string()),
    ];
    if let Some(person) = &notification.recipient.person {
        fields.push(field("For", person));
    }
    let used = units(&title)
        + units(FOOTER)
        + fields.iter().map(|f| units_of(&f["name"]) + units_of(&f["value"])).sum::<usize>();
    let room = DESCRIPTION_MAX.min(EMBEDS_TOTAL_MAX.saturating_sub(used));
    let details = escape(incident.details.trim());
    let description =
        if details.is_empty() { head } else { cut(&format!("{head}\n\n{details}"), room) };
    let mut embed = json!({
        "title": title,
        "description": description,
        "color": if triggered { RED } else { GREEN },
        "fields": fields,
        "timestamp": iso8601(incident.created_at),
        "footer": {"text": FOOTER},
    });
    if let Some(url) = web_url(incident.url.as_deref()) {
        embed["url"] = json!(url);
    }
    json!({"content": content, "embeds": [embed], "allowed_mentions": allowed_mentions})
}

/// A fact; its value is kept short (a source's or a person's name) so the
/// description keeps its room within the message's 6000 characters.
fn field(name: &str, value: &str) -> Value {
    json!({
        "name": cut(name, FIELD_NAME_MAX),
        "value": cut(&escape(&one_line(value)), FIELD_SHORT_MAX),
        "inline": true,
    })
}

/// A digest as messages: the first embed of each with the digest's title
/// and its newest incident's creation, then one line per incident (its link, priority and Accept link) in
/// embeds within Discord's limits. Lines are shortened (the Accept link
/// first, then the summary) so that at most 16 messages hold them all.
fn digest_payloads(digest: &Digest) -> Vec<Value> {
    let paging = digest.notifications.iter().any(|n| n.kind == Kind::Triggered);
    let (content, allowed_mentions) = mention(&digest.recipient, paging);
    let color = if paging { RED } else { GREEN };
    let title = escape(&digest.title());
    // The newest incident's creation: the same on every attempt.
    let newest = digest.notifications.iter().map(|n| n.incident.created_at).max().unwrap_or(0);
    // Room for lines in one message: all of its embeds less the title (with
    // a "(16/16)"), the footer and a margin.
    let capacity = EMBEDS_TOTAL_MAX - TITLE_MAX - units(FOOTER) - 100;
    let count = digest.notifications.len().max(1);
    let budget = DIGEST_LINE_MAX.min((MAX_MESSAGES - 1) * (capacity - DIGEST_LINE_MAX) / count);
    let mut parts: Vec<Vec<String>> = vec![Vec::new()];
    let mut used = 0;
    for notification in &digest.notifications {
        let line = Line::of(notification).fit(budget, units);
        let size = units(&line) + 1;
        let last = parts.last_mut().expect("one part at least");
        if used + size > capacity && !last.is_empty() {
            parts.push(vec![line]);
            used = size;
        } else {
            last.push(line);
            used += size;
        }
    }
    let total = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(part, lines)| {
            let mut descriptions = vec![String::new()];
            for line in lines {
                let last = descriptions.last_mut().expect("one description at least");
                if units(last) + units(&line) + 1 > DESCRIPTION_MAX && !last.is_empty() {
                    descriptions.push(line);
                } else {
                    if !last.is_empty() {
                        last.push('\n');
                    }
                    last.push_str(&line);
                }
            }
            let title =
                if total == 1 { title.clone() } else { format!("{title} ({}/{total})", part + 1) };
            let embeds: Vec<Value> = descriptions
                .into_iter()
                .enumerate()
                .map(|(index, description)| {
                    let mut embed = json!({"description": description, "color": color});
                    if index == 0 {
                        embed["title"] = json!(cut(&title, TITLE_MAX));
                        embed["timestamp"] = json!(iso8601(newest));
                        embed["footer"] = json!({"text": FOOTER});
                    }
                    embed
                })
                .collect();
            json!({"content": content, "embeds": embeds, "allowed_mentions": allowed_mentions})
        })
        .collect()
}

/// One incident of a digest, shortened as its budget asks.
struct Line {
    id: u64,
    summary: String,
    shortened: bool,
    url: Option<String>,
    priority: Option<String>,
    resolved: bool,
    accept: Option<String>,
}

impl Line {
    fn of(notification: &Notification) -> Line {
        let incident = &notification.incident;
        let summary = one_line(&incident.summary);
        Line {
            id: incident.id,
            shortened: summary.chars().count() > DIGEST_SUMMARY_MAX,
            summary: summary.chars().take(DIGEST_SUMMARY_MAX - 1).collect(),
            url: web_url(incident.url.as_deref()).map(str::to_string),
            priority: incident.priority.clone(),
            resolved: notification.kind == Kind::Resolved,
            accept: notification.accept_url.clone(),
        }
    }

    /// `[#42 Printer on fire](url) (urgent) · [Accept](url)`.
    fn markdown(&self) -> String {
        let ellipsis = if self.shortened { "…" } else { "" };
        let label = format!("#{} {}{ellipsis}", self.id, escape(&self.summary));
        let mut line = match &self.url {
            Some(url) => format!("[{}]({})", label.trim_end(), link(url)),
            None => label.trim_end().to_string(),
        };
        if let Some(priority) = &self.priority {
            line.push_str(&format!(" ({})", escape(priority)));
        }
        if self.resolved {
            line.push_str(" (resolved)");
        }
        if let Some(accept) = &self.accept {
            line.push_str(&format!(" · [Accept]({})", link(accept)));
        }
        line
    }

    /// The line at most `budget` in `size`: without its Accept link, then
    /// with its summary shortened, then without its link, as needed.
    fn fit(mut self, budget: usize, size: impl Fn(&str) -> usize) -> String {
        if size(&self.markdown()) <= budget {
            return self.markdown();
        }
        self.accept = None;
        let (summary, shortened) = (self.summary.clone(), self.shortened);
        for unlinked in [false, true] {
            if unlinked {
                self.url = None;
                (self.summary, self.shortened) = (summary.clone(), shortened);
            }
            loop {
                let text = self.markdown();
                let over = size(&text).saturating_sub(budget);
                let chars = self.summary.chars().count();
                if over == 0 {
                    return text;
                }
                if chars == 0 {
                    break;
                }
                self.summary = self.summary.chars().take(chars.saturating_sub(over)).collect();
                self.shortened = true;
            }
        }
        self.markdown()
    }
}

/// Discord Markdown that shows `text` as written: its Markdown characters
/// escaped with a backslash, so it forms no link, mention chip, heading,
/// list or quote.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    for c in text.chars() {
        if "\\`*_~|[]<>".contains(c) || (line_start && "#-+".contains(c)) {
            escaped.push('\\');
        }
        escaped.push(c);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    escaped
}

/// A URL as a Markdown link's target: parentheses would end it early.
fn link(url: &str) -> String {
    url.replace('(', "%28").replace(')', "%29")
}

fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

fn units_of(value: &Value) -> usize {
    value.as_str().map_or(0, units)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn web_url(url: Option<&str>) -> Option<&str> {
    url.filter(|url| {
        (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= URL_MAX
            && !url.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c))
    })
}

/// At most `max` characters (UTF-16 units), cut on a character boundary and
/// marked; never ending in a lone backslash (which would escape the mark).
fn cut(text: &str, max: usize) -> String {
    if units(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    let backslashes = out.chars().rev().take_while(|c| *c == '\\').count();
    if backslashes % 2 == 1 {
        out.pop();
    }
    out.push('…');
    out
}

/// `2026-03-28T12:39:59.000Z` for milliseconds since the Unix epoch.
fn iso8601(millis: u64) -> String {
    let seconds = millis / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        millis % 1000
    )
}

inbound_notifier_sdk::register_notifier!(Discord);

#[cfg(test)]
mod tests {
    use super::*;
    use inbound_notifier_sdk::Incident;

    const ADA: &str = "123456789012345678";

    fn notification(kind: Kind) -> Notification {
        Notification {
            id: "inbound-42-7".into(),
            kind,
            incident: Incident {
                id: 42,
                source: "support".into(),
                status: "pending".into(),
                summary: "Printer on fire".into(),
                details: "The printer on floor 3 is on fire.".into(),
                priority: Some("urgent".into()),
                url: Some("https://example.zendesk.com/agent/tickets/42".into()),
                created_at: 1_774_699_199_000,
            },
            level: 0,
            recipient: Recipient { person: Some("ada".into()), address: Some(ADA.into()) },
            accept_url: Some("https://inbound.example.com/ack/accept-token".into()),
            resolve_url: Some("https://inbound.example.com/ack/resolve-token".into()),
            sent_at: 1_774_699_200,
        }
    }

    fn channel(settings: &str) -> Channel {
        Channel { name: "discord".into(), settings: settings.into(), secret: None }
    }

    fn bodies(messages: &[Message]) -> Vec<Value> {
        messages
            .iter()
            .map(|message| {
                let Message::Http(request) = message else { panic!("an HTTP message") };
                serde_json::from_slice(&request.body).unwrap()
            })
            .collect()
    }

    fn sample() -> Value {
        let messages = Discord::render(notification(Kind::Triggered), channel("{}")).unwrap();
        bodies(&messages).remove(0)
    }

    /// Every limit Discord's webhook enforces on a message.
    fn within_limits(message: &Value) -> Result<(), String> {
        let content = message["content"].as_str().ok_or("content")?;
        if units(content) > CONTENT_MAX {
            return Err(format!("content of {}", units(content)));
        }
        let embeds = message["embeds"].as_array().ok_or("embeds")?;
        if embeds.is_empty() || embeds.len() > EMBEDS_MAX {
            return Err(format!("{} embeds", embeds.len()));
        }
        let mut total = 0;
        for embed in embeds {
            let title = units_of(&embed["title"]);
            let description = units_of(&embed["description"]);
            let footer = units_of(&embed["footer"]["text"]);
            if title > TITLE_MAX || description > DESCRIPTION_MAX || footer > FOOTER_MAX {
                return Err(format!("title {title}, description {description}, footer {footer}"));
            }
            let fields = embed["fields"].as_array().cloned().unwrap_or_default();
            if fields.len() > FIELDS_MAX {
                return Err(format!("{} fields", fields.len()));
            }
            for field in &fields {
                let (name, value) = (units_of(&field["name"]), units_of(&field["value"]));
                if name == 0 || name > FIELD_NAME_MAX || value == 0 || value > FIELD_VALUE_MAX {
                    return Err(format!("a field of {name} and {value}"));
                }
                total += name + value;
            }
            total += title + description + footer;
        }
        if total > EMBEDS_TOTAL_MAX {
            return Err(format!("embeds of {total} characters in all"));
        }
        let parse = message["allowed_mentions"]["parse"].as_array().ok_or("allowed_mentions")?;
        if !parse.is_empty() {
            return Err(format!("allowed_mentions.parse {parse:?}"));
        }
        Ok(())
    }

    #[test]
    fn a_triggered_notification_mentions_the_person_alone() {
        assert_eq!(
            sample(),
            json!({
                "content": "<@123456789012345678>",
                "embeds": [{
                    "title": "#42 Printer on fire",
                    "url": "https://example.zendesk.com/agent/tickets/42",
                    "description": "**Incident #42 needs someone.**\n[Accept](https://inbound.example.com/ack/accept-token) · [Resolve](https://inbound.example.com/ack/resolve-token)\n\nThe printer on floor 3 is on fire.",
                    "color": 0xD32F2F,
                    "fields": [
                        {"name": "Priority", "value": "urgent", "inline": true},
                        {"name": "Status", "value": "pending", "inline": true},
                        {"name": "Source", "value": "support", "inline": true},
                        {"name": "Level", "value": "1", "inline": true},
                        {"name": "For", "value": "ada", "inline": true},
                    ],
                    "timestamp": "2026-03-28T11:59:59.000Z",
                    "footer": {"text": "inbound"},
                }],
                "allowed_mentions": {"parse": [], "users": ["123456789012345678"]},
            })
        );
        within_limits(&sample()).unwrap();
    }

    #[test]
    fn a_resolved_notice_is_green_and_mentions_nobody() {
        let resolved = Notification {
            accept_url: None,
            resolve_url: None,
            incident: Incident { details: String::new(), ..notification(Kind::Resolved).incident },
            ..notification(Kind::Resolved)
        };
        let settings =
            r#"{"username": "inbound", "avatar_url": "https://inbound.example.com/a.png"}"#;
        let messages = Discord::render(resolved, channel(settings)).unwrap();
        assert_eq!(
            bodies(&messages)[0],
            json!({
                "content": "",
                "username": "inbound",
                "avatar_url": "https://inbound.example.com/a.png",
                "embeds": [{
                    "title": "#42 Printer on fire",
                    "url": "https://example.zendesk.com/agent/tickets/42",
                    "description": "**Incident #42 is resolved.**",
                    "color": 0x2E7D32,
                    "fields": [
                        {"name": "Priority", "value": "urgent", "inline": true},
                        {"name": "Status", "value": "pending", "inline": true},
                        {"name": "Source", "value": "support", "inline": true},
                        {"name": "Level", "value": "1", "inline": true},
                        {"name": "For", "value": "ada", "inline": true},
                    ],
                    "timestamp": "2026-03-28T11:59:59.000Z",
                    "footer": {"text": "inbound"},
                }],
                "allowed_mentions": {"parse": [], "users": []},
            })
        );
    }

    fn numbered(id: u64) -> Notification {
        let mut n = notification(Kind::Triggered);
        n.id = format!("inbound-{id}-1");
        n.incident.id = id;
        n.incident.summary = format!("Printer {id} on fire");
        n.incident.url = Some(format!("https://example.zendesk.com/agent/tickets/{id}"));
        n.accept_url = Some(format!("https://inbound.example.com/ack/{id}"));
        n
    }

    fn digest(notifications: Vec<Notification>) -> Digest {
        Digest {
            id: "inbound-digest-1-2-2".into(),
            recipient: notification(Kind::Triggered).recipient,
            notifications,
            sent_at: 1_774_699_800,
        }
    }

    #[test]
    fn a_digest_lists_every_incident_in_an_embed() {
        let mut quiet = numbered(43);
        quiet.incident.priority = None;
        quiet.accept_url = None;
        let messages =
            Discord::render_digest(digest(vec![numbered(42), quiet]), channel("{}")).unwrap();
        let Message::Http(request) = &messages[0] else { panic!("an HTTP message") };
        assert!(
            request.headers.contains(&("idempotency-key".into(), "inbound-digest-1-2-2".into()))
        );
        assert_eq!(
            bodies(&messages),
            vec![json!({
                "content": "<@123456789012345678>",
                "embeds": [{
                    "title": "2 more incidents from support",
                    "description": "[#42 Printer 42 on fire](https://example.zendesk.com/agent/tickets/42) (urgent) · [Accept](https://inbound.example.com/ack/42)\n\
                                    [#43 Printer 43 on fire](https://example.zendesk.com/agent/tickets/43)",
                    "color": 0xD32F2F,
                    "timestamp": "2026-03-28T11:59:59.000Z",
                    "footer": {"text": "inbound"},
                }],
                "allowed_mentions": {"parse": [], "users": ["123456789012345678"]},
            })]
        );
    }

    #[test]
    fn mentions_and_links_in_the_alert_stay_text() {
        let mut loud = notification(Kind::Triggered);
        loud.incident.summary =
            "@everyone <@&987654321098765432> [click](https://evil.example)".into();
        loud.incident.details = "# big\n- <@111111111111111111> **x**".into();
        let message = sample_of(loud);
        assert_eq!(message["allowed_mentions"], json!({"parse": [], "users": [ADA]}));
        assert_eq!(message["content"], format!("<@{ADA}>"), "the person alone is in content");
        let embed = &message["embeds"][0];
        assert_eq!(
            embed["title"],
            "#42 @everyone \\<@&987654321098765432\\> \\[click\\](https://evil.example)"
        );
        assert!(
            embed["description"]
                .as_str()
                .unwrap()
                .ends_with("\\# big\n\\- \\<@111111111111111111\\> \\*\\*x\\*\\*"),
            "{embed:#}"
        );

        // An address that is no user id mentions nobody.
        let mut named = notification(Kind::Triggered);
        named.recipient.address = Some("ada#1234".into());
        let message = sample_of(named);
        assert_eq!(message["content"], "");
        assert_eq!(message["allowed_mentions"], json!({"parse": [], "users": []}));
        let of =
            |address: &str| user_id(&Recipient { person: None, address: Some(address.into()) });
        assert_eq!(of(&format!("<@{ADA}>")).as_deref(), Some(ADA));
        assert_eq!(of(&format!("<@!{ADA}>")).as_deref(), Some(ADA));
        assert_eq!(of("@everyone"), None);
        assert_eq!(of("12345"), None);
    }

    fn sample_of(notification: Notification) -> Value {
        bodies(&Discord::render(notification, channel("{}")).unwrap()).remove(0)
    }

    #[test]
    fn a_message_stays_within_discords_limits_whatever_the_incident() {
        for text in ["ø".repeat(20_000), "😀".repeat(20_000), "*".repeat(20_000)] {
            let mut long = notification(Kind::Triggered);
            long.incident.summary = text.clone();
            long.incident.details = text.clone();
            long.incident.source = text.clone();
            long.recipient.person = Some(text.clone());
            let message = sample_of(long);
            within_limits(&message).unwrap();
            let embed = &message["embeds"][0];
            let title = units_of(&embed["title"]);
            assert!((TITLE_MAX - 2..=TITLE_MAX).contains(&title), "cut to the limit: {title}");
            assert!(embed["description"].as_str().unwrap().ends_with('…'));
        }
        assert_eq!(cut("ab\\\\\\*cd", 5), "ab\\\\…", "no lone backslash before the mark");
    }

    #[test]
    fn a_long_digest_is_split_within_discords_limits_and_lists_every_incident() {
        let mut notifications: Vec<Notification> = (1..=500).map(numbered).collect();
        for n in &mut notifications {
            n.incident.summary = "on fire ".repeat(100);
            n.accept_url = Some(format!("https://inbound.example.com/ack/{}", "t".repeat(300)));
        }
        let messages = Discord::render_digest(digest(notifications), channel("{}")).unwrap();
        assert!(messages.len() <= MAX_MESSAGES, "{}", messages.len());
        let mut listed = Vec::new();
        for (part, message) in bodies(&messages).iter().enumerate() {
            within_limits(message).unwrap_or_else(|why| panic!("message {part}: {why}"));
            let embeds = message["embeds"].as_array().unwrap();
            assert_eq!(
                embeds[0]["title"],
                format!("500 more incidents from support ({}/{})", part + 1, messages.len())
            );
            for embed in embeds {
                for line in embed["description"].as_str().unwrap().lines() {
                    let id = line.trim_start_matches("[#").trim_start_matches('#');
                    listed.push(id.split(' ').next().unwrap().parse::<u64>().unwrap());
                }
            }
        }
        assert_eq!(listed, (1..=500).collect::<Vec<_>>(), "every incident once, in order");
        let keys: Vec<String> = messages
            .iter()
            .map(|message| {
                let Message::Http(request) = message else { panic!("an HTTP message") };
                request
                    .headers
                    .iter()
                    .find(|(name, _)| name == "idempotency-key")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        assert_eq!(keys[1], "inbound-digest-1-2-2-2");

        // A dozen fit in one message, with their Accept links.
        let messages =
            Discord::render_digest(digest((1..=12).map(numbered).collect()), channel("{}"))
                .unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(bodies(&messages)[0].to_string().matches("[Accept]").count(), 12);
    }

    #[test]
    fn timestamps_are_iso_8601_in_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_774_699_199_000), "2026-03-28T11:59:59.000Z");
        assert_eq!(iso8601(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn settings_are_checked() {
        assert!(Settings::of(&channel("{}")).is_ok());
        let good = r#"{"username": "inbound", "avatar_url": "https://x.example/a.png"}"#;
        assert!(Settings::of(&channel(good)).is_ok());
        for bad in [
            r#"{"name": "x"}"#,
            r#"{"username": ""}"#,
            r#"{"username": "Discord pager"}"#,
            r#"{"avatar_url": "ftp://x"}"#,
        ] {
            let error = Settings::of(&channel(bad)).unwrap_err();
            assert_eq!(error.code, "invalid-settings", "{bad}");
        }
    }

    #[test]
    fn the_documented_sample_is_what_a_triggered_notification_renders() {
        let documented: Value =
            serde_json::from_str(include_str!("../../../docs/examples/discord-message.json"))
                .unwrap();
        assert_eq!(documented, sample(), "{}", serde_json::to_string_pretty(&sample()).unwrap());
    }
}
