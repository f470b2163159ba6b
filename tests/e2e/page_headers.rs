//! End to end: every HTML answer the host gives, the console's pages and
//! error pages and the one-click link pages (`/ack/<token>`) alike, carries
//! the same Content-Security-Policy (no script but the host's own, no
//! framing), `X-Frame-Options: DENY` and `X-Content-Type-Options: nosniff`.
//! A link page sends no referrer (its URL holds a token); the console sends
//! one to itself only (its forms' `Origin` is checked).

use crate::support;

use inbound::notify::links::{Claims, LinkAction, LinkSigner};
use reqwest::blocking::{Client, Response};
use support::{Host, console_sign_in, cookie, plugin_wasm, ticket, zendesk_config};

const LINK_SECRET: &str = "link-secret-0123456789abcdefghij";

/// Links signed with [`LINK_SECRET`], and ada, whom they were sent to.
/// Nothing listens on port 9: nothing is sent.
fn links_config() -> String {
    format!(
        r#"
[notifications]
link_secret = "{LINK_SECRET}"

[[channels]]
name = "ops-webhook"
plugin = "{webhook}"
url = "http://127.0.0.1:9/inbound"
signing_secret = "webhook-secret-0123456789abcdef"

[[people]]
name = "ada"
contacts = [{{ channel = "ops-webhook", address = "ada" }}]
"#,
        webhook = plugin_wasm("notify_webhook").display()
    )
}

/// A link to `action` incident `incident` sent to ada, signed as the host
/// signs them.
fn link(secret: &str, incident: u64, action: LinkAction, expires: u64) -> String {
    let (person, channel) = ("ada".into(), "ops-webhook".into());
    let claims = Claims { incident, action, person, channel, expires };
    format!("/ack/{}", LinkSigner::new(secret).sign(&claims))
}

fn in_a_day() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    now.as_secs() + 86_400
}

/// What a browser must be told about an HTML answer.
fn assert_page_headers(what: &str, answer: Response, status: u16, referrer: &str) {
    let headers = answer.headers().clone();
    let header = |name: &str| {
        headers.get(name).map(|value| value.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert_eq!(answer.status().as_u16(), status, "{what}: {headers:?}");
    assert!(header("content-type").starts_with("text/html"), "{what}: {headers:?}");
    let policy = header("content-security-policy");
    for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{what}: no {directive} in {policy:?}");
    }
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), referrer, "{what}");
}

#[test]
fn every_html_answer_forbids_framing_foreign_scripts_and_sniffing() {
    let host = Host::start(&zendesk_config(&links_config()));
    let (status, created) = host.zendesk(&ticket(1, "New"));
    assert_eq!(status, 202, "{created}");
    let id = created["incident"]["id"].as_u64().unwrap();
    let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = console_sign_in(&host, support::TOKEN, None);
    let session = format!("inbound_session={}", cookie(&signed_in, "inbound_session"));
    let console = |path: &str| http.get(host.url(path)).header("cookie", &session).send().unwrap();

    let console_pages = [
        ("the sign-in form", http.get(host.url("/ui/sign-in")).send().unwrap(), 200),
        ("a wrong sign-in", console_sign_in(&host, "not-a-token-0123456789abcdef", None), 401),
        ("the incident list", console("/ui/"), 200),
        ("an incident", console(&format!("/ui/incidents/{id}")), 200),
        ("an unknown incident", console("/ui/incidents/999"), 404),
        ("a bad incident id", console("/ui/incidents/x"), 400),
        ("an unknown page", console("/ui/nowhere"), 404),
    ];
    for (what, answer, status) in console_pages {
        assert_page_headers(what, answer, status, "same-origin");
    }

    let get = |path: &str| http.get(host.url(path)).send().unwrap();
    let accept = link(LINK_SECRET, id, LinkAction::Accept, in_a_day());
    let forged = link("another-secret-0123456789abcdefgh", id, LinkAction::Accept, in_a_day());
    let expired = link(LINK_SECRET, id, LinkAction::Resolve, 1);
    let no_incident = link(LINK_SECRET, 999, LinkAction::Accept, in_a_day());
    let link_pages = [
        ("a link's confirmation", get(&accept), 200),
        ("a link's action", http.post(host.url(&accept)).send().unwrap(), 200),
        ("a forged link", get(&forged), 403),
        ("a mangled link", get("/ack/not-a-token"), 403),
        ("an expired link", get(&expired), 410),
        ("a link to no incident", get(&no_incident), 404),
    ];
    for (what, answer, status) in link_pages {
        assert_page_headers(what, answer, status, "no-referrer");
    }
    assert_eq!(host.incident(&serde_json::json!(id))["incident"]["status"], "accepted");
}
