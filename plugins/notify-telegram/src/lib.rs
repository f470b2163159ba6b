//! Telegram bots: one Bot API `sendMessage` per notification, with Accept,
//! Resolve and Open buttons, and a list of links per digest of
//! notifications a contact's throttle held.
//!
//! The channel's `url` is the Bot API server (`https://api.telegram.org`);
//! its secret (`signing_secret_env`, or `signing_secret`) is the bot token
//! BotFather gives, sent as the path `/bot<token>/sendMessage`, so the token
//! never needs to be in the config file. A person's address is their chat
//! id with the bot (an integer), or a channel's `@username`; a `channel:`
//! target goes to the channel's `settings.chat_id`.
//!
//! Text is sent with `parse_mode` HTML: everything that comes from an
//! incident is escaped (`&`, `<`, `>`, and `"` in links), and a message
//! holds at most 4096 characters after entities parsing, as Telegram
//! requires. The buttons are URL buttons (no callback data: the bot has no
//! webhook), opening the signed one-click links.

use inbound_notifier_sdk::{
    Channel, Digest, Kind, Message, Notification, Notifier, Recipient, RenderError,
};
use serde::Deserialize;
use serde_json::{Value, json};

struct Telegram;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Where a `channel:` target's messages go: a group's or channel's chat
    /// id (`-1001234567890`) or a public channel's `@username`.
    chat_id: Option<ChatIdSetting>,
}

/// `chat_id = -100123` or `chat_id = "@acme_oncall"` (or `"-100123"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ChatIdSetting {
    Number(i64),
    Text(String),
}

/// A chat as `sendMessage` takes it: an integer id, or `@channelusername`.
#[derive(Debug, Clone, PartialEq)]
enum ChatId {
    Id(i64),
    Username(String),
}

impl ChatId {
    fn parse(text: &str) -> Option<ChatId> {
        if let Some(name) = text.strip_prefix('@') {
            let valid = (5..=32).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return valid.then(|| ChatId::Username(text.to_string()));
        }
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().filter(|id| *id != 0).map(ChatId::Id)
    }

    fn json(&self) -> Value {
        match self {
            ChatId::Id(id) => json!(id),
            ChatId::Username(name) => json!(name),
        }
    }
}

/// Telegram's limit: the text of one message, after entities parsing.
/// Counted here in UTF-16 code units, which is never less than characters.
const TEXT_MAX: usize = 4096;
/// A summary in a message's first line.
const SUMMARY_MAX: usize = 300;
/// Details after it: what a phone screen shows without scrolling far.
const DETAILS_MAX: usize = 1500;
/// A summary in a digest's list.
const DIGEST_SUMMARY_MAX: usize = 80;
/// Incidents per digest message: each is up to two links (entities), and a
/// message of hundreds of entities is more than anyone reads on a phone.
const DIGEST_LINES_MAX: usize = 40;
/// The longest part number a digest header gets: " (16/16)" (the host takes
/// at most 16 messages from one render).
const PART_SUFFIX_MAX: usize = 8;

impl Notifier for Telegram {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let (path, chat) = destination(&channel, &notification.recipient)?;
        Ok(vec![
            Message::post_json(&path, &payload(&notification, &chat))
                .header("idempotency-key", notification.id.clone()),
        ])
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let (path, chat) = destination(&channel, &digest.recipient)?;
        let texts = digest_texts(&digest);
        let count = texts.len();
        Ok(texts
            .into_iter()
            .enumerate()
            .map(|(part, text)| {
                let key = if count == 1 {
                    digest.id.clone()
                } else {
                    format!("{}-{}", digest.id, part + 1)
                };
                Message::post_json(&path, &message(&chat, text, None, false))
                    .header("idempotency-key", key)
            })
            .collect())
    }
}

