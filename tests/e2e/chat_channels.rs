//! End to end: the Teams, Mattermost and Discord notifiers. The real
//! binary, the real notifier components and a real Zendesk ticket webhook
//! that pages a person, posting to a fake of the three services
//! (`support/fake_chat.py`) that checks each message the way the service
//! does and answers as it does: Teams Workflows 202, Mattermost `ok`,
//! Discord 204, or Discord's 429 with `Retry-After` when told to.

use crate::notifications::{notifier, python};
use crate::support;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{Host, KEY, TOKEN, plugin_wasm, poll, storage_section, ticket, workspace_root};

const WAIT: Duration = Duration::from_secs(20);
const DISCORD_USER: &str = "123456789012345678";

/// The fake chat services, killed on drop.
struct FakeChat {
    child: Child,
    log: PathBuf,
    base: String,
    _dir: tempfile::TempDir,
}

impl FakeChat {
    /// Starts the fake; Discord answers its first `rate_limit_first`
    /// requests with 429 and `Retry-After: 1`.
    fn start(rate_limit_first: u32) -> FakeChat {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let port_file = dir.path().join("port");
        let child = Command::new(python())
            .arg(workspace_root().join("tests/e2e/support/fake_chat.py"))
            .args(["--port-file", port_file.to_str().unwrap()])
            .args(["--log", log.to_str().unwrap()])
            .args(["--rate-limit-first", &rate_limit_first.to_string()])
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fake chat services");
        assert!(poll(WAIT, || port_file.is_file()), "the fake chat services did not start");
        let port: u16 = std::fs::read_to_string(&port_file).unwrap().trim().parse().unwrap();
        FakeChat { child, log, base: format!("http://127.0.0.1:{port}"), _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in arrival order, with what it was answered.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Waits until `count` requests were answered 2xx; returns them all.
    fn wait_for_taken(&self, count: usize) -> Vec<Value> {
        let answered = || self.requests().iter().filter(|request| taken(request)).count();
        assert!(
            poll(WAIT, || answered() >= count),
            "expected {count} messages taken, got {:#?}",
            self.requests()
        );
        self.requests()
    }
}

impl Drop for FakeChat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the fake answered a request 2xx.
fn taken(request: &Value) -> bool {
    request["answered"].as_u64().is_some_and(|status| (200..300).contains(&status))
}

/// The JSON a request carried.
fn body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().expect("a body")).expect("a JSON body")
}

/// A Zendesk source whose policy pages ada at once through the channel
/// `chat`: the notifier `inbound_<plugin>.wasm` posting to `url`, where her
/// address is `address`. `settings` is the channel's `settings = ...` line,
/// or empty.
fn config(plugin: &str, url: &str, address: &str, settings: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{storage}

[[api.tokens]]
name = "ops"
token = "{TOKEN}"
role = "admin"

[integrations.zendesk]
plugin = "{zendesk}"

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "oncall"
key = "{KEY}"

[[escalation_policies]]
name = "oncall"

  [[escalation_policies.levels]]
  notify = ["person:ada"]

[notifications]
link_secret = "link-secret-0123456789abcdefghij"
retry_initial_ms = 200
retry_max_ms = 400

[[channels]]
name = "chat"
plugin = "{plugin}"
url = "{url}"
timeout_ms = 5000
{settings}

[[people]]
name = "ada"
contacts = [{{ channel = "chat", address = "{address}" }}]
"#,
        storage = storage_section(),
        zendesk = plugin_wasm("zendesk").display(),
        plugin = notifier(plugin),
    )
}

/// Posts a ticket webhook; the new incident's id.
fn page(host: &Host, ticket: &Value) -> u64 {
    let (code, answer) = host.zendesk(ticket);
    assert_eq!(code, 202, "{answer}");
    answer["incident"]["id"].as_u64().expect("an incident id")
}

