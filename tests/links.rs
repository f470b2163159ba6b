//! End to end: an incident's `url` and links are absolute http(s) URLs
//! without control characters, whoever supplies them: a plugin's call that
//! passes anything else is refused and stores nothing, and the Zendesk
//! plugin leaves out a ticket link the host would refuse, saying so in the
//! details, rather than losing the ticket.

mod support;

use serde_json::Value;
use support::{Host, plugins_config, ticket, zendesk_config};

const HOSTILE_KEY: &str = "hostile-key-0123456789abcdefghij";

/// Links a sender or a plugin might pass that a console must never render
/// as a link.
const BAD_URLS: [&str; 7] = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "file:///etc/passwd",
    "data:text/html;base64,PHNjcmlwdD4=",
    "https://",
    "http://a\r\nSet-Cookie: x=1",
    "https://example.com/\u{202e}fdp.exe",
];

#[test]
fn a_zendesk_ticket_with_a_bad_link_gets_its_incident_without_the_link() {
    let host = Host::start(&zendesk_config(""));
    for (id, link) in (1..).zip(BAD_URLS) {
        let mut body = ticket(id, "Open");
        body["link"] = Value::from(link);
        let (status, answer) = host.zendesk(&body);
        assert_eq!(
            (status, answer["action"].as_str()),
            (202, Some("created")),
            "{link:?}: {answer}"
        );
        let incident = &answer["incident"];
        assert_eq!(incident["url"], Value::Null, "{link:?} was kept: {answer}");
        let details = incident["details"].as_str().unwrap();
        assert!(
            details.lines().last().unwrap().starts_with("Link left out: "),
            "{link:?}: the details must say the link was left out: {details}"
        );
        assert!(!details.contains('\r'), "{link:?}: {details:?}");
    }
    let mut body = ticket(100, "Open");
    body["link"] = Value::from("HTTPS://EXAMPLE.ZENDESK.COM/agent/tickets/100");
    let (status, answer) = host.zendesk(&body);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["incident"]["url"], "HTTPS://EXAMPLE.ZENDESK.COM/agent/tickets/100");
}

#[test]
fn a_plugin_cannot_give_an_incident_a_url_or_link_that_is_not_http() {
    let host = Host::start(&plugins_config(&[("hostile", "test_hostile", HOSTILE_KEY)]));
    let path = format!("/api/v1/events/hostile/{HOSTILE_KEY}");
    for url in BAD_URLS {
        for command in ["url", "link"] {
            let (status, _, answer) =
                host.post_with_headers(&path, &[], format!("{command} {url}"));
            assert_ne!(status, 202, "{command} {url:?} was accepted: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("url") && !message.contains('\r'),
                "{command} {url:?}: the message must name the url, escaped: {answer}"
            );
        }
    }
    assert!(host.all_incidents().is_empty(), "a refused url was stored");
    for command in ["url", "link"] {
        let (status, _, answer) =
            host.post_with_headers(&path, &[], format!("{command} HTTPS://Example.com/a?b#c"));
        assert_eq!(status, 202, "{command}: an upper-case https URL is fine: {answer}");
    }
}
