//! Mattermost incoming webhooks: one post per notification, a message
//! attachment with the incident's facts (red while it needs someone, green
//! once resolved), and one post per digest of notifications a contact's
//! throttle held, listing each incident on a line.
//!
//! The channel's `url` is the webhook URL Mattermost gives
//! (`https://mattermost.example.com/hooks/xxx-generatedkey-xxx`). A person's
//! Mattermost contact address is their username, mentioned as `@username`
//! at the start of the post.
//!
//! Text from the alert cannot ping anyone: Mattermost turns `@channel`,
//! `@all`, `@here` and `@username` anywhere in a post (and Slack's
//! `<!channel>` and `<@id>`) into mentions, so a word joiner (U+2060,
//! invisible) goes after every `@` and `<!`/`<@` in it, and its Markdown is
//! escaped so it cannot form links.

use inbound_notifier_sdk::{
    Channel, Digest, Kind, Message, Notification, Notifier, Recipient, RenderError,
};
use serde::Deserialize;
use serde_json::{Value, json};

struct Mattermost;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Posts under this name instead of the webhook's (Mattermost's "Enable
    /// integrations to override usernames" must be on).
    username: Option<String>,
    /// Posts with this picture instead of the webhook's ("Enable
    /// integrations to override profile picture icons" must be on).
    icon_url: Option<String>,
    /// Posts in this channel (`town-square`, or `@username` for a direct
    /// message) instead of the webhook's.
    channel: Option<String>,
}

impl Settings {
    fn of(channel: &Channel) -> Result<Settings, RenderError> {
        let settings: Settings = channel.settings()?;
        if let Some(username) = &settings.username
            && (username.trim().is_empty()
                || username.chars().count() > 64
                || username.chars().any(char::is_control))
        {
            return Err(RenderError::invalid_settings(format!(
                "username {username:?} must be 1 to 64 characters on one line"
            )));
        }
        if let Some(icon) = &settings.icon_url
            && web_url(Some(icon)).is_none()
        {
            return Err(RenderError::invalid_settings(format!(
                "icon_url {icon:?} must be an http:// or https:// URL"
            )));
        }
        if let Some(name) = &settings.channel {
            let bare = name.strip_prefix('@').or_else(|| name.strip_prefix('#')).unwrap_or(name);
            if bare.is_empty()
                || bare.len() > 64
                || !bare.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Err(RenderError::invalid_settings(format!(
                    "channel {name:?} must be a channel's name (town-square) or @username"
                )));
            }
        }
        Ok(settings)
    }

    /// Adds the overrides to a post.
    fn apply(&self, mut post: Value) -> Value {
        if let Some(username) = &self.username {
            post["username"] = json!(username);
        }
        if let Some(icon) = &self.icon_url {
            post["icon_url"] = json!(icon);
        }
        if let Some(channel) = &self.channel {
            post["channel"] = json!(channel);
        }
        post
    }
}

/// Mattermost's limit on a post's `text` (longer text is split into posts).
pub const TEXT_MAX: usize = 16_383;
/// Characters of a post's attachments (their JSON) Mattermost stores:
/// 800,000 less the 40,000 it keeps for itself.
pub const PROPS_MAX: usize = 760_000;
/// Characters of the summary in a title.
const SUMMARY_MAX: usize = 300;
/// Characters of the details in a post.
const DETAILS_MAX: usize = 4_000;
/// Characters of a summary in a digest's line.
const DIGEST_SUMMARY_MAX: usize = 200;
/// Characters of one digest line at most.
const DIGEST_LINE_MAX: usize = 1_000;
/// Characters of one digest attachment's text.
const ATTACHMENT_TEXT_MAX: usize = 6_000;
/// Links longer than this are not linked (an incident's URL comes from the
/// alert's sender).
const URL_MAX: usize = 2_048;
const RED: &str = "#d32f2f";
const GREEN: &str = "#2e7d32";

impl Notifier for Mattermost {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings = Settings::of(&channel)?;
        Ok(vec![
            Message::post_json("", &settings.apply(payload(&notification)))
                .header("idempotency-key", notification.id.clone()),
        ])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings = Settings::of(&channel)?;
        Ok(vec![
            Message::post_json("", &settings.apply(digest_payload(&digest)))
                .header("idempotency-key", digest.id.clone()),
        ])
    }
}

