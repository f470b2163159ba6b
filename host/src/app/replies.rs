//! SMS replies that act: a person answers a page with "ACK 42" (or "1" for
//! the newest page they got), and the incident is accepted as them.
//!
//! The provider (Twilio, or one that signs as it does) posts the reply to
//! `POST /api/v1/channels/{name}/inbound`, signed with the channel's secret
//! (its auth token): `X-Twilio-Signature` is base64(HMAC-SHA1(token, the URL
//! it posted to, then every form parameter's name and value, sorted by
//! name)). The sender's number (E.164) finds the person by their contact
//! on that channel; only a responder may act. An unknown number is refused,
//! as is a bad signature, and nothing changes. Twilio's scheme signs no
//! time, so a captured reply could be replayed: the provider's webhook must
//! be HTTPS (see docs/notifications.md).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// What a reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Accept incident n, or the newest the person was paged for.
    Accept(Option<u64>),
    Resolve(Option<u64>),
}

/// Reads a reply: `ACK 42`, `ACCEPT 42`, `ack`, `1` (the newest page),
/// `RESOLVE 42`, `RES 42`, `2`. Case and surrounding spaces do not matter;
/// anything else is `None` (the person is told what works).
pub fn parse(body: &str) -> Option<Command> {
    let text = body.trim().to_ascii_uppercase();
    let mut words = text.split_whitespace();
    let verb = words.next()?;
    let id = match words.next() {
        Some(word) => Some(word.trim_start_matches('#').parse::<u64>().ok()?),
        None => None,
    };
    if words.next().is_some() {
        return None;
    }
    match (verb, id) {
        ("ACK" | "ACCEPT" | "A", id) => Some(Command::Accept(id)),
        ("RESOLVE" | "RES" | "R", id) => Some(Command::Resolve(id)),
        ("1", None) => Some(Command::Accept(None)),
        ("2", None) => Some(Command::Resolve(None)),
        _ => None,
    }
}

/// Whether `signature` is Twilio's for a POST of `params` to `url`, signed
/// with `secret`. Compared in constant time.
pub fn verify(secret: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(signed_text(url, params).as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The text Twilio signs: the URL, then each parameter's name and value,
/// sorted by name (then value, for repeated names).
fn signed_text(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut text = url.to_string();
    for (name, value) in sorted {
        text.push_str(name);
        text.push_str(value);
    }
    text
}

/// Whether two phone numbers are the same E.164 number (`+` and 8 to 15
/// digits), compared without spaces, dashes, dots or parentheses. Anything
/// else (a chat id, a user name) is never a match.
pub fn same_number(a: &str, b: &str) -> bool {
    let e164 = |s: &str| -> Option<String> {
        let kept: String =
            s.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
        let digits = kept.strip_prefix('+')?;
        (digits.len() >= 8 && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit()))
            .then_some(kept)
    };
    matches!((e164(a), e164(b)), (Some(a), Some(b)) if a == b)
}

/// A TwiML answer that texts `message` back to the sender.
pub fn twiml(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{escaped}</Message></Response>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_as_goalert_reads_them() {
        assert_eq!(parse("ACK 42"), Some(Command::Accept(Some(42))));
        assert_eq!(parse("  ack #42 "), Some(Command::Accept(Some(42))));
        assert_eq!(parse("1"), Some(Command::Accept(None)));
        assert_eq!(parse("Accept"), Some(Command::Accept(None)));
        assert_eq!(parse("resolve 7"), Some(Command::Resolve(Some(7))));
        assert_eq!(parse("2"), Some(Command::Resolve(None)));
        for nonsense in ["", "hello", "ACK forty", "ACK 4 2", "12"] {
            assert_eq!(parse(nonsense), None, "{nonsense:?}");
        }
    }

    /// Twilio's documented example (its "Validating Requests" page): the
    /// token `12345`, this URL and these parameters sign to this value.
    #[test]
    fn the_signature_is_twilios_documented_example() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(verify("12345", url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify("12346", url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify("12345", url, &params[1..], "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify("12345", url, &params, "not base64!"));
    }

    #[test]
    fn numbers_compare_without_formatting() {
        assert!(same_number("+47 123 45 678", "+4712345678"));
        assert!(!same_number("+4712345678", "+4712345679"));
        assert!(!same_number("", ""));
        assert!(same_number("+1 (415) 555-0100", "+14155550100"));
        // A chat id, or a number without its country code, is no phone number.
        assert!(!same_number("123456789", "123456789"));
        assert!(!same_number("4712345678", "+4712345678"));
    }

    #[test]
    fn twiml_escapes_the_message() {
        assert!(twiml("#42 <accepted> & done").contains("#42 &lt;accepted&gt; &amp; done"));
    }
}
