//! Microsoft Teams, through a Workflows (Power Automate) flow that starts
//! with "When a Teams webhook request is received": one Adaptive Card per
//! notification, and per digest of notifications a contact's throttle held.
//!
//! The channel's `url` is the flow's HTTP URL. The body is the message the
//! Workflows template "Post to a channel when a webhook request is received"
//! posts as it comes: `{"type": "message", "attachments": [<the card>]}`.
//!
//! A person's Teams contact address is `Display Name <upn>`, a UPN
//! (`ada@contoso.com`) or a Microsoft Entra object id: the card mentions
//! them the way Teams documents for incoming webhooks (`<at>Name</at>` in a
//! TextBlock and the matching entity in the card's `msteams.entities`). A
//! bare display name is shown in bold and mentions nobody: Teams needs the
//! UPN or the object id to mention.

use inbound_notifier_sdk::{
    Channel, Digest, Kind, Message, Notification, Notifier, Recipient, RenderError,
};
use serde::Deserialize;
use serde_json::{Value, json};

struct Teams;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Text put before every card's title, e.g. a team's name.
    prefix: Option<String>,
}

const PREFIX_MAX: usize = 100;

impl Settings {
    fn of(channel: &Channel) -> Result<Settings, RenderError> {
        let settings: Settings = channel.settings()?;
        if let Some(prefix) = &settings.prefix
            && (prefix.trim().is_empty()
                || prefix.chars().count() > PREFIX_MAX
                || prefix.contains(['\n', '\r']))
        {
            return Err(RenderError::invalid_settings(format!(
                "prefix {prefix:?} must be 1 to {PREFIX_MAX} characters on one line"
            )));
        }
        Ok(settings)
    }

    fn title(&self, text: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{} {text}", safe(prefix)),
            None => text.to_string(),
        }
    }
}

/// Teams refuses a message over 28 KB; every message stays under this many
/// bytes of JSON.
pub const MESSAGE_MAX_BYTES: usize = 28_000;
/// The most messages one render may return (the host's limit).
const MAX_MESSAGES: usize = 16;
/// Characters of the summary in a card's title.
const SUMMARY_MAX: usize = 300;
/// Characters of the details before the card is fitted to the size limit.
const DETAILS_MAX: usize = 8_000;
/// Characters of a summary in a digest's line.
const DIGEST_SUMMARY_MAX: usize = 200;
/// Bytes of one digest line's TextBlock at most.
const DIGEST_LINE_MAX: usize = 1_500;
/// Links longer than this are not linked (an incident's URL comes from the
/// alert's sender).
const URL_MAX: usize = 2_048;
const SCHEMA: &str = "http://adaptivecards.io/schemas/adaptive-card.json";

impl Notifier for Teams {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings = Settings::of(&channel)?;
        Ok(vec![
            Message::post_json("", &payload(&notification, &settings))
                .header("idempotency-key", notification.id.clone()),
        ])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings = Settings::of(&channel)?;
        let payloads = digest_payloads(&digest, &settings);
        let count = payloads.len();
        Ok(payloads
            .iter()
            .enumerate()
            .map(|(part, payload)| {
                let key = if count == 1 {
                    digest.id.clone()
                } else {
                    format!("{}-{}", digest.id, part + 1)
                };
                Message::post_json("", payload).header("idempotency-key", key)
            })
            .collect())
    }
}

/// Who a card is for.
#[derive(Debug, Clone, PartialEq)]
enum Addressee {
    /// Mentioned: `<at>name</at>`, and an entity naming the UPN or object id.
    Mention { name: String, id: String },
    /// A display name alone: shown, mentions nobody.
    Named(String),
}

impl Addressee {
    fn of(recipient: &Recipient) -> Option<Addressee> {
        let address = recipient.address.as_deref()?.trim();
        if address.is_empty() {
            return None;
        }
        let name_or = |name: &str, id: &str| {
            let name =
                if name.is_empty() { recipient.person.as_deref().unwrap_or(id) } else { name };
            match mention_name(name) {
                empty if empty.is_empty() => mention_name(id),
                name => name,
            }
        };
        if let Some((name, rest)) = address.rsplit_once('<')
            && let Some(id) = rest.strip_suffix('>')
            && is_user_id(id.trim())
        {
            let id = id.trim();
            return Some(Addressee::Mention { name: name_or(name.trim(), id), id: id.into() });
        }
        if is_user_id(address) {
            return Some(Addressee::Mention { name: name_or("", address), id: address.into() });
        }
        Some(Addressee::Named(cut(&one_line(address), 100)))
    }

