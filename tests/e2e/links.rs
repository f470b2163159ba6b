//! End to end: an incident's `url` and links are absolute http(s) URLs
//! without control characters, whoever supplies them: a plugin's call that
//! passes anything else is refused and stores nothing, and the Zendesk
//! plugin leaves out a ticket link the host would refuse, saying so in the
//! details, rather than losing the ticket. And a one-click accept link,
//! even one signed with the right secret, acts only for someone configured.

use crate::support;

use inbound::notify::links::{Claims, LinkAction, LinkSigner};
use serde_json::{Value, json};
use support::{Host, plugin_wasm, plugins_config, ticket, zendesk_config};

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

const LINK_SECRET: &str = "8d2f61c4a09b7e35d1c6f08a2b94e7d3";

/// Whoever learns the link secret (the shipped example, a leak) can sign
/// any claims, since the format is public. The host still acts only in the
/// name of a person it has, through a channel it has: a correctly signed
/// link naming anyone else, or 8,000 characters of a name, is refused like
/// a changed one (`403`), and the incident stays as it was.
#[test]
fn a_correctly_signed_link_naming_nobody_configured_is_refused() {
    let config = zendesk_config(&format!(
        r#"
[notifications]
link_secret = "{LINK_SECRET}"

[[channels]]
name = "hook"
plugin = "{webhook}"
url = "http://127.0.0.1:9/hook"
signing_secret = "webhook-secret-0123456789abcdef"

[[people]]
name = "ada"
contacts = [{{ channel = "hook", address = "ada" }}]
"#,
        webhook = plugin_wasm("notify_webhook").display(),
    ));
    let host = Host::start(&config);
    let (status, answer) = host.zendesk(&ticket(1, "New"));
    assert_eq!(status, 202, "{answer}");
    let id = answer["incident"]["id"].as_u64().unwrap();
    let signer = LinkSigner::new(LINK_SECRET);
    let link = |person: &str, channel: &str| {
        let claims = Claims {
            incident: id,
            action: LinkAction::Accept,
            person: person.into(),
            channel: channel.into(),
            expires: 4_102_444_800, // 2100
        };
        format!("/ack/{}", signer.sign(&claims))
    };
    for forged in [
        link("mallory", "hook"),
        link(&"m".repeat(8000), "hook"),
        link("ada", "pager"),
        link("channel pager", "pager"),
    ] {
        assert_eq!(host.get_text(&forged, None).0, 403);
        let (status, _, _) = host.post_with_headers(&forged, &[], "");
        assert_eq!(status, 403);
    }
    assert_eq!(host.incident(&json!(id))["incident"]["status"], "pending");

    // The same secret signing for ada, who is configured, works.
    let (status, _, _) = host.post_with_headers(&link("ada", "hook"), &[], "");
    assert_eq!(status, 200);
    let detail = host.incident(&json!(id));
    assert_eq!(detail["incident"]["status"], "accepted");
}
