//! The URLs an incident may carry, as its `url` or a link's: absolute `http`
//! or `https` URLs with a host, parsed with the `url` crate, and no control,
//! space or bidirectional-override characters (the crate would silently drop
//! CR, LF and tabs, so they are refused before parsing). Anything else, such
//! as `javascript:`, `file:` or `data:`, could run or reveal something when a
//! person clicks it in a console or a notification.

/// `Ok` for an acceptable URL; otherwise why not, to show the plugin author
/// after "is not an absolute http(s) URL".
pub fn check(url: &str) -> Result<(), String> {
    if let Some(bad) = url.chars().find(|c| is_forbidden(*c)) {
        return Err(format!("contains the character {bad:?}"));
    }
    let parsed = url::Url::parse(url).map_err(|error| format!("cannot be parsed: {error}"))?;
    // The crate lower-cases the scheme: HTTPS://x is https.
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("has the scheme {:?}", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_string());
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn absolute_http_and_https_urls_in_any_case_are_accepted() {
        for url in [
            "https://example.zendesk.com/agent/tickets/42",
            "http://prom:9090/graph?g0.expr=up#top",
            "HTTPS://EXAMPLE.COM",
            "https://[::1]:8443/x",
            "https://bücher.example/ø",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn other_schemes_control_characters_and_hostless_urls_are_refused() {
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "file:///etc/passwd",
            "data:text/html;base64,PGI+",
            "https://",
            "http://",
            "http://a\r\nb",
            "http://a\tb",
            "https://a b",
            " https://example.com",
            "https://example.com/\u{202e}gpj.exe",
            "ftp://example.com/",
            "/relative/path",
            "",
        ] {
            assert!(check(url).is_err(), "{url:?} was accepted");
        }
    }
}