/// The outcome of each delivery attempt in the incident's log, once there
/// are `count`.
fn outcomes(host: &Host, id: u64, count: usize) -> Vec<String> {
    let attempts = || -> Vec<String> {
        host.incident(&json!(id))["log"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["type"] == "notification_attempt")
            .map(|entry| entry["outcome"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert!(poll(WAIT, || attempts().len() >= count), "attempts: {:?}", attempts());
    attempts()
}

/// A page reaches Teams as the Adaptive Card the Workflows webhook
/// template posts: the incident's summary, the person mentioned by UPN,
/// Accept / Resolve / Open. Resolving sends a green card that mentions
/// nobody.
#[test]
fn a_page_reaches_teams_as_an_adaptive_card_that_mentions_the_person() {
    let chat = FakeChat::start(0);
    let host = Host::start(&config(
        "notify_teams",
        &chat.url("/workflows/8f2c4e6a/triggers/manual/paths/invoke"),
        "Ada Lovelace <ada@contoso.com>",
        "",
    ));
    let id = page(&host, &ticket(51, "New"));

    let requests = chat.wait_for_taken(1);
    let request = &requests[0];
    assert_eq!(request["service"], "teams", "{request:#}");
    assert_eq!(request["answered"], 202, "{request:#}");
    let key = request["headers"]["idempotency-key"].as_str().unwrap_or_default();
    assert!(key.starts_with("inbound-"), "{request:#}");
    let message = body(request);
    let card = &message["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["text"], format!("#{id} Printer on fire #51"));
    assert_eq!(
        card["body"][1]["text"],
        format!("<at>Ada Lovelace</at>: incident #{id} needs someone.")
    );
    assert_eq!(
        card["msteams"]["entities"][0],
        json!({
            "type": "mention",
            "text": "<at>Ada Lovelace</at>",
            "mentioned": {"id": "ada@contoso.com", "name": "Ada Lovelace"},
        })
    );
    let actions: Vec<&str> = card["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|action| action["title"].as_str())
        .collect();
    assert_eq!(actions, ["Accept", "Resolve", "Open"], "{card:#}");
    assert!(card["actions"][0]["url"].as_str().unwrap().contains("/ack/"), "{card:#}");
    assert_eq!(card["actions"][2]["url"], "https://example.zendesk.com/agent/tickets/51");

    let (code, answer) = host.post_json(&format!("/api/v1/incidents/{id}/resolve"), &json!({}));
    assert_eq!(code, 200, "{answer}");
    let requests = chat.wait_for_taken(2);
    let resolved = body(&requests[1]);
    let card = &resolved["attachments"][0]["content"];
    assert_eq!(card["body"][0]["text"], format!("Resolved: #{id} Printer on fire #51"));
    assert_eq!(card["body"][0]["color"], "Good");
    assert!(card.get("msteams").is_none(), "a resolved notice mentions nobody: {card:#}");
    assert_eq!(outcomes(&host, id, 2), ["sent", "sent"]);
}

/// A page reaches Mattermost mentioning the person's username at the start
/// of the post; the `@channel` and `<!here>` in the ticket's title stay
/// text and ping nobody.
#[test]
fn a_page_reaches_mattermost_mentioning_the_person_and_pinging_no_channel() {
    let chat = FakeChat::start(0);
    let host = Host::start(&config(
        "notify_mattermost",
        &chat.url("/hooks/xxgeneratedkeyxx"),
        "ada",
        r#"settings = { username = "inbound" }"#,
    ));
    let mut loud = ticket(52, "New");
    loud["title"] = json!("Printer on fire @channel <!here>");
    let id = page(&host, &loud);

    let requests = chat.wait_for_taken(1);
    let request = &requests[0];
    assert_eq!(request["service"], "mattermost", "{request:#}");
    assert_eq!(request["answered"], 200, "{request:#}");
    let post = body(request);
    let text = post["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("@ada, incident #{id} needs someone: Printer on fire @")),
        "{text}"
    );
    assert_eq!(post["username"], "inbound");
    for mention in ["@channel", "<!here>", "@here"] {
        assert!(!post.to_string().contains(mention), "{mention} would ping: {post:#}");
    }
    let attachment = &post["attachments"][0];
    assert_eq!(attachment["color"], "#d32f2f");
    assert!(attachment["title"].as_str().unwrap().contains("Printer on fire"), "{attachment:#}");
    assert_eq!(attachment["title_link"], "https://example.zendesk.com/agent/tickets/52");
    let links = attachment["text"].as_str().unwrap();
    assert!(links.contains("[Accept](") && links.contains("[Resolve]("), "{links}");
    assert_eq!(outcomes(&host, id, 1), ["sent"]);
}

/// Discord's rate limit: the first post is answered 429 with
/// `Retry-After: 1`; the host waits that long and the same message goes
/// through. It mentions the person by id and lets nobody else be pinged.
#[test]
fn a_rate_limited_discord_page_is_sent_after_retry_after() {
    let chat = FakeChat::start(1);
    let host = Host::start(&config(
        "notify_discord",
        &chat.url("/api/webhooks/112233445566778899/token-abc_DEF"),
        DISCORD_USER,
        "",
    ));
    let mut loud = ticket(53, "New");
    loud["title"] = json!("Printer on fire @everyone");
    let id = page(&host, &loud);

    let requests = chat.wait_for_taken(1);
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0]["answered"], 429, "{requests:#?}");
    assert_eq!(requests[1]["answered"], 204, "{requests:#?}");
    let waited = requests[1]["at"].as_f64().unwrap() - requests[0]["at"].as_f64().unwrap();
    assert!(waited >= 0.99, "Retry-After: 1 was honoured, but the retry came after {waited} s");
    assert_eq!(requests[0]["body"], requests[1]["body"], "the same message again");
    assert_eq!(
        requests[0]["headers"]["idempotency-key"], requests[1]["headers"]["idempotency-key"],
        "with the same idempotency key"
    );

    let message = body(&requests[1]);
    assert_eq!(message["content"], format!("<@{DISCORD_USER}>"));
    assert_eq!(message["allowed_mentions"], json!({"parse": [], "users": [DISCORD_USER]}));
    let embed = &message["embeds"][0];
    assert_eq!(embed["title"], format!("#{id} Printer on fire @everyone"));
    assert_eq!(embed["url"], "https://example.zendesk.com/agent/tickets/53");
    let description = embed["description"].as_str().unwrap();
    assert!(description.contains(&format!("Incident #{id} needs someone")), "{description}");
    assert!(
        description.contains("[Accept](") && description.contains("[Resolve]("),
        "{description}"
    );
    assert_eq!(outcomes(&host, id, 2), ["retrying", "sent"]);
}

/// `inbound plugin check` recognises the three notifiers.
#[test]
fn plugin_check_recognises_the_chat_notifiers() {
    for name in ["notify_teams", "notify_mattermost", "notify_discord"] {
        let (code, stdout, stderr) = support::inbound(&["plugin", "check", &notifier(name)], &[]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.starts_with("ok: ") && stdout.contains("implements inbound:notifier@0.2.0"),
            "{stdout}"
        );
    }
}

/// `inbound check` has each notifier render a sample with its channel's
/// settings: good ones pass, a wrong one is refused at its line.
#[test]
fn inbound_check_refuses_wrong_chat_settings_at_their_line() {
    let cases = [
        (
            "notify_teams",
            "/workflows/x",
            "ada@contoso.com",
            r#"{ prefix = "[Ops]" }"#,
            r#"{ colour = "red" }"#,
            "unknown field `colour`",
        ),
        (
            "notify_mattermost",
            "/hooks/x",
            "ada",
            r#"{ channel = "town-square" }"#,
            r#"{ icon_url = "ftp://x" }"#,
            "icon_url",
        ),
        (
            "notify_discord",
            "/api/webhooks/1/x",
            DISCORD_USER,
            r#"{ username = "pager" }"#,
            r#"{ username = "Discord pager" }"#,
            "clyde",
        ),
    ];
    for (plugin, path, address, good, bad, why) in cases {
        let url = format!("http://127.0.0.1:9{path}");
        for (settings, passes) in [(good, true), (bad, false)] {
            let text = config(plugin, &url, address, &format!("settings = {settings}"));
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("config.toml");
            std::fs::write(&file, &text).unwrap();
            let (code, stdout, stderr) =
                support::inbound(&["check", "--config", file.to_str().unwrap()], &[]);
            if passes {
                assert_eq!(code, 0, "{plugin} {settings}: {stdout}{stderr}");
                continue;
            }
            assert_eq!(code, 1, "{plugin} {settings} must fail: {stdout}");
            let line = text[..text.find("settings = ").unwrap()].matches('\n').count() + 1;
            let place = format!("config.toml:{line}: channels[0].settings (channel \"chat\")");
            assert!(stderr.contains(&place), "expected {place:?} in:\n{stderr}");
            assert!(stderr.contains(why), "expected {why:?} in:\n{stderr}");
        }
    }
}