/// Who a post is for.
#[derive(Debug, Clone, PartialEq)]
enum Addressee {
    /// A Mattermost username, mentioned.
    Username(String),
    /// Anything else: shown in bold, mentions nobody.
    Named(String),
}

impl Addressee {
    fn of(recipient: &Recipient) -> Option<Addressee> {
        let address = recipient.address.as_deref()?.trim();
        let username = address.strip_prefix('@').unwrap_or(address);
        if address.is_empty() {
            None
        } else if is_username(username) {
            Some(Addressee::Username(username.to_string()))
        } else {
            Some(Addressee::Named(cut(&one_line(address), 100)))
        }
    }

    fn markdown(&self) -> String {
        match self {
            Addressee::Username(username) => format!("@{username}"),
            Addressee::Named(name) => format!("**{}**", markdown(name)),
        }
    }
}

/// Mattermost's usernames: a letter, then letters, digits, `.`, `-`, `_`.
fn is_username(name: &str) -> bool {
    name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// The post of one notification: a line that mentions the person (a page
/// only), and an attachment with the title linking the incident, the
/// Accept / Resolve links, the details and the facts.
fn payload(notification: &Notification) -> Value {
    let incident = &notification.incident;
    let triggered = notification.kind == Kind::Triggered;
    let summary = cut(&one_line(&incident.summary), SUMMARY_MAX);
    let (verb, color) = if triggered { ("needs someone", RED) } else { ("is resolved", GREEN) };
    let said = format!("ncident #{} {verb}: {}", incident.id, markdown(&summary));
    let text = match triggered.then(|| Addressee::of(&notification.recipient)).flatten() {
        Some(who) => format!("{}, i{said}", who.markdown()),
        None => format!("I{said}"),
    };
    let mut parts = Vec::new();
    if triggered {
        let links: Vec<String> =
            [("Accept", &notification.accept_url), ("Resolve", &notification.resolve_url)]
                .into_iter()
                .filter_map(|(label, url)| {
                    url.as_ref().map(|url| format!("[{label}]({})", link(url)))
                })
                .collect();
        if !links.is_empty() {
            parts.push(links.join(" · "));
        }
    }
    let details = incident.details.trim();
    if !details.is_empty() {
        parts.push(markdown(&cut(details, DETAILS_MAX)));
    }
    let mut attachment = json!({
        "fallback": plain(&format!("Incident #{} {verb}: {summary}", incident.id)),
        "color": color,
        "title": format!("#{} {}", incident.id, markdown(&summary)),
        "text": parts.join("\n\n"),
        "fields": [
            field("Priority", incident.priority.as_deref().unwrap_or("none")),
            field("Status", &incident.status),
            field("Source", &incident.source),
            field("Level", &(notification.level + 1).to_string()),
        ],
    });
    if let Some(url) = web_url(incident.url.as_deref()) {
        attachment["title_link"] = json!(url);
    }
    json!({"text": text, "attachments": [attachment]})
}

fn field(title: &str, value: &str) -> Value {
    json!({"short": true, "title": title, "value": markdown(value)})
}

/// A digest as one post: its title (mentioning the person when it holds a
/// page), then attachments listing one incident per line with its link,
/// priority and Accept link.
fn digest_payload(digest: &Digest) -> Value {
    let paging = digest.notifications.iter().any(|n| n.kind == Kind::Triggered);
    let title = digest.title();
    let text = match paging.then(|| Addressee::of(&digest.recipient)).flatten() {
        Some(who) => format!("{} {}", who.markdown(), markdown(&title)),
        None => markdown(&title),
    };
    let color = if paging { RED } else { GREEN };
    let mut texts = vec![String::new()];
    for notification in &digest.notifications {
        let line = Line::of(notification).fit(DIGEST_LINE_MAX, |text| text.chars().count());
        let last = texts.last_mut().expect("one text at least");
        if last.chars().count() + line.chars().count() + 1 > ATTACHMENT_TEXT_MAX && !last.is_empty()
        {
            texts.push(line);
        } else {
            if !last.is_empty() {
                last.push('\n');
            }
            last.push_str(&line);
        }
    }
    let attachments: Vec<Value> = texts
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            let mut attachment = json!({"fallback": plain(&title), "color": color, "text": text});
            if index == 0 {
                attachment["title"] = json!(markdown(&title));
            }
            attachment
        })
        .collect();
    json!({"text": text, "attachments": attachments})
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

    /// `- [#42 Printer on fire](url) (urgent) · [Accept](url)`.
    fn markdown(&self) -> String {
        let ellipsis = if self.shortened { "…" } else { "" };
        let label = format!("#{} {}{ellipsis}", self.id, markdown(&self.summary));
        let mut line = match &self.url {
            Some(url) => format!("- [{}]({})", label.trim_end(), link(url)),
            None => format!("- {}", label.trim_end()),
        };
        if let Some(priority) = &self.priority {
            line.push_str(&format!(" ({})", markdown(priority)));
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

/// Markdown that shows `text` as written and mentions nobody: its Markdown
/// characters escaped with a backslash, its mentions broken (see [`plain`]).
fn markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "\\`*_~[]#>|<".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    plain(&escaped)
}

/// Text that mentions nobody: a word joiner (U+2060, invisible) after each
/// `@` that starts a name and between `<` and `!` or `@`. Mattermost's
/// mention parser splits words at it, so `@channel` no longer reads as one.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let next = chars.peek().copied();
        let name_follows = next.is_some_and(|n| n.is_alphanumeric() || "._-".contains(n));
        let slack_follows = matches!(next, Some('!' | '@'));
        if (c == '@' && name_follows) || (c == '<' && slack_follows) {
            out.push('\u{2060}');
        }
    }
    out
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