/// The `sendMessage` path with the bot token, and the chat: the person's
/// address, or the channel's `chat_id` for a `channel:` target.
fn destination(channel: &Channel, recipient: &Recipient) -> Result<(String, ChatId), RenderError> {
    let settings: Settings = channel.settings()?;
    let token = channel.secret.as_deref().ok_or_else(|| {
        RenderError::new(
            "missing-secret",
            format!(
                "the Telegram channel {:?} needs its bot token (BotFather's /token): set signing_secret_env to a variable holding it",
                channel.name
            ),
        )
    })?;
    if !valid_token(token) {
        // Never the token itself in a message: it is in logs and the console.
        return Err(RenderError::new(
            "missing-secret",
            format!(
                "the secret of the Telegram channel {:?} is not a bot token (digits, ':', then at least 20 letters, digits, '-' or '_', as BotFather's /token shows it)",
                channel.name
            ),
        ));
    }
    let chat = match (&recipient.address, settings.chat_id) {
        (Some(address), _) => ChatId::parse(address.trim()).ok_or_else(|| {
            RenderError::new(
                "invalid-address",
                format!(
                    "{address:?} is not a Telegram chat: a person's address on the channel {:?} is their chat id with the bot (an integer such as 123456789) or a channel's @username",
                    channel.name
                ),
            )
        })?,
        (None, Some(ChatIdSetting::Number(id))) => ChatId::parse(&id.to_string())
            .ok_or_else(|| RenderError::invalid_settings("chat_id 0 is not a Telegram chat"))?,
        (None, Some(ChatIdSetting::Text(text))) => {
            ChatId::parse(text.trim()).ok_or_else(|| {
                RenderError::invalid_settings(format!(
                    "chat_id {text:?} is not a Telegram chat: write an integer id (e.g. -1001234567890) or \"@channelusername\""
                ))
            })?
        }
        (None, None) => {
            return Err(RenderError::new(
                "no-address",
                format!(
                    "the Telegram channel {:?} is a target by itself but has no settings.chat_id (the group or channel to post in)",
                    channel.name
                ),
            ));
        }
    };
    Ok((format!("/bot{token}/sendMessage"), chat))
}

/// BotFather's tokens: the bot's numeric id, `:`, and a secret part.
fn valid_token(token: &str) -> bool {
    let Some((id, secret)) = token.split_once(':') else {
        return false;
    };
    (1..=20).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_digit())
        && (20..=100).contains(&secret.len())
        && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A `sendMessage` body.
fn message(chat: &ChatId, text: Html, keyboard: Option<Value>, silent: bool) -> Value {
    let mut body = json!({
        "chat_id": chat.json(),
        "text": text.html,
        "parse_mode": "HTML",
        "disable_web_page_preview": true,
    });
    if let Some(keyboard) = keyboard {
        body["reply_markup"] = json!({ "inline_keyboard": keyboard });
    }
    if silent {
        body["disable_notification"] = json!(true);
    }
    body
}

/// One notification's message: the summary in bold, the facts, the
/// details; Accept and Resolve buttons, then Open. A resolved notice is
/// short and arrives silently.
fn payload(notification: &Notification, chat: &ChatId) -> Value {
    let incident = &notification.incident;
    let summary = cut(&one_line(&incident.summary), SUMMARY_MAX);
    let mut text = Html::default();
    if notification.kind == Kind::Resolved {
        text.text("✅ ");
        text.bold(&format!("#{} resolved", incident.id));
        text.text("\n");
        text.text(&summary);
        return message(chat, text, None, true);
    }
    text.text("🚨 ");
    text.bold(&format!("#{} {summary}", incident.id));
    let mut facts = Vec::new();
    if let Some(priority) = &incident.priority {
        facts.push(format!("Priority {priority}"));
    }
    facts.push(format!("Source {}", incident.source));
    facts.push(format!("Level {}", notification.level + 1));
    if let Some(person) = &notification.recipient.person {
        facts.push(format!("For {person}"));
    }
    text.text("\n");
    text.text(&cut(&one_line(&facts.join(" · ")), SUMMARY_MAX));
    let details = incident.details.trim();
    // What is left of Telegram's limit after the header and a blank line.
    let room = TEXT_MAX.saturating_sub(text.visible + 2).min(DETAILS_MAX);
    if !details.is_empty() && room > 1 {
        text.text("\n\n");
        text.text(&cut(details, room));
    }
    let mut rows = Vec::new();
    let actions: Vec<Value> =
        [("Accept", &notification.accept_url), ("Resolve", &notification.resolve_url)]
            .into_iter()
            .filter_map(|(label, url)| web_url(url.as_deref()).map(|url| button(label, url)))
            .collect();
    if !actions.is_empty() {
        rows.push(json!(actions));
    }
    if let Some(url) = web_url(incident.url.as_deref()) {
        rows.push(json!([button("Open", url)]));
    }
    let keyboard = (!rows.is_empty()).then(|| json!(rows));
    message(chat, text, keyboard, false)
}

