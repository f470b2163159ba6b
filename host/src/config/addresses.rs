//! What a channel's destination may be and what an error may show of it:
//! an http(s) URL (shown by its origin only, as the rest may be a secret)
//! and email addresses.

/// An absolute http(s) URL with a host: the channel's origin. A channel
/// URL may hold a secret (a Slack webhook's path, a token in the query, a
/// password), and errors reach the terminal, the reload answer and the log:
/// they show only the scheme, host and port, and nothing of a URL that does
/// not parse.
pub(super) fn check_http_url(text: &str) -> Result<(), String> {
    let parsed = url::Url::parse(text).map_err(|error| {
        format!("the value is not a URL ({error}; not shown, as it may hold a secret); write e.g. \"https://hooks.example.com/inbound\"")
    })?;
    let shown = origin_of(&parsed);
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{shown} is not an http:// or https:// URL; notifications are sent over HTTP(S) only"
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown} has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{shown} (the rest not shown) has credentials in it; put them in the channel's signing_secret or settings instead"
        ));
    }
    Ok(())
}

/// `scheme://host:port` of a URL, what may be shown of it: never its user
/// name, password, path or query.
fn origin_of(url: &url::Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        (None, _) => format!("a {}: URL", url.scheme()),
    }
}

/// `local@domain`, without spaces: enough to catch a wrong value here; the
/// SMTP transport parses it fully when it sends. (Not lettre's parser: this
/// module also builds on its own, for the `config` fuzz target.)
pub(super) fn is_email_address(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        }
        None => false,
    }
}

/// `address` or `Name <address>`.
pub(super) fn is_mailbox(text: &str) -> bool {
    let text = text.trim();
    match (text.rfind('<'), text.strip_suffix('>')) {
        (Some(open), Some(inner)) => is_email_address(&inner[open + 1..]),
        _ => is_email_address(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_checked_loosely() {
        assert!(is_email_address("ada@example.com"));
        assert!(is_mailbox("inbound <inbound@example.com>"));
        assert!(is_mailbox("inbound@example.com"));
        for bad in ["ada", "@example.com", "ada@", "a da@example.com", "a@b@c", "x <y>"] {
            assert!(!is_mailbox(bad), "{bad}");
        }
    }

    #[test]
    fn only_absolute_http_urls_are_channel_destinations() {
        assert!(check_http_url("https://hooks.slack.com/services/x").is_ok());
        assert!(check_http_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_http_url("ftp://example.com/").unwrap_err().contains("http"));
        assert!(check_http_url("hooks.slack.com").is_err());
        assert!(check_http_url("https://user:pw@example.com/").is_err());
    }

    /// What is wrong is said with the origin only: no user name, password,
    /// path or query, and nothing of a value that does not parse.
    #[test]
    fn url_errors_show_no_credentials_path_or_query() {
        let error =
            check_http_url("https://hook-user:s3cret@hooks.example.com/T0/B0/XyZ?token=abc")
                .unwrap_err();
        assert!(error.starts_with("https://hooks.example.com:443 "), "{error}");
        assert!(error.contains("has credentials in it"), "{error}");
        let error = check_http_url("ftp://u:s3cret@files.example.com:2121/T0/B0/XyZ?token=abc")
            .unwrap_err();
        assert!(error.starts_with("ftp://files.example.com:2121 is not an http"), "{error}");
        let error = check_http_url("mailto:s3cret@example.com?subject=XyZ").unwrap_err();
        assert!(error.starts_with("a mailto: URL is not an http"), "{error}");
        let error = check_http_url("https://u:s3cret@[::1/T0/B0/XyZ").unwrap_err();
        assert!(error.starts_with("the value is not a URL (invalid IPv6 address;"), "{error}");
        let error = check_http_url("s3cret/XyZ?token=abc").unwrap_err();
        assert!(error.contains("not a URL"), "{error}");
        for text in [
            "https://hook-user:s3cret@hooks.example.com/T0/B0/XyZ?token=abc",
            "ftp://u:s3cret@files.example.com:2121/T0/B0/XyZ?token=abc",
            "mailto:s3cret@example.com?subject=XyZ",
            "https://u:s3cret@[::1/T0/B0/XyZ",
            "s3cret/XyZ?token=abc",
            "https://u:s3cret@/XyZ",
        ] {
            let error = check_http_url(text).unwrap_err();
            for secret in ["s3cret", "hook-user", "XyZ", "token=abc"] {
                assert!(!error.contains(secret), "{secret} shown in {error:?}");
            }
        }
    }
}