    /// "<at>Ada Lovelace</at>" or "**Ada Lovelace**".
    fn markdown(&self) -> String {
        match self {
            Addressee::Mention { name, .. } => format!("<at>{name}</at>"),
            Addressee::Named(name) => format!("**{}**", safe(name)),
        }
    }

    /// The card's `msteams` property that turns `<at>…</at>` into a mention.
    fn msteams(&self) -> Option<Value> {
        match self {
            Addressee::Mention { name, id } => Some(json!({
                "entities": [{
                    "type": "mention",
                    "text": format!("<at>{name}</at>"),
                    "mentioned": {"id": id, "name": name},
                }]
            })),
            Addressee::Named(_) => None,
        }
    }
}

/// A UPN (`name@domain.tld`) or a Microsoft Entra object id (a GUID).
fn is_user_id(id: &str) -> bool {
    let upn = match id.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        }
        None => false,
    };
    let plain = !id.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c));
    (upn || is_guid(id)) && plain && id.len() <= 256
}

fn is_guid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The name inside `<at>…</at>`: one line without angle brackets.
fn mention_name(name: &str) -> String {
    let clean: String = one_line(name).chars().filter(|c| !"<>".contains(*c)).collect();
    cut(clean.trim(), 100)
}

/// The Workflows message around one Adaptive Card.
fn message(card: Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }]
    })
}

fn card(body: Vec<Value>, actions: Vec<Value>, who: Option<&Addressee>) -> Value {
    let mut card = json!({
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = json!(actions);
    }
    if let Some(msteams) = who.and_then(Addressee::msteams) {
        card["msteams"] = msteams;
    }
    card
}

fn title_block(text: &str, color: &str) -> Value {
    json!({
        "type": "TextBlock",
        "text": text,
        "wrap": true,
        "weight": "Bolder",
        "size": "Medium",
        "color": color,
    })
}

fn text_block(text: &str) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true})
}

fn open_url(title: &str, url: &str) -> Value {
    json!({"type": "Action.OpenUrl", "title": title, "url": url})
}

/// The message of one notification: its title, who it is for, the facts,
/// the details, and Accept / Resolve / Open; a resolved notice is green and
/// only opens the incident.
fn payload(notification: &Notification, settings: &Settings) -> Value {
    let incident = &notification.incident;
    let triggered = notification.kind == Kind::Triggered;
    let heading =
        format!("#{} {}", incident.id, safe(&cut(&one_line(&incident.summary), SUMMARY_MAX)));
    let (title, color, verb) = if triggered {
        (settings.title(&heading), "Attention", "needs someone")
    } else {
        (settings.title(&format!("Resolved: {heading}")), "Good", "is resolved")
    };
    let who = if triggered { Addressee::of(&notification.recipient) } else { None };
    let line = match &who {
        Some(who) => format!("{}: incident #{} {verb}.", who.markdown(), incident.id),
        None => format!("Incident #{} {verb}.", incident.id),
    };
    let facts = json!({
        "type": "FactSet",
        "facts": [
            {"title": "Source", "value": safe(&incident.source)},
            {"title": "Priority", "value": incident.priority.as_deref().unwrap_or("none")},
            {"title": "Status", "value": safe(&incident.status)},
            {"title": "Incident", "value": format!("#{}", incident.id)},
        ]
    });
    let mut actions = Vec::new();
    if triggered {
        if let Some(url) = &notification.accept_url {
            actions.push(open_url("Accept", url));
        }
        if let Some(url) = &notification.resolve_url {
            actions.push(open_url("Resolve", url));
        }
    }
    if let Some(url) = web_url(incident.url.as_deref()) {
        actions.push(open_url("Open", url));
    }
    let build = |details: &str| {
        let mut body = vec![title_block(&title, color), text_block(&line), facts.clone()];
        if !details.is_empty() {
            body.push(text_block(details));
        }
        message(card(body, actions.clone(), who.as_ref()))
    };
    // The details give way until the message is under Teams' limit.
    let mut details = cut(&safe(incident.details.trim()), DETAILS_MAX);
    loop {
        let message = build(&details);
        let size = message.to_string().len();
        if size <= MESSAGE_MAX_BYTES || details.is_empty() {
            return message;
        }
        // Shrink in proportion to the details' share of the JSON (an escaped
        // control character takes 6 bytes, a letter 1 to 4).
        let chars = details.chars().count();
        let escaped = Value::String(details.clone()).to_string().len();
        let allowed = escaped.saturating_sub(size - MESSAGE_MAX_BYTES);
        let keep = (chars * allowed / escaped).min(chars - 1);
        details = if keep < 2 { String::new() } else { cut(&details, keep) };
    }
}

