//! Twilio (or an API shaped like it): a page as an SMS of at most two
//! segments, or as a voice call that reads it out.
//!
//! The channel's `url` is the API's origin (`https://api.twilio.com`); its
//! secret (`signing_secret_env`, or `signing_secret`) is the account's auth
//! token, sent with the `account_sid` from the settings as HTTP basic auth.
//! A person's address is their phone number in E.164 form (`+4791234567`).
//!
//! - SMS (`mode = "sms"`, the default): `POST .../Messages.json`,
//!   `inbound #42 urgent: <summary> Reply ACK 42 to accept.` and the accept
//!   link when it fits. Segments are counted as Twilio counts them (GSM-7,
//!   its extension table counting two, or UCS-2 as soon as one character is
//!   not GSM-7); the summary is cut to keep the whole within two, never the
//!   instruction. A resolved notice and a digest are one SMS each.
//! - Voice (`mode = "voice"`): `POST .../Calls.json` with inline TwiML that
//!   says the page twice. A resolved notice calls nobody (nothing is sent).

use base64::Engine as _;
use inbound_notifier_sdk::{
    Channel, Digest, HttpRequest, Kind, Message, Notification, Notifier, Recipient, RenderError,
};
use serde::Deserialize;

struct Twilio;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The account's SID, `AC` and 32 hexadecimal digits (the console's
    /// Account Info); it is in every request's path and the basic auth.
    account_sid: String,
    /// The Twilio number sending the SMS or placing the call, E.164.
    from: String,
    #[serde(default)]
    mode: Mode,
    /// Sends SMS through this Messaging Service (`MG` and 32 hexadecimal
    /// digits), as well as from `from`.
    messaging_service_sid: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Sms,
    Voice,
}

/// A channel's settings and secret, checked.
struct Account {
    sid: String,
    from: String,
    mode: Mode,
    messaging_service_sid: Option<String>,
    /// `Basic base64(account_sid:auth_token)`.
    authorization: String,
}

/// The most segments an SMS may take: a page stays one short message on
/// any phone (and costs at most two).
const MAX_SEGMENTS: usize = 2;
/// Characters of a summary considered for an SMS: two segments hold 306.
const SMS_SUMMARY_MAX: usize = 320;
/// Characters of a summary read out in a call.
const VOICE_SUMMARY_MAX: usize = 300;
/// An accept link is added only if the summary keeps at least this much
/// (or all of it): what happened matters more than the link.
const SUMMARY_KEPT_WITH_LINK: usize = 60;
/// How many characters a cut may give up to end at a word.
const WORD_CUT_SLACK: usize = 20;
/// Twilio's limit on the `Twiml` parameter.
const TWIML_MAX: usize = 4000;

impl Notifier for Twilio {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let account = account(&channel)?;
        let to = phone_number(&notification.recipient, &channel)?;
        let key = notification.id.clone();
        Ok(match (account.mode, notification.kind) {
            (Mode::Sms, _) => vec![sms(&account, &to, &sms_body(&notification), key)],
            (Mode::Voice, Kind::Triggered) => {
                vec![call(&account, &to, &twiml(&notification), key)]
            }
            // Nobody is called to hear that it is over.
            (Mode::Voice, Kind::Resolved) => Vec::new(),
        })
    }

    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let account = account(&channel)?;
        let to = phone_number(&digest.recipient, &channel)?;
        let pages = digest.notifications.iter().any(|n| n.kind == Kind::Triggered);
        Ok(match account.mode {
            Mode::Sms => vec![sms(&account, &to, &digest_sms(&digest), digest.id.clone())],
            Mode::Voice if pages => {
                vec![call(&account, &to, &digest_twiml(&digest), digest.id.clone())]
            }
            Mode::Voice => Vec::new(),
        })
    }
}