/// An inline keyboard URL button.
fn button(text: &str, url: &str) -> Value {
    json!({ "text": text, "url": url })
}

/// A digest as message texts: a bold title, then each incident on a line
/// (its link, priority and Accept link), as many lines per message as
/// Telegram's limit and [`DIGEST_LINES_MAX`] allow.
fn digest_texts(digest: &Digest) -> Vec<Html> {
    let title = cut(&one_line(&digest.title()), 200);
    let header_max = utf16(&title) + 3 + PART_SUFFIX_MAX;
    let mut groups: Vec<Vec<Html>> = vec![Vec::new()];
    let mut visible = header_max;
    for notification in &digest.notifications {
        let line = digest_line(notification);
        let last = groups.last_mut().expect("one group at least");
        if !last.is_empty() && (visible + line.visible > TEXT_MAX || last.len() == DIGEST_LINES_MAX)
        {
            groups.push(Vec::new());
            visible = header_max;
        }
        visible += line.visible;
        groups.last_mut().expect("one group at least").push(line);
    }
    let count = groups.len();
    let pages = digest.notifications.iter().any(|n| n.kind == Kind::Triggered);
    let icon = if pages { "🚨 " } else { "✅ " };
    groups
        .into_iter()
        .enumerate()
        .map(|(part, lines)| {
            let mut text = Html::default();
            text.text(icon);
            if count == 1 {
                text.bold(&title);
            } else {
                text.bold(&format!("{title} ({}/{count})", part + 1));
            }
            for line in lines {
                text.push(line);
            }
            text
        })
        .collect()
}

/// `• #42 Printer on fire (urgent) · Accept`, the number and summary linked
/// to the incident, Accept to its one-click link.
fn digest_line(notification: &Notification) -> Html {
    let incident = &notification.incident;
    let label =
        format!("#{} {}", incident.id, cut(&one_line(&incident.summary), DIGEST_SUMMARY_MAX));
    let mut line = Html::default();
    line.text("\n• ");
    match web_url(incident.url.as_deref()) {
        Some(url) => line.link(url, &label),
        None => line.text(&label),
    }
    if let Some(priority) = &incident.priority {
        line.text(&format!(" ({})", cut(priority, 20)));
    }
    line.text(Digest::resolved_mark(notification));
    if notification.kind == Kind::Triggered
        && let Some(url) = web_url(notification.accept_url.as_deref())
    {
        line.text(" · ");
        line.link(url, "Accept");
    }
    line
}

/// Telegram HTML being written, with the length Telegram counts: the text
/// after entities parsing (tags gone, each entity one character).
#[derive(Debug, Default)]
struct Html {
    html: String,
    /// UTF-16 code units of the visible text.
    visible: usize,
}

impl Html {
    fn text(&mut self, plain: &str) {
        self.html.push_str(&escape(plain));
        self.visible += utf16(plain);
    }

    fn bold(&mut self, plain: &str) {
        self.html.push_str("<b>");
        self.text(plain);
        self.html.push_str("</b>");
    }

    /// `<a href="url">text</a>`; `url` is an http(s) URL.
    fn link(&mut self, url: &str, plain: &str) {
        self.html.push_str(&format!("<a href=\"{}\">", escape(url).replace('"', "&quot;")));
        self.text(plain);
        self.html.push_str("</a>");
    }

    fn push(&mut self, other: Html) {
        self.html.push_str(&other.html);
        self.visible += other.visible;
    }
}

/// Telegram's HTML escapes: every `&`, `<` and `>` that is not markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn utf16(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Whitespace (newlines included) collapsed to single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn web_url(url: Option<&str>) -> Option<&str> {
    url.filter(|url| url.starts_with("https://") || url.starts_with("http://"))
}