/// A digest as cards: the title, who it is for, and one line per incident
/// (its link, priority and Accept link). One card when it fits in Teams'
/// 28 KB, else as few as hold every incident, each under the limit: lines
/// are shortened (the Accept link first, then the summary) so that at most
/// 16 cards hold them all.
fn digest_payloads(digest: &Digest, settings: &Settings) -> Vec<Value> {
    let paging = digest.notifications.iter().any(|n| n.kind == Kind::Triggered);
    let who = if paging { Addressee::of(&digest.recipient) } else { None };
    let color = if paging { "Attention" } else { "Good" };
    let header = |title: &str| {
        let mut blocks = vec![title_block(&settings.title(title), color)];
        if let Some(who) = &who {
            blocks.push(text_block(&format!("For {}", who.markdown())));
        }
        blocks
    };
    let widest = format!("{} ({MAX_MESSAGES}/{MAX_MESSAGES})", digest.title());
    let overhead = message(card(header(&widest), Vec::new(), who.as_ref())).to_string().len() + 64;
    let capacity = MESSAGE_MAX_BYTES.saturating_sub(overhead);
    let count = digest.notifications.len().max(1);
    let budget =
        DIGEST_LINE_MAX.min((MAX_MESSAGES - 1) * capacity.saturating_sub(DIGEST_LINE_MAX) / count);
    let size = |text: &str| block_size(&text_block(text));
    let mut parts: Vec<Vec<Value>> = vec![Vec::new()];
    let mut used = 0;
    for notification in &digest.notifications {
        let block = text_block(&Line::of(notification).fit(budget, size));
        let bytes = block_size(&block);
        let last = parts.last_mut().expect("one part at least");
        if used + bytes > capacity && !last.is_empty() {
            parts.push(vec![block]);
            used = bytes;
        } else {
            last.push(block);
            used += bytes;
        }
    }
    let total = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(part, lines)| {
            let title = if total == 1 {
                digest.title()
            } else {
                format!("{} ({}/{total})", digest.title(), part + 1)
            };
            let mut body = header(&title);
            body.extend(lines);
            message(card(body, Vec::new(), who.as_ref()))
        })
        .collect()
}

/// Bytes a body element adds to a card (its JSON and a comma).
fn block_size(block: &Value) -> usize {
    block.to_string().len() + 1
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
        // A bracket in the summary would end the link's label early; Teams'
        // clients do not agree on Markdown escapes, so they become parentheses.
        let summary: String = safe(&self.summary)
            .chars()
            .map(|c| match c {
                '[' => '(',
                ']' => ')',
                c => c,
            })
            .collect();
        let label = format!("#{} {summary}{ellipsis}", self.id);
        let mut line = match &self.url {
            Some(url) => format!("[{}]({})", label.trim_end(), link(url)),
            None => label.trim_end().to_string(),
        };
        if let Some(priority) = &self.priority {
            line.push_str(&format!(" ({priority})"));
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
                if over == 0 || chars == 0 {
                    if over == 0 {
                        return text;
                    }
                    break;
                }
                self.summary = self.summary.chars().take(chars.saturating_sub(over)).collect();
                self.shortened = true;
            }
        }
        self.markdown()
    }
}

