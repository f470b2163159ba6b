//! Turning stored values into what a page shows. Templates escape every value
//! they print; these helpers decide the rest: which URLs may become links,
//! how times, sizes and bodies read, and how much of a key is shown.

use super::assets;
use crate::roles::Role;
use crate::store::Millis;

/// What every page has around its content: assets and, once signed in, the
/// navigation and the sign-out form.
pub struct Chrome {
    pub css: &'static str,
    pub js: &'static str,
    pub nav: Option<Nav>,
}

pub struct Nav {
    pub who: String,
    pub role: &'static str,
    pub csrf: String,
    /// `incidents`, `failed`, `sources` or `audit`: marks the current section.
    pub section: &'static str,
    /// The sections shown are those the signed-in role may open.
    pub may_respond: bool,
    pub may_administer: bool,
}

impl Chrome {
    pub fn signed_out() -> Chrome {
        Chrome { css: assets::css_url(), js: assets::js_url(), nav: None }
    }

    pub fn signed_in(who: &str, role: Role, csrf: &str, section: &'static str) -> Chrome {
        let nav = Nav {
            who: who.to_string(),
            role: role.as_str(),
            csrf: csrf.to_string(),
            section,
            may_respond: role.allows(Role::Responder),
            may_administer: role.allows(Role::Admin),
        };
        Chrome { nav: Some(nav), ..Chrome::signed_out() }
    }
}

/// A URL from a sender or a plugin, as a page may show it: `href` is set
/// only for http(s) URLs, so `javascript:`, `data:` and the like stay text.
pub struct WebLink {
    pub text: String,
    pub href: Option<String>,
}

pub fn web_link(url: &str) -> WebLink {
    let trimmed = url.trim();
    let lower = trimmed.to_ascii_lowercase();
    let is_web = (lower.starts_with("https://") || lower.starts_with("http://"))
        && !trimmed.chars().any(|c| c.is_control() || c.is_whitespace());
    WebLink { text: url.to_string(), href: is_web.then(|| trimmed.to_string()) }
}

/// `2026-05-01 10:00:00 UTC`, and the RFC 3339 form for `<time datetime>`.
pub struct Time {
    pub text: String,
    pub iso: String,
}

pub fn time(millis: Millis) -> Time {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    let iso = humantime::format_rfc3339_millis(at).to_string();
    let text = format!("{} {} UTC", &iso[..10], &iso[11..19]);
    Time { text, iso }
}

/// `512 B`, `1.5 KB`, `2.0 MB`.
pub fn size(bytes: usize) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

/// A received body as a person reads it: indented when it is JSON, as
/// received otherwise.
pub fn readable_body(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| body.to_string())
}

/// A webhook URL with its key hidden but for the last four characters.
pub fn masked_webhook_url(url: &str, key: &str) -> String {
    let shown: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    url.replace(key, &format!("••••••••{shown}"))
}

/// At most `max` characters of `text`, without control characters: what a
/// provider or a browser sent, fit for the log and the audit trail.
pub fn cut(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_become_links() {
        assert!(web_link("https://example.com/a").href.is_some());
        assert!(web_link("HTTP://example.com").href.is_some());
        for hostile in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.example",
            "https://exa mple.com",
            "https://example.com/\u{0}",
            "",
        ] {
            let link = web_link(hostile);
            assert!(link.href.is_none(), "{hostile:?} became a link");
            assert_eq!(link.text, hostile);
        }
    }

    #[test]
    fn times_read_in_utc() {
        let shown = time(1_777_629_600_000);
        assert_eq!(shown.text, "2026-05-01 10:00:00 UTC");
        assert_eq!(shown.iso, "2026-05-01T10:00:00.000Z");
    }

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1500), "1.5 KB");
        assert_eq!(size(2_000_000), "2.0 MB");
    }

    #[test]
    fn json_bodies_are_indented_and_others_kept() {
        assert_eq!(readable_body(r#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(readable_body("not json"), "not json");
    }

    #[test]
    fn the_key_is_masked_but_its_end() {
        let url = "http://h/api/v1/events/zendesk/abcdefghij0123456789";
        assert_eq!(
            masked_webhook_url(url, "abcdefghij0123456789"),
            "http://h/api/v1/events/zendesk/••••••••6789"
        );
    }
}