fn account(channel: &Channel) -> Result<Account, RenderError> {
    let settings: Settings = channel.settings()?;
    if !sid(&settings.account_sid, "AC") {
        return Err(RenderError::invalid_settings(format!(
            "account_sid {:?} is not a Twilio account SID: \"AC\" and 32 hexadecimal digits, as the console's Account Info shows it",
            settings.account_sid
        )));
    }
    if !e164(&settings.from) {
        return Err(RenderError::invalid_settings(format!(
            "from {:?} is not a phone number in E.164 form: '+', the country code and the number, 8 to 15 digits, no spaces (e.g. \"+15017122661\")",
            settings.from
        )));
    }
    if let Some(service) = &settings.messaging_service_sid
        && !sid(service, "MG")
    {
        return Err(RenderError::invalid_settings(format!(
            "messaging_service_sid {service:?} is not a Messaging Service SID: \"MG\" and 32 hexadecimal digits"
        )));
    }
    let token = channel.secret.as_deref().ok_or_else(|| {
        RenderError::new(
            "missing-secret",
            format!(
                "the Twilio channel {:?} needs the account's auth token (the console's Account Info): set signing_secret_env to a variable holding it",
                channel.name
            ),
        )
    })?;
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        // Never the token itself in a message.
        return Err(RenderError::new(
            "missing-secret",
            format!(
                "the secret of the Twilio channel {:?} is not an auth token (printable characters without spaces)",
                channel.name
            ),
        ));
    }
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{token}", settings.account_sid));
    Ok(Account {
        sid: settings.account_sid,
        from: settings.from,
        mode: settings.mode,
        messaging_service_sid: settings.messaging_service_sid,
        authorization: format!("Basic {credentials}"),
    })
}