/// At most `max` UTF-16 code units, cut on a character boundary and marked
/// with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if utf16(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut units = 0;
    for c in text.chars() {
        if units + c.len_utf16() + 1 > max {
            break;
        }
        units += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

inbound_notifier_sdk::register_notifier!(Telegram);

#[cfg(test)]
mod tests {
    use super::*;
    use inbound_notifier_sdk::{HttpRequest, Incident};

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn channel(settings: &str, secret: Option<&str>) -> Channel {
        Channel {
            name: "telegram".into(),
            settings: settings.into(),
            secret: secret.map(str::to_string),
        }
    }

    fn notification(summary: &str) -> Notification {
        Notification {
            id: "inbound-42-7".into(),
            kind: Kind::Triggered,
            incident: Incident {
                id: 42,
                source: "support".into(),
                status: "pending".into(),
                summary: summary.into(),
                details: "The printer on floor 3 is on fire.".into(),
                priority: Some("urgent".into()),
                url: Some("https://example.zendesk.com/agent/tickets/42".into()),
                created_at: 0,
            },
            level: 0,
            recipient: Recipient { person: Some("ada".into()), address: Some("123456789".into()) },
            accept_url: Some("https://inbound.example.com/ack/accept-token".into()),
            resolve_url: Some("https://inbound.example.com/ack/resolve-token".into()),
            sent_at: 1774699200,
        }
    }

    fn http(message: &Message) -> &HttpRequest {
        match message {
            Message::Http(request) => request,
            Message::Email(_) => panic!("an HTTP message"),
        }
    }

    fn body(message: &Message) -> Value {
        serde_json::from_slice(&http(message).body).unwrap()
    }

    /// Telegram's parsing of `parse_mode` HTML, for what this notifier
    /// writes: tags `b` and `a href` balanced, entities `&lt;`, `&gt;`,
    /// `&amp;` and `&quot;`, and no bare `<`, `>` or `&`. The visible text.
    fn parse(html: &str) -> Result<String, String> {
        let mut visible = String::new();
        let mut open: Vec<&str> = Vec::new();
        let mut rest = html;
        while let Some(c) = rest.chars().next() {
            match c {
                '<' => {
                    let end = rest.find('>').ok_or("an unclosed tag")?;
                    let tag = &rest[1..end];
                    if let Some(name) = tag.strip_prefix('/') {
                        if open.pop() != Some(name) {
                            return Err(format!("</{name}> closes nothing open"));
                        }
                    } else if tag == "b" {
                        open.push("b");
                    } else if let Some(href) =
                        tag.strip_prefix("a href=\"").and_then(|t| t.strip_suffix('"'))
                    {
                        if href.contains(['"', '<', '>']) {
                            return Err(format!("a bad href {href:?}"));
                        }
                        open.push("a");
                    } else {
                        return Err(format!("unsupported tag <{tag}>"));
                    }
                    rest = &rest[end + 1..];
                }
                '&' => {
                    let (entity, decoded) =
                        [("&lt;", '<'), ("&gt;", '>'), ("&amp;", '&'), ("&quot;", '"')]
                            .into_iter()
                            .find(|(entity, _)| rest.starts_with(entity))
                            .ok_or_else(|| format!("a bare & at {rest:?}"))?;
                    visible.push(decoded);
                    rest = &rest[entity.len()..];
                }
                '>' => return Err("a bare >".into()),
                c => {
                    visible.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !open.is_empty() {
            return Err(format!("unclosed {open:?}"));
        }
        Ok(visible)
    }

    #[test]
    fn a_page_is_one_send_message_with_buttons() {
        let messages =
            Telegram::render(notification("Printer on fire"), channel("{}", Some(TOKEN))).unwrap();
        assert_eq!(messages.len(), 1);
        let request = http(&messages[0]);
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, format!("/bot{TOKEN}/sendMessage"));
        assert!(request.headers.contains(&("content-type".into(), "application/json".into())));
        assert!(request.headers.contains(&("idempotency-key".into(), "inbound-42-7".into())));
        assert_eq!(
            body(&messages[0]),
            json!({
                "chat_id": 123456789,
                "text": "🚨 <b>#42 Printer on fire</b>\nPriority urgent · Source support · Level 1 · For ada\n\nThe printer on floor 3 is on fire.",
                "parse_mode": "HTML",
                "disable_web_page_preview": true,
                "reply_markup": {"inline_keyboard": [
                    [
                        {"text": "Accept", "url": "https://inbound.example.com/ack/accept-token"},
                        {"text": "Resolve", "url": "https://inbound.example.com/ack/resolve-token"}
                    ],
                    [{"text": "Open", "url": "https://example.zendesk.com/agent/tickets/42"}]
                ]}
            })
        );
    }

    #[test]
    fn the_documented_sample_is_what_renders() {
        let messages =
            Telegram::render(notification("Printer on fire"), channel("{}", Some(TOKEN))).unwrap();
        let rendered = serde_json::to_string_pretty(&body(&messages[0])).unwrap() + "\n";
        assert_eq!(
            rendered,
            include_str!("../../../docs/examples/telegram-message.json"),
            "docs/examples/telegram-message.json is out of date; it renders as:\n{rendered}"
        );
    }

    #[test]
    fn hostile_summaries_are_escaped_and_parse_back_to_themselves() {
        for summary in [
            "</b><a href=\"javascript:alert(1)\">click</a>",
            "a < b && c > d; 5 &lt; 6 &amp;amp; &#60; &quot;",
            "<script>alert('x')</script> <b>bold</b> <i>",
            "\"quoted\" & 'single' <<>> &",
            "emoji 🔥 and & and < at the end <",
        ] {
            let mut page = notification(summary);
            page.incident.details = format!("details: {summary}");
            page.incident.url = Some(format!("https://example.com/t?a=1&b=\"x\"&c=<{summary}>"));
            page.accept_url = None;
            let messages = Telegram::render(page, channel("{}", Some(TOKEN))).unwrap();
            let sent = body(&messages[0]);
            let html = sent["text"].as_str().unwrap();
            let visible = parse(html).unwrap_or_else(|why| panic!("{why}: {html}"));
            assert!(visible.contains(&format!("#42 {summary}")), "{visible}");
            assert!(visible.contains(&format!("details: {summary}")), "{visible}");
            // A button's URL is JSON, not HTML: it stays as it was.
            assert!(
                sent["reply_markup"]["inline_keyboard"][1][0]["url"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("<{summary}>"))
            );

            let digest = Digest {
                id: "inbound-digest-1".into(),
                recipient: page_recipient(),
                notifications: vec![notification(summary), {
                    let mut second = notification(summary);
                    second.incident.url =
                        Some(format!("https://example.com/t?a=1&b=\"x\"&c=<{summary}>"));
                    second
                }],
                sent_at: 0,
            };
            let messages = Telegram::render_digest(digest, channel("{}", Some(TOKEN))).unwrap();
            let html = body(&messages[0])["text"].as_str().unwrap().to_string();
            let visible = parse(&html).unwrap_or_else(|why| panic!("{why}: {html}"));
            let cut_summary = cut(&one_line(summary), DIGEST_SUMMARY_MAX);
            assert_eq!(visible.matches(&format!("#42 {cut_summary}")).count(), 2, "{visible}");
        }
    }

    fn page_recipient() -> Recipient {
        Recipient { person: Some("ada".into()), address: Some("123456789".into()) }
    }

    #[test]
    fn escaping_is_telegrams() {
        assert_eq!(escape("a & b < c > d \" e"), "a &amp; b &lt; c &gt; d \" e");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        let mut html = Html::default();
        html.link("https://x.example/?a=1&b=\"2\"", "x < y");
        assert_eq!(
            html.html,
            "<a href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\">x &lt; y</a>"
        );
        assert_eq!(html.visible, 5);
    }

    #[test]
    fn long_text_stays_within_4096_characters_after_entities() {
        let mut page = notification(&"<&>".repeat(2000));
        page.incident.details = "&<>😀".repeat(5000);
        page.incident.source = "s".repeat(5000);
        page.recipient.person = Some("p".repeat(5000));
        let messages = Telegram::render(page, channel("{}", Some(TOKEN))).unwrap();
        let html = body(&messages[0])["text"].as_str().unwrap().to_string();
        let visible = parse(&html).unwrap();
        assert!(visible.encode_utf16().count() <= TEXT_MAX, "{}", visible.len());
        assert!(html.len() > TEXT_MAX, "the entities themselves are not counted");
        assert!(visible.starts_with(&format!("🚨 #42 {}", "<&>".repeat(50))));
    }

    #[test]
    fn a_long_digest_takes_several_messages_each_within_the_limit() {
        let page = |id: u64| {
            let mut page =
                notification(&format!("Printer {id} <on fire> & smoking {}", "😀".repeat(100)));
            page.incident.id = id;
            page.incident.url = Some(format!("https://example.zendesk.com/agent/tickets/{id}"));
            page.accept_url = Some(format!("https://inbound.example.com/ack/{}", "x".repeat(200)));
            page.incident.priority = Some("urgent".into());
            if id.is_multiple_of(2) {
                page.kind = Kind::Resolved;
            }
            page
        };
        let digest = Digest {
            id: "inbound-digest-9".into(),
            recipient: page_recipient(),
            notifications: (1..=500).map(page).collect(),
            sent_at: 0,
        };
        let messages = Telegram::render_digest(digest, channel("{}", Some(TOKEN))).unwrap();
        assert!(messages.len() > 1 && messages.len() <= 16, "{}", messages.len());
        let mut all = String::new();
        for (part, message) in messages.iter().enumerate() {
            let request = http(message);
            let key = format!("inbound-digest-9-{}", part + 1);
            assert!(request.headers.contains(&("idempotency-key".into(), key)));
            let html = body(message)["text"].as_str().unwrap().to_string();
            let visible = parse(&html).unwrap_or_else(|why| panic!("{why}"));
            assert!(visible.encode_utf16().count() <= TEXT_MAX);
            assert!(visible.starts_with(&format!(
                "🚨 500 more incidents from support (250 resolved) ({}/{})",
                part + 1,
                messages.len()
            )));
            all.push_str(&visible);
        }
        for id in 1..=500 {
            assert_eq!(all.matches(&format!("\n• #{id} Printer {id} ")).count(), 1, "{id}");
        }
        assert_eq!(all.matches(" (resolved)").count(), 250);
        assert_eq!(all.matches(" · Accept").count(), 250, "no Accept for a resolved one");
    }

    #[test]
    fn a_short_digest_is_one_message_of_links() {
        let mut second = notification("Coffee machine empty");
        second.incident.id = 43;
        second.incident.priority = None;
        second.accept_url = None;
        second.incident.url = Some("https://example.zendesk.com/agent/tickets/43".into());
        let digest = Digest {
            id: "inbound-digest-1".into(),
            recipient: page_recipient(),
            notifications: vec![notification("Printer on fire"), second],
            sent_at: 0,
        };
        let messages = Telegram::render_digest(digest, channel("{}", Some(TOKEN))).unwrap();
        assert_eq!(messages.len(), 1);
        assert!(
            http(&messages[0])
                .headers
                .contains(&("idempotency-key".into(), "inbound-digest-1".into()))
        );
        assert_eq!(
            body(&messages[0]),
            json!({
                "chat_id": 123456789,
                "text": "🚨 <b>2 more incidents from support</b>\n• <a href=\"https://example.zendesk.com/agent/tickets/42\">#42 Printer on fire</a> (urgent) · <a href=\"https://inbound.example.com/ack/accept-token\">Accept</a>\n• <a href=\"https://example.zendesk.com/agent/tickets/43\">#43 Coffee machine empty</a>",
                "parse_mode": "HTML",
                "disable_web_page_preview": true,
            })
        );
    }

    #[test]
    fn a_resolved_notice_is_short_and_silent() {
        let mut page = notification("Printer on fire");
        page.kind = Kind::Resolved;
        let messages = Telegram::render(page.clone(), channel("{}", Some(TOKEN))).unwrap();
        assert_eq!(
            body(&messages[0]),
            json!({
                "chat_id": 123456789,
                "text": "✅ <b>#42 resolved</b>\nPrinter on fire",
                "parse_mode": "HTML",
                "disable_web_page_preview": true,
                "disable_notification": true,
            })
        );
        let mut second = notification("Coffee machine empty");
        second.kind = Kind::Resolved;
        let digest = Digest {
            id: "inbound-digest-2".into(),
            recipient: page_recipient(),
            notifications: vec![page, second],
            sent_at: 0,
        };
        let messages = Telegram::render_digest(digest, channel("{}", Some(TOKEN))).unwrap();
        let text = body(&messages[0])["text"].as_str().unwrap().to_string();
        assert!(text.starts_with("✅ <b>2 incidents resolved from support</b>"), "{text}");
        assert!(!text.contains("Accept"), "{text}");
    }

    #[test]
    fn a_channel_target_goes_to_the_settings_chat_id() {
        let mut page = notification("Printer on fire");
        page.recipient = Recipient { person: None, address: None };
        for (settings, expected) in [
            (r#"{"chat_id": -1001234567890}"#, json!(-1001234567890i64)),
            (r#"{"chat_id": "-1001234567890"}"#, json!(-1001234567890i64)),
            (r#"{"chat_id": "@acme_oncall"}"#, json!("@acme_oncall")),
        ] {
            let messages = Telegram::render(page.clone(), channel(settings, Some(TOKEN))).unwrap();
            assert_eq!(body(&messages[0])["chat_id"], expected, "{settings}");
        }
        let error = Telegram::render(page.clone(), channel("{}", Some(TOKEN))).unwrap_err();
        assert_eq!(error.code, "no-address");
        assert!(error.message.contains("settings.chat_id"), "{}", error.message);
        for bad in [r#"{"chat_id": "acme"}"#, r#"{"chat_id": 0}"#, r#"{"chat_id": "@abc"}"#] {
            let error = Telegram::render(page.clone(), channel(bad, Some(TOKEN))).unwrap_err();
            assert_eq!(error.code, "invalid-settings", "{bad}");
        }
    }

    #[test]
    fn addresses_are_chat_ids_or_usernames() {
        assert_eq!(ChatId::parse("123456789"), Some(ChatId::Id(123456789)));
        assert_eq!(ChatId::parse("-1001234567890"), Some(ChatId::Id(-1001234567890)));
        assert_eq!(ChatId::parse("@acme_oncall"), Some(ChatId::Username("@acme_oncall".into())));
        for bad in ["", "-", "0", "12a", "+4712345678", "@abcd", "@has space", "ada", "@ø_ø_ø"] {
            assert_eq!(ChatId::parse(bad), None, "{bad:?}");
        }
        let mut page = notification("Printer on fire");
        page.recipient.address = Some("ada@example.com".into());
        let error = Telegram::render(page, channel("{}", Some(TOKEN))).unwrap_err();
        assert_eq!(error.code, "invalid-address");
        assert!(error.message.contains("chat id"), "{}", error.message);
    }

    #[test]
    fn the_bot_token_is_required_and_never_shown() {
        let error = Telegram::render(notification("x"), channel("{}", None)).unwrap_err();
        assert_eq!(error.code, "missing-secret");
        assert!(error.message.contains("signing_secret_env"), "{}", error.message);
        let bad = "123456789:short token";
        let error = Telegram::render(notification("x"), channel("{}", Some(bad))).unwrap_err();
        assert_eq!(error.code, "missing-secret");
        assert!(!error.message.contains("short token"), "{}", error.message);
        for bad in [
            "",
            "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "123456789AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "123:../../x/AAHdqTcvCH1vGWJxfSe",
        ] {
            assert!(!valid_token(bad), "{bad:?}");
        }
        assert!(valid_token(TOKEN));
    }

    #[test]
    fn unknown_settings_are_refused() {
        let error = Telegram::render(
            notification("x"),
            channel(r#"{"chat": "@acme_oncall"}"#, Some(TOKEN)),
        )
        .unwrap_err();
        assert_eq!(error.code, "invalid-settings");
        assert!(error.message.contains("unknown field `chat`"), "{}", error.message);
    }

    #[test]
    fn cut_counts_utf16_units_and_marks_the_cut() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdef", 4), "abc…");
        let emoji = cut(&"😀".repeat(10), 5);
        assert_eq!(emoji, "😀😀…");
        assert!(utf16(&emoji) <= 5);
    }
}