/// Text from an alert, kept from forming a mention: `<at>` in it is broken
/// with a word joiner (invisible), so it cannot match the card's mention.
fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '<' && chars.peek().is_some_and(|next| matches!(next, 'a' | 'A' | '/')) {
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

inbound_notifier_sdk::register_notifier!(Teams);

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
            recipient: Recipient {
                person: Some("ada".into()),
                address: Some("Ada Lovelace <ada@contoso.com>".into()),
            },
            accept_url: Some("https://inbound.example.com/ack/accept-token".into()),
            resolve_url: Some("https://inbound.example.com/ack/resolve-token".into()),
            sent_at: 1_774_699_200,
        }
    }

    fn settings() -> Settings {
        Settings::default()
    }

    fn channel(settings: &str) -> Channel {
        Channel { name: "teams".into(), settings: settings.into(), secret: None }
    }

    fn sample() -> Value {
        payload(&notification(Kind::Triggered), &settings())
    }

    #[test]
    fn a_triggered_notification_is_a_card_with_facts_a_mention_and_the_links() {
        assert_eq!(
            sample(),
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            {"type": "TextBlock", "text": "#42 Printer on fire", "wrap": true,
                             "weight": "Bolder", "size": "Medium", "color": "Attention"},
                            {"type": "TextBlock", "text": "<at>Ada Lovelace</at>: incident #42 needs someone.", "wrap": true},
                            {"type": "FactSet", "facts": [
                                {"title": "Source", "value": "support"},
                                {"title": "Priority", "value": "urgent"},
                                {"title": "Status", "value": "pending"},
                                {"title": "Incident", "value": "#42"},
                            ]},
                            {"type": "TextBlock", "text": "The printer on floor 3 is on fire.", "wrap": true},
                        ],
                        "actions": [
                            {"type": "Action.OpenUrl", "title": "Accept", "url": "https://inbound.example.com/ack/accept-token"},
                            {"type": "Action.OpenUrl", "title": "Resolve", "url": "https://inbound.example.com/ack/resolve-token"},
                            {"type": "Action.OpenUrl", "title": "Open", "url": "https://example.zendesk.com/agent/tickets/42"},
                        ],
                        "msteams": {"entities": [{
                            "type": "mention",
                            "text": "<at>Ada Lovelace</at>",
                            "mentioned": {"id": "ada@contoso.com", "name": "Ada Lovelace"},
                        }]},
                    },
                }],
            })
        );
    }

    #[test]
    fn a_resolved_notice_is_green_mentions_nobody_and_only_opens() {
        let resolved =
            Notification { accept_url: None, resolve_url: None, ..notification(Kind::Resolved) };
        let mut settings = settings();
        settings.prefix = Some("[Facilities]".into());
        assert_eq!(
            payload(&resolved, &settings)["attachments"][0]["content"],
            json!({
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": "[Facilities] Resolved: #42 Printer on fire", "wrap": true,
                     "weight": "Bolder", "size": "Medium", "color": "Good"},
                    {"type": "TextBlock", "text": "Incident #42 is resolved.", "wrap": true},
                    {"type": "FactSet", "facts": [
                        {"title": "Source", "value": "support"},
                        {"title": "Priority", "value": "urgent"},
                        {"title": "Status", "value": "pending"},
                        {"title": "Incident", "value": "#42"},
                    ]},
                    {"type": "TextBlock", "text": "The printer on floor 3 is on fire.", "wrap": true},
                ],
                "actions": [
                    {"type": "Action.OpenUrl", "title": "Open", "url": "https://example.zendesk.com/agent/tickets/42"},
                ],
            })
        );
    }

    fn digest(notifications: Vec<Notification>) -> Digest {
        Digest {
            id: "inbound-digest-1-2-2".into(),
            recipient: notification(Kind::Triggered).recipient,
            notifications,
            sent_at: 1_774_699_800,
        }
    }

    fn numbered(id: u64) -> Notification {
        let mut n = notification(Kind::Triggered);
        n.id = format!("inbound-{id}-1");
        n.incident.id = id;
        n.incident.summary = format!("Printer {id} [floor 3] on fire");
        n.incident.url = Some(format!("https://example.zendesk.com/agent/tickets/{id}"));
        n.accept_url = Some(format!("https://inbound.example.com/ack/{id}"));
        n
    }

    #[test]
    fn a_digest_is_one_card_with_a_line_per_incident() {
        let mut quiet = numbered(43);
        quiet.incident.priority = None;
        quiet.accept_url = None;
        let payloads = digest_payloads(&digest(vec![numbered(42), quiet]), &settings());
        assert_eq!(payloads.len(), 1);
        assert_eq!(
            payloads[0]["attachments"][0]["content"],
            json!({
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": "2 more incidents from support", "wrap": true,
                     "weight": "Bolder", "size": "Medium", "color": "Attention"},
                    {"type": "TextBlock", "text": "For <at>Ada Lovelace</at>", "wrap": true},
                    {"type": "TextBlock", "wrap": true, "text":
                        "[#42 Printer 42 (floor 3) on fire](https://example.zendesk.com/agent/tickets/42) (urgent) · [Accept](https://inbound.example.com/ack/42)"},
                    {"type": "TextBlock", "wrap": true, "text":
                        "[#43 Printer 43 (floor 3) on fire](https://example.zendesk.com/agent/tickets/43)"},
                ],
                "msteams": {"entities": [{
                    "type": "mention",
                    "text": "<at>Ada Lovelace</at>",
                    "mentioned": {"id": "ada@contoso.com", "name": "Ada Lovelace"},
                }]},
            })
        );
    }

    #[test]
    fn addresses_are_mentioned_by_upn_or_object_id_and_a_bare_name_is_only_shown() {
        let of = |person: Option<&str>, address: &str| {
            Addressee::of(&Recipient {
                person: person.map(str::to_string),
                address: Some(address.into()),
            })
        };
        let mention =
            |name: &str, id: &str| Some(Addressee::Mention { name: name.into(), id: id.into() });
        assert_eq!(
            of(Some("ada"), "Ada Lovelace <ada@contoso.com>"),
            mention("Ada Lovelace", "ada@contoso.com")
        );
        assert_eq!(of(Some("ada"), "ada@contoso.com"), mention("ada", "ada@contoso.com"));
        assert_eq!(of(None, "ada@contoso.com"), mention("ada@contoso.com", "ada@contoso.com"));
        let guid = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
        assert_eq!(of(Some("ada"), guid), mention("ada", guid));
        assert_eq!(of(Some("ada"), &format!("Ada <{guid}>")), mention("Ada", guid));
        assert_eq!(of(Some("ada"), "Ada Lovelace"), Some(Addressee::Named("Ada Lovelace".into())));
        assert_eq!(
            of(Some("ada"), "Ada <not an id>"),
            Some(Addressee::Named("Ada <not an id>".into()))
        );
        assert_eq!(of(Some("ada"), "  "), None);
        // A channel target: no address, nobody mentioned.
        assert_eq!(Addressee::of(&Recipient { person: None, address: None }), None);

        let mut named = notification(Kind::Triggered);
        named.recipient.address = Some("Ada Lovelace".into());
        let card = &payload(&named, &settings())["attachments"][0]["content"];
        assert_eq!(card["body"][1]["text"], "**Ada Lovelace**: incident #42 needs someone.");
        assert!(card.get("msteams").is_none(), "{card:#}");
    }

    #[test]
    fn text_from_the_alert_cannot_forge_the_mention() {
        let mut forged = notification(Kind::Triggered);
        forged.incident.summary = "<at>Ada Lovelace</at> look".into();
        forged.incident.details = "</AT> and <at>".into();
        let text = payload(&forged, &settings()).to_string();
        assert_eq!(
            text.matches("<at>Ada Lovelace</at>").count(),
            2,
            "the mention line and its entity: {text}"
        );
        assert!(text.contains("#42 <\u{2060}at>Ada Lovelace<\u{2060}/at> look"), "{text}");
        assert!(text.contains("<\u{2060}/AT> and <\u{2060}at>"), "{text}");
        assert_eq!(safe("a < b <br> <3"), "a < b <br> <3");
    }

    #[test]
    fn a_card_stays_under_the_28_kb_limit_whatever_the_details() {
        for details in ["ø".repeat(50_000), "\u{1}".repeat(50_000), "x".repeat(50_000)] {
            let mut long = notification(Kind::Triggered);
            long.incident.summary = "S".repeat(5_000);
            long.incident.details = details;
            let message = payload(&long, &settings());
            let size = message.to_string().len();
            assert!(size <= MESSAGE_MAX_BYTES, "{size}");
            let body = &message["attachments"][0]["content"]["body"];
            let title = body[0]["text"].as_str().unwrap();
            assert_eq!(title.chars().count(), "#42 ".len() + SUMMARY_MAX, "{title}");
            assert!(body[3]["text"].as_str().unwrap().ends_with('…'));
        }
    }

    #[test]
    fn a_long_digest_lists_every_incident_in_cards_under_the_limit() {
        let mut notifications: Vec<Notification> = (1..=500).map(numbered).collect();
        for n in &mut notifications {
            n.accept_url = Some(format!("https://inbound.example.com/ack/{}", "t".repeat(300)));
            n.incident.summary = "on fire ".repeat(100);
        }
        let payloads = digest_payloads(&digest(notifications), &settings());
        assert!(payloads.len() <= MAX_MESSAGES, "{}", payloads.len());
        let mut listed = Vec::new();
        for (part, payload) in payloads.iter().enumerate() {
            assert!(payload.to_string().len() <= MESSAGE_MAX_BYTES, "part {part}");
            let body = payload["attachments"][0]["content"]["body"].as_array().unwrap();
            assert_eq!(
                body[0]["text"],
                format!("500 more incidents from support ({}/{})", part + 1, payloads.len())
            );
            for block in &body[2..] {
                let text = block["text"].as_str().unwrap();
                let id: u64 =
                    text.trim_start_matches("[#").split(' ').next().unwrap().parse().unwrap();
                listed.push(id);
            }
        }
        assert_eq!(listed, (1..=500).collect::<Vec<_>>(), "every incident once, in order");

        // A dozen fit in one card, with their Accept links.
        let payloads = digest_payloads(&digest((1..=12).map(numbered).collect()), &settings());
        assert_eq!(payloads.len(), 1);
        assert_eq!(payloads[0].to_string().matches("[Accept]").count(), 12);
    }

    #[test]
    fn a_digest_line_gives_up_its_accept_link_then_its_summary_then_its_link() {
        let line = || Line::of(&numbered(7));
        let full = line().markdown();
        assert_eq!(line().fit(full.len(), str::len), full);
        let no_accept = line().fit(full.len() - 1, str::len);
        assert!(!no_accept.contains("Accept") && no_accept.contains("on fire"), "{no_accept}");
        let shorter = line().fit(70, str::len);
        assert!(
            shorter.len() <= 70 && shorter.starts_with("[#7 Pr") && shorter.contains("…]("),
            "{shorter}"
        );
        assert_eq!(line().fit(20, str::len), "#7 Print… (urgent)");
        assert_eq!(line().fit(1, str::len), "#7 … (urgent)", "the least a line can say");
    }

    #[test]
    fn settings_are_checked() {
        assert!(Settings::of(&channel("{}")).is_ok());
        assert!(Settings::of(&channel(r#"{"prefix": "[Ops]"}"#)).is_ok());
        for bad in
            [r#"{"prefx": "x"}"#, r#"{"prefix": ""}"#, r#"{"prefix": 3}"#, r#"{"prefix": "a\nb"}"#]
        {
            let error = Settings::of(&channel(bad)).unwrap_err();
            assert_eq!(error.code, "invalid-settings", "{bad}");
        }
        let rendered = Teams::render(notification(Kind::Triggered), channel("{}")).unwrap();
        let Message::Http(request) = &rendered[0] else { panic!("an HTTP message") };
        assert_eq!((request.method.as_str(), request.url.as_str()), ("POST", ""));
        assert!(request.headers.contains(&("idempotency-key".into(), "inbound-42-7".into())));
        assert!(request.headers.contains(&("content-type".into(), "application/json".into())));
    }

    #[test]
    fn the_documented_sample_is_what_a_triggered_notification_renders() {
        let documented: Value =
            serde_json::from_str(include_str!("../../../docs/examples/teams-card.json")).unwrap();
        assert_eq!(documented, sample(), "{}", serde_json::to_string_pretty(&sample()).unwrap());
    }
}