/// `prefix` and 32 hexadecimal digits.
fn sid(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// E.164: `+`, then 8 to 15 digits, the first (the country code's) not 0.
fn e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// The person's number: a Twilio channel cannot be a target by itself.
fn phone_number(recipient: &Recipient, channel: &Channel) -> Result<String, RenderError> {
    let Some(address) = &recipient.address else {
        return Err(RenderError::new(
            "no-address",
            format!(
                "the Twilio channel {:?} can only notify people (with their phone number in [[people]]), not be a target by itself",
                channel.name
            ),
        ));
    };
    if !e164(address) {
        return Err(RenderError::new(
            "invalid-address",
            format!(
                "{address:?} is not a phone number in E.164 form, which the Twilio channel {:?} needs: '+', the country code and the number, 8 to 15 digits, no spaces (e.g. \"+4791234567\")",
                channel.name
            ),
        ));
    }
    Ok(address.clone())
}

fn sms(account: &Account, to: &str, body: &str, key: String) -> Message {
    let mut fields = vec![("To", to), ("From", account.from.as_str()), ("Body", body)];
    if let Some(service) = &account.messaging_service_sid {
        fields.push(("MessagingServiceSid", service));
    }
    post(account, "Messages", &fields, key)
}

fn call(account: &Account, to: &str, twiml: &str, key: String) -> Message {
    post(account, "Calls", &[("To", to), ("From", account.from.as_str()), ("Twiml", twiml)], key)
}

/// A form-encoded `POST` to `/2010-04-01/Accounts/{sid}/{resource}.json`.
fn post(account: &Account, resource: &str, fields: &[(&str, &str)], key: String) -> Message {
    Message::Http(HttpRequest {
        method: "POST".into(),
        url: format!("/2010-04-01/Accounts/{}/{resource}.json", account.sid),
        headers: vec![
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("authorization".into(), account.authorization.clone()),
            ("idempotency-key".into(), key),
        ],
        body: form(fields).into_bytes(),
    })
}

/// `application/x-www-form-urlencoded`: every byte but the unreserved ones
/// percent-encoded, spaces as `+`.
fn form(fields: &[(&str, &str)]) -> String {
    fn encode(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(byte as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
        out
    }
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `inbound #42 urgent: <summary> Reply ACK 42 to accept.`, then the accept
/// link if it fits; a resolved notice `inbound #42 resolved: <summary>`.
fn sms_body(notification: &Notification) -> String {
    let incident = &notification.incident;
    let summary = one_line(&incident.summary);
    if notification.kind == Kind::Resolved {
        return fit(&format!("inbound #{} resolved: ", incident.id), &summary, "", 0)
            .unwrap_or_else(|| format!("inbound #{} resolved", incident.id));
    }
    let head = match &incident.priority {
        Some(priority) => format!("inbound #{} {}: ", incident.id, one_line(priority)),
        None => format!("inbound #{}: ", incident.id),
    };
    let instruction = format!(" Reply ACK {} to accept.", incident.id);
    let link = notification.accept_url.as_deref().filter(|url| url.starts_with("http"));
    if let Some(link) = link {
        let kept = summary.chars().count().min(SUMMARY_KEPT_WITH_LINK);
        if let Some(body) = fit(&head, &summary, &format!("{instruction} {link}"), kept) {
            return body;
        }
    }
    fit(&head, &summary, &instruction, 0)
        // Unreachable with a summary cut to nothing; said plainly anyway.
        .unwrap_or_else(|| format!("inbound #{}:{instruction}", incident.id))
}

/// `head`, `summary` and `tail` within [`MAX_SEGMENTS`]: the summary whole,
/// or cut (marked `...`) to the longest that fits, at a word's end when one
/// is near, but to no fewer than `kept` characters; `None` when that does
/// not fit.
fn fit(head: &str, summary: &str, tail: &str, kept: usize) -> Option<String> {
    let chars: Vec<char> = summary.chars().collect();
    let whole = format!("{head}{summary}{tail}");
    if chars.len() <= SMS_SUMMARY_MAX && segments(&whole) <= MAX_SEGMENTS {
        return Some(whole);
    }
    let cut = |keep: usize| {
        let part: String = chars[..keep].iter().collect();
        format!("{head}{}...{tail}", part.trim_end())
    };
    let longest = chars.len().min(SMS_SUMMARY_MAX);
    let fits = (kept..longest).rev().find(|&keep| segments(&cut(keep)) <= MAX_SEGMENTS)?;
    // Fewer characters never take more segments: any shorter cut fits too.
    let at_word = (fits.saturating_sub(WORD_CUT_SLACK).max(kept)..=fits)
        .rev()
        .find(|&keep| keep > 0 && chars[keep] == ' ');
    Some(cut(at_word.unwrap_or(fits)))
}

/// `inbound: 12 more incidents from support: #42 #43 ... Reply ACK <id> to
/// accept one.`, as many numbers as two segments hold.
fn digest_sms(digest: &Digest) -> String {
    let title = one_line(&digest.title());
    let pages = digest.notifications.iter().any(|n| n.kind == Kind::Triggered);
    let tail = if pages { " Reply ACK <id> to accept one." } else { "" };
    let ids: Vec<String> =
        digest.notifications.iter().map(|n| format!("#{}", n.incident.id)).collect();
    for listed in (0..=ids.len()).rev() {
        let mut text = format!("inbound: {title}");
        if listed > 0 {
            text.push_str(&format!(": {}", ids[..listed].join(" ")));
        }
        if listed < ids.len() && listed > 0 {
            text.push_str(&format!(" and {} more", ids.len() - listed));
        }
        text.push('.');
        text.push_str(tail);
        if segments(&text) <= MAX_SEGMENTS {
            return text;
        }
    }
    // A title too long for two segments (sources with long names).
    fit("inbound: ", &title, &format!(".{tail}"), 0).unwrap_or_else(|| format!("inbound.{tail}"))
}

/// The call's TwiML: the page said twice, a second's pause between; the
/// summary shorter when its escapes would pass Twilio's limit.
fn twiml(notification: &Notification) -> String {
    let incident = &notification.incident;
    let priority = incident.priority.as_deref().map(|p| format!(", {}", one_line(p)));
    [VOICE_SUMMARY_MAX, 100, 0]
        .into_iter()
        .map(|max| {
            say_twice(&format!(
                "inbound incident {}{}: {} Press nothing; reply by SMS ACK {} to accept.",
                incident.id,
                priority.clone().unwrap_or_default(),
                sentence(&incident.summary, max),
                incident.id
            ))
        })
        .find(|twiml| twiml.chars().count() <= TWIML_MAX)
        .unwrap_or_else(|| say_twice(&format!("inbound incident {}.", incident.id)))
}

/// A digest's call: how many, and which numbers to answer by SMS.
fn digest_twiml(digest: &Digest) -> String {
    let ids: Vec<String> = digest.notifications.iter().map(|n| n.incident.id.to_string()).collect();
    let listed = ids.len().min(10);
    let mut numbers = ids[..listed].join(", ");
    if listed < ids.len() {
        numbers.push_str(&format!(" and {} more", ids.len() - listed));
    }
    let title: String = one_line(&digest.title()).chars().take(200).collect();
    say_twice(&format!(
        "inbound: {title}: incidents {numbers}. Press nothing; reply by SMS ACK and an incident number to accept one."
    ))
}

fn say_twice(say: &str) -> String {
    let say = xml_escape(say);
    format!("<Response><Say>{say}</Say><Pause length=\"1\"/><Say>{say}</Say></Response>")
}

/// A summary as a sentence to read out: one line, at most `max`
/// characters, ending in one full stop (or `...` when cut).
fn sentence(summary: &str, max: usize) -> String {
    let line = one_line(summary);
    let said: String = line.chars().take(max).collect();
    let said = said.trim_end_matches(['.', ' ']);
    match (said.is_empty(), line.chars().count() > max) {
        (true, _) => "no summary.".into(),
        (false, true) => format!("{said}..."),
        (false, false) => format!("{said}."),
    }
}

/// Text for XML: the five escapes, and characters XML 1.0 cannot hold
/// (control characters, U+FFFE, U+FFFF) left out.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Whitespace (newlines included) collapsed to single spaces, control
/// characters left out.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// GSM 03.38's default alphabet (without the escape itself).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
    ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: each is the escape and a character, two septets.
const GSM_EXTENDED: &str = "\x0c^{}\\[~]|€";

/// Septets of `c` in GSM-7, `None` when it has none.
fn gsm_septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// SMS segments of `text`, as Twilio counts them: GSM-7 when every
/// character has a septet (the extension table's count two), 160 in one
/// segment or 153 per segment of a longer message; otherwise UCS-2, 70 or
/// 67 UTF-16 units (a character beyond the BMP is two). A character's
/// units are never split between segments.
pub fn segments(text: &str) -> usize {
    let gsm = text.chars().all(|c| gsm_septets(c).is_some());
    let units = |c: char| if gsm { gsm_septets(c).unwrap_or(1) } else { c.len_utf16() };
    let (single, per_segment) = if gsm { (160, 153) } else { (70, 67) };
    let total: usize = text.chars().map(units).sum();
    if total == 0 {
        return 0;
    }
    if total <= single {
        return 1;
    }
    let mut count = 1;
    let mut used = 0;
    for c in text.chars() {
        if used + units(c) > per_segment {
            count += 1;
            used = 0;
        }
        used += units(c);
    }
    count
}

inbound_notifier_sdk::register_notifier!(Twilio);

#[cfg(test)]
mod tests {
    use super::*;
    use inbound_notifier_sdk::Incident;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const AUTH_TOKEN: &str = "your_auth_token";
    const SMS: &str =
        r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006"}"#;
    const VOICE: &str = r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006", "mode": "voice"}"#;

    fn channel(settings: &str) -> Channel {
        Channel { name: "phone".into(), settings: settings.into(), secret: Some(AUTH_TOKEN.into()) }
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
            recipient: Recipient {
                person: Some("ada".into()),
                address: Some("+4791234567".into()),
            },
            accept_url: Some(
                "https://inbound.example.com/ack/eyJpIjo0MiwiYSI6ImEiLCJwIjoiYWRhIn0.c2lnbmF0dXJl"
                    .into(),
            ),
            resolve_url: None,
            sent_at: 1774699200,
        }
    }

    fn http(message: &Message) -> &HttpRequest {
        match message {
            Message::Http(request) => request,
            Message::Email(_) => panic!("an HTTP message"),
        }
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> &'a str {
        &request.headers.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// The form body decoded: `application/x-www-form-urlencoded` read as a
    /// server reads it.
    fn fields(request: &HttpRequest) -> Vec<(String, String)> {
        let body = std::str::from_utf8(&request.body).unwrap();
        body.split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap();
                (decode(name), decode(value))
            })
            .collect()
    }

    fn decode(text: &str) -> String {
        let mut bytes = Vec::new();
        let mut rest = text.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            match byte {
                b'+' => bytes.push(b' '),
                b'%' => {
                    let hex = std::str::from_utf8(&tail[..2]).unwrap();
                    bytes.push(u8::from_str_radix(hex, 16).unwrap());
                    rest = &tail[2..];
                    continue;
                }
                byte => {
                    assert!(byte.is_ascii_alphanumeric() || b"-._~".contains(&byte), "{byte}");
                    bytes.push(byte)
                }
            }
            rest = tail;
        }
        String::from_utf8(bytes).unwrap()
    }

    fn field(request: &HttpRequest, name: &str) -> String {
        fields(request).into_iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn the_segment_counter_counts_as_twilio_does() {
        // GSM-7: 160 in one, then 153 per segment.
        assert_eq!(segments("a"), 1);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        assert_eq!(segments("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà"), 1);
        // The extension table counts two: 80 euros fill one segment.
        assert_eq!(segments(&"€".repeat(80)), 1);
        assert_eq!(segments(&"€".repeat(81)), 2);
        assert_eq!(segments(&"[".repeat(80)), 1);
        assert_eq!(segments(&format!("{}[", "a".repeat(159))), 2);
        assert_eq!(segments(&"{}\\~]|^".repeat(11)), 1, "154 septets");
        assert_eq!(segments(&"{}\\~]|^".repeat(12)), 2, "168 septets");
        // An escape is not split: after 152 septets '€' opens segment two,
        // so 306 septets can take three.
        assert_eq!(segments(&format!("{}€{}", "a".repeat(152), "a".repeat(151))), 2);
        assert_eq!(segments(&format!("{}€{}", "a".repeat(152), "a".repeat(152))), 3);
        // UCS-2 as soon as one character is not GSM-7: 70, then 67.
        assert_eq!(segments(&"ç".repeat(70)), 1, "ç is not GSM-7 (Ç is)");
        assert_eq!(segments(&format!("{}😀", "a".repeat(68))), 1, "70 units");
        assert_eq!(segments(&format!("{}😀", "a".repeat(69))), 2, "71 units");
        assert_eq!(segments(&"😀".repeat(35)), 1);
        assert_eq!(segments(&"😀".repeat(36)), 2);
        assert_eq!(segments(&"😀".repeat(67)), 3, "33 pairs per segment of 67 units");
        assert_eq!(segments(&"ж".repeat(134)), 2);
        assert_eq!(segments(&"ж".repeat(135)), 3);
        assert_eq!(segments(&format!("{}€", "a".repeat(69))), 1, "GSM: 71 septets");
        assert_eq!(segments(&format!("{}€😀", "a".repeat(66))), 1, "UCS-2: 69 units");
        assert_eq!(GSM_BASIC.chars().count(), 127);
        assert_eq!(GSM_EXTENDED.chars().count(), 10);
    }

    #[test]
    fn a_page_is_one_sms_with_the_accept_link_when_it_fits() {
        let messages = Twilio::render(notification("Printer on fire"), channel(SMS)).unwrap();
        assert_eq!(messages.len(), 1);
        let request = http(&messages[0]);
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
        assert_eq!(header(request, "content-type"), "application/x-www-form-urlencoded");
        assert_eq!(
            header(request, "authorization"),
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp5b3VyX2F1dGhfdG9rZW4="
        );
        assert_eq!(header(request, "idempotency-key"), "inbound-42-7");
        assert_eq!(
            fields(request),
            [
                ("To".into(), "+4791234567".into()),
                ("From".into(), "+15005550006".into()),
                (
                    "Body".into(),
                    "inbound #42 urgent: Printer on fire Reply ACK 42 to accept. https://inbound.example.com/ack/eyJpIjo0MiwiYSI6ImEiLCJwIjoiYWRhIn0.c2lnbmF0dXJl".into()
                ),
            ]
        );
        assert_eq!(
            std::str::from_utf8(&request.body).unwrap(),
            "To=%2B4791234567&From=%2B15005550006&Body=inbound+%2342+urgent%3A+Printer+on+fire+Reply+ACK+42+to+accept.+https%3A%2F%2Finbound.example.com%2Fack%2FeyJpIjo0MiwiYSI6ImEiLCJwIjoiYWRhIn0.c2lnbmF0dXJl"
        );
    }

    #[test]
    fn the_documented_sample_is_what_renders() {
        let summary = "Printer on fire on floor 3: smoke in the corridor, the fire brigade is called and the floor is being evacuated; facilities asks everyone on 3 to leave by the east stairs and to wait at the assembly point until told otherwise";
        let messages = Twilio::render(notification(summary), channel(SMS)).unwrap();
        let request = http(&messages[0]);
        let body = field(request, "Body");
        let rendered = format!(
            "{} https://api.twilio.com{}\nauthorization: {}\ncontent-type: {}\nidempotency-key: {}\n\n{}\n\n# The SMS, {} characters in {} GSM-7 segments (the summary cut to fit):\n{}\n",
            request.method,
            request.url,
            header(request, "authorization"),
            header(request, "content-type"),
            header(request, "idempotency-key"),
            std::str::from_utf8(&request.body).unwrap(),
            body.chars().count(),
            segments(&body),
            body,
        );
        assert_eq!(
            rendered,
            include_str!("../../../docs/examples/twilio-sms.txt"),
            "docs/examples/twilio-sms.txt is out of date; it renders as:\n{rendered}"
        );
    }

    #[test]
    fn a_long_summary_is_cut_never_the_instruction() {
        for summary in [
            "Printer on fire ".repeat(40),
            "Prix en € [urgent] {x} ".repeat(30),
            "Skriveren brenner 🔥 på kontoret ".repeat(20),
            "Принтер горит ".repeat(40),
        ] {
            let messages = Twilio::render(notification(&summary), channel(SMS)).unwrap();
            let body = field(http(&messages[0]), "Body");
            assert!(segments(&body) <= 2, "{} segments: {body}", segments(&body));
            assert!(body.starts_with("inbound #42 urgent: "), "{body}");
            assert!(body.contains("... Reply ACK 42 to accept."), "{body}");
            let kept = body["inbound #42 urgent: ".len()..].split("...").next().unwrap();
            assert!(kept.chars().count() >= 40, "as much summary as fits: {body}");
            assert!(summary.starts_with(kept), "{body}");
        }
    }

    #[test]
    fn the_link_is_left_out_when_the_summary_would_lose_too_much() {
        // UCS-2 leaves 134 units: no room for a link and the summary.
        let messages = Twilio::render(
            notification("Skriveren brenner 🔥 på kontoret i tredje etasje"),
            channel(SMS),
        )
        .unwrap();
        let body = field(http(&messages[0]), "Body");
        assert_eq!(
            body,
            "inbound #42 urgent: Skriveren brenner 🔥 på kontoret i tredje etasje Reply ACK 42 to accept."
        );
        // A short GSM summary keeps the link even when it is long.
        let mut page = notification("Printer on fire");
        page.accept_url = Some(format!("https://inbound.example.com/ack/{}", "x".repeat(200)));
        let messages = Twilio::render(page, channel(SMS)).unwrap();
        let body = field(http(&messages[0]), "Body");
        assert!(body.ends_with(&"x".repeat(200)) && segments(&body) == 2, "{body}");
        // Without a priority, the number alone.
        let mut page = notification("Printer on fire");
        page.incident.priority = None;
        page.accept_url = None;
        let messages = Twilio::render(page, channel(SMS)).unwrap();
        assert_eq!(
            field(http(&messages[0]), "Body"),
            "inbound #42: Printer on fire Reply ACK 42 to accept."
        );
    }

    #[test]
    fn a_messaging_service_is_named_when_set() {
        let settings = r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006", "messaging_service_sid": "MG0123456789abcdef0123456789abcdef"}"#;
        let messages = Twilio::render(notification("Printer on fire"), channel(settings)).unwrap();
        assert_eq!(
            field(http(&messages[0]), "MessagingServiceSid"),
            "MG0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn a_resolved_notice_is_an_sms_and_calls_nobody() {
        let mut page = notification(&"Printer on fire ".repeat(40));
        page.kind = Kind::Resolved;
        let messages = Twilio::render(page.clone(), channel(SMS)).unwrap();
        let body = field(http(&messages[0]), "Body");
        assert!(body.starts_with("inbound #42 resolved: Printer on fire"), "{body}");
        assert!(segments(&body) <= 2 && body.ends_with("..."), "{body}");
        page.incident.summary = "Printer on fire".into();
        let messages = Twilio::render(page.clone(), channel(SMS)).unwrap();
        assert_eq!(field(http(&messages[0]), "Body"), "inbound #42 resolved: Printer on fire");
        assert!(Twilio::render(page, channel(VOICE)).unwrap().is_empty());
    }

    #[test]
    fn a_voice_page_is_a_call_that_says_it_twice() {
        let messages = Twilio::render(notification("Printer on fire."), channel(VOICE)).unwrap();
        assert_eq!(messages.len(), 1);
        let request = http(&messages[0]);
        assert_eq!(request.url, format!("/2010-04-01/Accounts/{SID}/Calls.json"));
        assert_eq!(header(request, "content-type"), "application/x-www-form-urlencoded");
        let say = "inbound incident 42, urgent: Printer on fire. Press nothing; reply by SMS ACK 42 to accept.";
        assert_eq!(
            fields(request),
            [
                ("To".into(), "+4791234567".into()),
                ("From".into(), "+15005550006".into()),
                (
                    "Twiml".into(),
                    format!(
                        "<Response><Say>{say}</Say><Pause length=\"1\"/><Say>{say}</Say></Response>"
                    )
                ),
            ]
        );
    }

    #[test]
    fn twiml_escapes_what_xml_needs_and_cuts_the_summary() {
        let hostile =
            "</Say><Play>https://evil.example/a.mp3</Play><Say> & \"quotes\" 'too' \u{1}\u{FFFF}";
        let messages = Twilio::render(notification(hostile), channel(VOICE)).unwrap();
        let twiml = field(http(&messages[0]), "Twiml");
        assert_eq!(twiml.matches("<Say>").count(), 2, "{twiml}");
        assert_eq!(twiml.matches("</Say>").count(), 2, "{twiml}");
        assert!(!twiml.contains("<Play>"), "{twiml}");
        assert!(twiml.contains(
            "&lt;/Say&gt;&lt;Play&gt;https://evil.example/a.mp3&lt;/Play&gt;&lt;Say&gt; &amp; &quot;quotes&quot; &apos;too&apos;"
        ), "{twiml}");
        assert!(!twiml.contains('\u{1}') && !twiml.contains('\u{FFFF}'), "{twiml}");

        let messages = Twilio::render(notification(&"word ".repeat(500)), channel(VOICE)).unwrap();
        let twiml = field(http(&messages[0]), "Twiml");
        let say = twiml.split("<Say>").nth(1).unwrap().split("</Say>").next().unwrap();
        assert!(say.ends_with("word... Press nothing; reply by SMS ACK 42 to accept."), "{say}");
        assert!(say.chars().count() <= VOICE_SUMMARY_MAX + 100, "{}", say.chars().count());
        assert!(twiml.chars().count() <= TWIML_MAX);

        // Escapes six times the summary's length: cut shorter to stay within.
        let messages = Twilio::render(notification(&"\"".repeat(500)), channel(VOICE)).unwrap();
        let twiml = field(http(&messages[0]), "Twiml");
        assert!(twiml.chars().count() <= TWIML_MAX, "{}", twiml.len());
        assert!(twiml.contains(&"&quot;".repeat(100)), "{twiml}");
    }

    #[test]
    fn a_digest_is_one_sms_within_two_segments() {
        let page = |id: u64| {
            let mut page = notification("Printer on fire");
            page.incident.id = id;
            page
        };
        let digest = |count: u64| Digest {
            id: "inbound-digest-3".into(),
            recipient: Recipient {
                person: Some("ada".into()),
                address: Some("+4791234567".into()),
            },
            notifications: (1000..1000 + count).map(page).collect(),
            sent_at: 0,
        };
        let messages = Twilio::render_digest(digest(3), channel(SMS)).unwrap();
        assert_eq!(messages.len(), 1);
        let request = http(&messages[0]);
        assert_eq!(header(request, "idempotency-key"), "inbound-digest-3");
        assert_eq!(
            field(request, "Body"),
            "inbound: 3 more incidents from support: #1000 #1001 #1002. Reply ACK <id> to accept one."
        );
        let messages = Twilio::render_digest(digest(500), channel(SMS)).unwrap();
        let body = field(http(&messages[0]), "Body");
        assert!(segments(&body) <= 2, "{body}");
        assert!(
            body.starts_with("inbound: 500 more incidents from support: #1000 #1001"),
            "{body}"
        );
        assert!(body.ends_with(" more. Reply ACK <id> to accept one."), "{body}");

        let mut resolved = digest(2);
        for n in &mut resolved.notifications {
            n.kind = Kind::Resolved;
        }
        let messages = Twilio::render_digest(resolved.clone(), channel(SMS)).unwrap();
        assert_eq!(
            field(http(&messages[0]), "Body"),
            "inbound: 2 incidents resolved from support: #1000 #1001."
        );
        assert!(Twilio::render_digest(resolved, channel(VOICE)).unwrap().is_empty());
        let messages = Twilio::render_digest(digest(12), channel(VOICE)).unwrap();
        let twiml = field(http(&messages[0]), "Twiml");
        assert!(twiml.contains(
            "<Say>inbound: 12 more incidents from support: incidents 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009 and 2 more. Press nothing; reply by SMS ACK and an incident number to accept one.</Say>"
        ), "{twiml}");
    }

    #[test]
    fn phone_numbers_are_e164() {
        for good in ["+4791234567", "+15005550006", "+12345678", "+123456789012345"] {
            assert!(e164(good), "{good}");
        }
        for bad in [
            "4791234567",
            "+47 912 34 567",
            "+1234567",
            "+1234567890123456",
            "+0791234567",
            "+47-91234567",
            "",
            "+",
        ] {
            assert!(!e164(bad), "{bad:?}");
        }
        let mut page = notification("Printer on fire");
        page.recipient.address = Some("0047 912 34 567".into());
        let error = Twilio::render(page.clone(), channel(SMS)).unwrap_err();
        assert_eq!(error.code, "invalid-address");
        assert!(error.message.contains("E.164"), "{}", error.message);
        page.recipient = Recipient { person: None, address: None };
        assert_eq!(Twilio::render(page, channel(SMS)).unwrap_err().code, "no-address");
    }

    #[test]
    fn settings_are_checked() {
        for (settings, mentions) in [
            (r#"{"from": "+15005550006"}"#, "missing field `account_sid`"),
            (r#"{"account_sid": "AC0123456789abcdef0123456789abcdef"}"#, "missing field `from`"),
            (r#"{"account_sid": "AC123", "from": "+15005550006"}"#, "account_sid \"AC123\""),
            (
                r#"{"account_sid": "SK0123456789abcdef0123456789abcdef", "from": "+15005550006"}"#,
                "not a Twilio account SID",
            ),
            (
                r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "15005550006"}"#,
                "E.164",
            ),
            (
                r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006", "mode": "fax"}"#,
                "unknown variant `fax`",
            ),
            (
                r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006", "messaging_service_sid": "MG1"}"#,
                "Messaging Service SID",
            ),
            (
                r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "from": "+15005550006", "token": "x"}"#,
                "unknown field `token`",
            ),
        ] {
            let error = Twilio::render(notification("x"), channel(settings)).unwrap_err();
            assert_eq!(error.code, "invalid-settings", "{settings}");
            assert!(error.message.contains(mentions), "{settings}: {}", error.message);
        }
        let mut without = channel(SMS);
        without.secret = None;
        let error = Twilio::render(notification("x"), without.clone()).unwrap_err();
        assert_eq!(error.code, "missing-secret");
        assert!(error.message.contains("auth token"), "{}", error.message);
        without.secret = Some("has a space".into());
        let error = Twilio::render(notification("x"), without).unwrap_err();
        assert_eq!(error.code, "missing-secret");
        assert!(!error.message.contains("has a space"), "{}", error.message);
    }

    #[test]
    fn form_encoding_escapes_everything_but_unreserved_bytes() {
        assert_eq!(
            form(&[("Body", "a b&c=d+e%f/ø€\n")]),
            "Body=a+b%26c%3Dd%2Be%25f%2F%C3%B8%E2%82%AC%0A"
        );
        assert_eq!(decode("a+b%26c%3Dd%2Be%25f%2F%C3%B8%E2%82%AC%0A"), "a b&c=d+e%f/ø€\n");
    }
}