/// A URL as a Markdown link's target: parentheses would end it early.
fn link(url: &str) -> String {
    url.replace('(', "%28").replace(')', "%29")
}

/// At most `max` characters, cut on a character boundary and marked.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

inbound_notifier_sdk::register_notifier!(Mattermost);

#[cfg(test)]
mod tests {
    use super::*;
    use inbound_notifier_sdk::Incident;

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
            recipient: Recipient { person: Some("ada".into()), address: Some("ada".into()) },
            accept_url: Some("https://inbound.example.com/ack/accept-token".into()),
            resolve_url: Some("https://inbound.example.com/ack/resolve-token".into()),
            sent_at: 1_774_699_200,
        }
    }

    fn channel(settings: &str) -> Channel {
        Channel { name: "mattermost".into(), settings: settings.into(), secret: None }
    }

    fn body(messages: &[Message]) -> Value {
        let Message::Http(request) = &messages[0] else { panic!("an HTTP message") };
        serde_json::from_slice(&request.body).unwrap()
    }

    fn sample() -> Value {
        let settings =
            r#"{"username": "inbound", "icon_url": "https://inbound.example.com/icon.png"}"#;
        body(&Mattermost::render(notification(Kind::Triggered), channel(settings)).unwrap())
    }

    #[test]
    fn a_triggered_notification_mentions_the_person_and_links_accept_and_resolve() {
        assert_eq!(
            sample(),
            json!({
                "text": "@ada, incident #42 needs someone: Printer on fire",
                "username": "inbound",
                "icon_url": "https://inbound.example.com/icon.png",
                "attachments": [{
                    "fallback": "Incident #42 needs someone: Printer on fire",
                    "color": "#d32f2f",
                    "title": "#42 Printer on fire",
                    "title_link": "https://example.zendesk.com/agent/tickets/42",
                    "text": "[Accept](https://inbound.example.com/ack/accept-token) · [Resolve](https://inbound.example.com/ack/resolve-token)\n\nThe printer on floor 3 is on fire.",
                    "fields": [
                        {"short": true, "title": "Priority", "value": "urgent"},
                        {"short": true, "title": "Status", "value": "pending"},
                        {"short": true, "title": "Source", "value": "support"},
                        {"short": true, "title": "Level", "value": "1"},
                    ],
                }],
            })
        );
    }

    #[test]
    fn a_resolved_notice_is_green_and_mentions_nobody() {
        let resolved = Notification {
            accept_url: None,
            resolve_url: None,
            incident: Incident {
                status: "resolved".into(),
                ..notification(Kind::Resolved).incident
            },
            ..notification(Kind::Resolved)
        };
        let posted =
            body(&Mattermost::render(resolved, channel(r##"{"channel": "#ops"}"##)).unwrap());
        assert_eq!(
            posted,
            json!({
                "text": "Incident #42 is resolved: Printer on fire",
                "channel": "#ops",
                "attachments": [{
                    "fallback": "Incident #42 is resolved: Printer on fire",
                    "color": "#2e7d32",
                    "title": "#42 Printer on fire",
                    "title_link": "https://example.zendesk.com/agent/tickets/42",
                    "text": "The printer on floor 3 is on fire.",
                    "fields": [
                        {"short": true, "title": "Priority", "value": "urgent"},
                        {"short": true, "title": "Status", "value": "resolved"},
                        {"short": true, "title": "Source", "value": "support"},
                        {"short": true, "title": "Level", "value": "1"},
                    ],
                }],
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
    fn a_digest_is_one_post_with_a_line_per_incident() {
        let mut resolved = numbered(43);
        resolved.kind = Kind::Resolved;
        resolved.incident.priority = None;
        resolved.accept_url = None;
        let messages =
            Mattermost::render_digest(digest(vec![numbered(42), resolved]), channel("{}")).unwrap();
        assert_eq!(messages.len(), 1);
        let Message::Http(request) = &messages[0] else { panic!("an HTTP message") };
        assert!(
            request.headers.contains(&("idempotency-key".into(), "inbound-digest-1-2-2".into()))
        );
        assert_eq!(
            body(&messages),
            json!({
                "text": "@ada 2 more incidents from support (1 resolved)",
                "attachments": [{
                    "fallback": "2 more incidents from support (1 resolved)",
                    "color": "#d32f2f",
                    "title": "2 more incidents from support (1 resolved)",
                    "text": "- [#42 Printer 42 on fire](https://example.zendesk.com/agent/tickets/42) (urgent) · [Accept](https://inbound.example.com/ack/42)\n\
                             - [#43 Printer 43 on fire](https://example.zendesk.com/agent/tickets/43) (resolved)",
                }],
            })
        );
    }

    #[test]
    fn channel_wide_and_other_mentions_in_the_alert_ping_nobody() {
        let mut loud = notification(Kind::Triggered);
        loud.incident.summary =
            "@channel @ALL x.@here <!channel> <@u123> mail ada@example.com".into();
        loud.incident.details = "@here [click](https://evil.example) **bold**".into();
        loud.incident.source = "@all".into();
        let posted = body(&Mattermost::render(loud, channel("{}")).unwrap());
        let text = posted.to_string();
        for mention in ["@channel", "@ALL", "@here", "<!channel>", "<@u123", "@all"] {
            assert!(!text.contains(mention), "{mention} in {text}");
        }
        // The person's own mention is the only one.
        assert!(posted["text"].as_str().unwrap().starts_with("@ada, incident #42"), "{posted:#}");
        assert_eq!(
            posted["attachments"][0]["fallback"],
            "Incident #42 needs someone: @\u{2060}channel @\u{2060}ALL x.@\u{2060}here <\u{2060}!channel> <\u{2060}@\u{2060}u123> mail ada@\u{2060}example.com"
        );
        let details = posted["attachments"][0]["text"].as_str().unwrap();
        assert!(
            details.ends_with("@\u{2060}here \\[click\\](https://evil.example) \\*\\*bold\\*\\*"),
            "{details}"
        );
        // Mattermost's parser splits words at anything but letters, digits
        // and `:.-_@`; the joiner is none of those, so no word is a mention.
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || ":.-_@".contains(c)))
            .flat_map(|word| word.split(['.', '-', ':']))
            .collect();
        for word in words {
            let lower = word.to_lowercase();
            assert!(!["@channel", "@all", "@here"].contains(&lower.as_str()), "{word}");
        }
        assert_eq!(markdown("a_b"), "a\\_b");
        let mut wiki = numbered(9);
        wiki.incident.url = Some("https://en.example.org/wiki/Fire_(disambiguation)".into());
        assert_eq!(
            Line::of(&wiki).markdown(),
            "- [#9 Printer 9 on fire](https://en.example.org/wiki/Fire_%28disambiguation%29) (urgent) · [Accept](https://inbound.example.com/ack/9)"
        );
        assert_eq!(plain("email@"), "email@");
    }

    #[test]
    fn an_address_that_is_no_username_is_shown_and_pings_nobody() {
        let of = |address: &str| {
            Addressee::of(&Recipient { person: None, address: Some(address.into()) })
        };
        assert_eq!(of("ada.lovelace"), Some(Addressee::Username("ada.lovelace".into())));
        assert_eq!(of("@ada"), Some(Addressee::Username("ada".into())));
        assert_eq!(of("Ada Lovelace"), Some(Addressee::Named("Ada Lovelace".into())));
        assert_eq!(of("@channel x"), Some(Addressee::Named("@channel x".into())));
        assert_eq!(of(""), None);
        let mut named = notification(Kind::Triggered);
        named.recipient.address = Some("@channel everyone".into());
        let posted = body(&Mattermost::render(named, channel("{}")).unwrap());
        assert_eq!(
            posted["text"],
            "**@\u{2060}channel everyone**, incident #42 needs someone: Printer on fire"
        );
    }

    #[test]
    fn a_post_stays_within_mattermosts_limits() {
        let mut long = notification(Kind::Triggered);
        long.incident.summary = "@".repeat(20_000);
        long.incident.details = "*".repeat(50_000);
        long.incident.url = Some(format!("https://example.com/{}", "x".repeat(5_000)));
        let posted = body(&Mattermost::render(long, channel("{}")).unwrap());
        assert!(posted["text"].as_str().unwrap().chars().count() <= TEXT_MAX);
        let attachment = &posted["attachments"][0];
        assert!(attachment.get("title_link").is_none(), "an overlong URL is not linked");
        assert!(attachment["text"].as_str().unwrap().chars().count() <= 2 * DETAILS_MAX + 200);

        let mut notifications: Vec<Notification> = (1..=500).map(numbered).collect();
        for n in &mut notifications {
            n.incident.summary = "<!here> ".repeat(100);
            n.accept_url = Some(format!("https://inbound.example.com/ack/{}", "t".repeat(1_500)));
        }
        let messages = Mattermost::render_digest(digest(notifications), channel("{}")).unwrap();
        assert_eq!(messages.len(), 1, "one post");
        let posted = body(&messages);
        let attachments = posted["attachments"].as_array().unwrap();
        assert!(serde_json::to_string(attachments).unwrap().chars().count() <= PROPS_MAX);
        let mut listed = Vec::new();
        for attachment in attachments {
            let text = attachment["text"].as_str().unwrap();
            assert!(text.chars().count() <= ATTACHMENT_TEXT_MAX);
            for line in text.lines() {
                assert!(line.chars().count() <= DIGEST_LINE_MAX, "{line}");
                assert!(!line.contains("<!here>"), "{line}");
                let id = line.trim_start_matches("- [#").split(' ').next().unwrap();
                listed.push(id.parse::<u64>().unwrap());
            }
        }
        assert_eq!(listed, (1..=500).collect::<Vec<_>>(), "every incident once, in order");
    }

    #[test]
    fn settings_are_checked() {
        assert!(Settings::of(&channel("{}")).is_ok());
        let good =
            r#"{"username": "inbound", "icon_url": "https://x.example/i.png", "channel": "@ada"}"#;
        assert!(Settings::of(&channel(good)).is_ok());
        for bad in [
            r#"{"user": "x"}"#,
            r#"{"username": ""}"#,
            r#"{"icon_url": "javascript:alert(1)"}"#,
            r#"{"channel": "town square"}"#,
            r#"{"channel": 3}"#,
        ] {
            let error = Settings::of(&channel(bad)).unwrap_err();
            assert_eq!(error.code, "invalid-settings", "{bad}");
        }
    }

    #[test]
    fn the_documented_sample_is_what_a_triggered_notification_renders() {
        let documented: Value =
            serde_json::from_str(include_str!("../../../docs/examples/mattermost-message.json"))
                .unwrap();
        assert_eq!(documented, sample(), "{}", serde_json::to_string_pretty(&sample()).unwrap());
    }
}
