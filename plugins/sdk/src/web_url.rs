//! Whether the host will accept a URL as an incident's `url` or a link's.
//!
//! The host parses URLs with the `url` crate and accepts absolute `http` and
//! `https` URLs with a host and no control, space or bidirectional-override
//! characters; a call that passes any other URL is refused. This check is a
//! deliberately conservative subset of that rule, written without the `url`
//! crate (its IDNA tables would double a plugin's size): whatever it accepts
//! the host accepts, and a plugin can leave out a link it rejects instead of
//! failing the whole event. It rejects some URLs the host would take
//! (user names, IP v6 literals, non-ASCII host names).

/// `Ok` when the host will accept `url`; otherwise why not, for a message.
pub fn check(url: &str) -> Result<(), String> {
    if let Some(bad) = url.chars().find(|c| is_forbidden(*c)) {
        return Err(format!("contains the character {bad:?}"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("is not an absolute URL (scheme://host/...)".to_string());
    };
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(format!("has the scheme {scheme:?}; only http and https are accepted"));
    }
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if !is_plain_host_name(host) {
        return Err(format!("has the host {host:?}; expected a name like example.com"));
    }
    if let Some(port) = port.filter(|port| !is_port_number(port)) {
        return Err(format!("has the port {port:?}; expected a number up to 65535"));
    }
    Ok(())
}

/// Characters that could hide or forge what a reader sees: control
/// characters (CR and LF among them), spaces, and bidirectional overrides.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn is_port_number(port: &str) -> bool {
    port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
}

/// Dot-separated labels of ASCII letters, digits, underscores and inner
/// hyphens, as host names are written (underscores appear in internal names).
fn is_plain_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn http_and_https_urls_in_any_case_are_accepted() {
        for url in [
            "https://example.zendesk.com/agent/tickets/42",
            "http://prom:9090/graph?g0.expr=up&x=1#top",
            "HTTPS://EXAMPLE.COM",
            "Http://localhost/ø",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn other_schemes_controls_and_hostless_urls_are_refused() {
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<b>x</b>",
            "https://",
            "http://a\r\nb",
            "http://a/\tb",
            "https://a b",
            "https://example.com/\u{202e}gpj.exe",
            "ftp://example.com/",
            "example.com/tickets/1",
            "https://-bad-.example",
            "https://example.com:99999/",
            "https://example.com:/",
            "https://user@example.com/",
            "",
        ] {
            assert!(check(url).is_err(), "{url:?} was accepted");
        }
    }
}
