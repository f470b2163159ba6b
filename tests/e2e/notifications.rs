//! End to end: escalation and notifications with real parts. The real
//! `inbound` binary, real notifier components, real HTTP receivers (the
//! documented Python receiver, which checks the webhook signature with
//! Python's own `hmac`), a real SMTP server (aiosmtpd), a real redb file.
//! Escalation delays use `[notifications] time_scale` so a minute lasts
//! milliseconds; nothing sleeps for minutes.

use crate::support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{
    Host, KEY, TOKEN, free_port, plugin_wasm, poll, storage_section, ticket, workspace_root,
};

pub(crate) const SECRET: &str = "webhook-secret-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn python() -> &'static str {
    // Debian's python3 has python3-aiosmtpd (make test-deps); prefer it over
    // whatever `python3` is first on PATH.
    if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

/// `docs/examples/receiver.py`, logging each request as a JSON line.
pub(crate) struct Receiver {
    child: Child,
    log: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Receiver {
    pub(crate) fn start(port: u16, fail_first: u32) -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let port_file = dir.path().join("port");
        let child = Command::new(python())
            .arg(workspace_root().join("docs/examples/receiver.py"))
            .arg(port.to_string())
            .arg(SECRET)
            .arg("--log")
            .arg(&log)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--fail-first")
            .arg(fail_first.to_string())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the Python receiver");
        assert!(poll(WAIT, || port_file.is_file()), "the receiver did not start");
        let port = std::fs::read_to_string(&port_file).unwrap().trim().parse().unwrap();
        Receiver { child, log, port, _dir: dir }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn requests(&self) -> Vec<Value> {
        read_lines(&self.log)
    }

    fn wait_for(&self, count: usize) -> Vec<Value> {
        assert!(
            poll(WAIT, || self.requests().len() >= count),
            "expected {count} requests, got {:#?}",
            self.requests()
        );
        self.requests()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real SMTP server: aiosmtpd, logging each accepted message.
struct Smtp {
    child: Child,
    log: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Smtp {
    fn start() -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("mail.jsonl");
        let port = free_port();
        let mut child = Command::new(python())
            .arg(workspace_root().join("tests/e2e/support/smtp_sink.py"))
            .arg(port.to_string())
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd (make test-deps installs python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("listening"), "aiosmtpd did not start: {line:?}");
        Smtp { child, log, port, _dir: dir }
    }

    fn messages(&self) -> Vec<Value> {
        read_lines(&self.log)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_lines(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

pub(crate) fn notifier(name: &str) -> String {
    plugin_wasm(name).display().to_string()
}

/// A Zendesk source whose policy is `policy` (TOML of the policy's keys and
/// levels), plus `rest` (channels, people, schedules, [notifications]).
fn config(policy: &str, rest: &str) -> String {
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
{policy}

{rest}
"#,
        zendesk = plugin_wasm("zendesk").display(),
        storage = storage_section(),
    )
}

/// A channel's `[channels.throttle]` turned off.
const UNTHROTTLED: &str = "  [channels.throttle]\n  max_messages = 0\n";

fn webhook_channel(name: &str, url: &str) -> String {
    format!(
        "[[channels]]\nname = \"{name}\"\nplugin = \"{}\"\nurl = \"{url}\"\nsigning_secret = \"{SECRET}\"\ntimeout_ms = 2000\n",
        notifier("notify_webhook")
    )
}

/// The incident's log entries of `kind`.
fn log_of(host: &Host, id: u64, kind: &str) -> Vec<Value> {
    let detail = host.incident(&json!(id));
    detail["log"].as_array().unwrap().iter().filter(|e| e["type"] == kind).cloned().collect()
}

fn created_id(host: &Host, id: u64, status: &str) -> u64 {
    let (code, answer) = host.zendesk(&ticket(id, status));
    assert_eq!(code, 202, "{answer}");
    answer["incident"]["id"].as_u64().unwrap()
}

/// The documented webhook body, Slack's Block Kit shape and an email over
/// SMTP, all for one new Zendesk ticket; the email's accept link accepts.
#[test]
fn a_new_ticket_reaches_a_webhook_slack_and_email() {
    let receiver = Receiver::start(0, 0);
    let smtp = Smtp::start();
    let rest = format!(
        r#"
[notifications]
link_secret = "link-secret-0123456789abcdefghij"

{webhook}
[[channels]]
name = "slack"
plugin = "{slack}"
url = "{slack_url}"

[[channels]]
name = "email"
plugin = "{email}"
  [channels.smtp]
  host = "127.0.0.1"
  port = {smtp_port}
  tls = "none"
  from = "inbound <inbound@example.com>"

[[people]]
name = "ada"
contacts = [{{ channel = "email", address = "ada@example.com" }}, {{ channel = "hook", address = "ada-handle" }}]
"#,
        webhook = webhook_channel("hook", &receiver.url("/hook")),
        slack = notifier("notify_slack"),
        slack_url = receiver.url("/slack"),
        email = notifier("notify_email"),
        smtp_port = smtp.port,
    );
    let policy = "[[escalation_policies.levels]]\nnotify = [\"person:ada\", \"channel:slack\"]\n";
    let host = Host::start(&config(policy, &rest));
    let id = created_id(&host, 42, "New");

    let requests = receiver.wait_for(2);
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let webhook = requests.iter().find(|r| r["path"] == "/hook").expect("a webhook request");
    // Python's hmac agrees with the notifier's signature.
    assert_eq!(webhook["signature_ok"], true, "{webhook:#}");
    let body: Value = serde_json::from_str(webhook["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["version"], 1);
    assert_eq!(body["type"], "incident.triggered");
    assert_eq!(body["incident"]["id"], id);
    assert_eq!(body["incident"]["summary"], "Printer on fire #42");
    assert_eq!(body["recipient"]["person"], "ada");
    assert_eq!(body["recipient"]["address"], "ada-handle");
    let idempotency_key = webhook["headers"]["idempotency-key"].as_str();
    assert!(idempotency_key.is_some_and(|key| !key.is_empty()), "{webhook:#}");
    assert_eq!(idempotency_key, body["id"].as_str(), "the header is the notification's id");
    assert!(body["links"]["accept"].as_str().unwrap().contains("/ack/"), "{body:#}");

    let slack = requests.iter().find(|r| r["path"] == "/slack").expect("a Slack request");
    let payload: Value = serde_json::from_str(slack["body"].as_str().unwrap()).unwrap();
    assert_slack_shape(&payload);

    assert!(poll(WAIT, || smtp.messages().len() == 1), "no email arrived");
    let mail = &smtp.messages()[0];
    assert_eq!(mail["rcpt_tos"], json!(["ada@example.com"]));
    assert_eq!(mail["mail_from"], "inbound@example.com");
    assert_eq!(mail["subject"], format!("[inbound] #{id} needs someone: Printer on fire #42"));
    let data = mail["text"].as_str().unwrap();
    let notifications = host.incident(&json!(id))["notifications"].clone();
    let email = notifications.as_array().unwrap().iter().find(|n| n["channel"] == "email").unwrap();
    let key = email["idempotency_key"].as_str().unwrap();
    assert_eq!(mail["message_id"], format!("<{key}@example.com>"));

    // Every attempt is in the incident's log.
    assert!(poll(WAIT, || log_of(&host, id, "notification_attempt").len() == 3));
    for attempt in log_of(&host, id, "notification_attempt") {
        assert_eq!(attempt["outcome"], "sent", "{attempt:#}");
    }

    // The email's accept link: GET changes nothing, POST accepts.
    let link = data
        .lines()
        .find_map(|line| line.strip_prefix("Accept:"))
        .map(|url| url.trim().to_string())
        .expect("an accept link in the email");
    let path = &link[link.find("/ack/").unwrap()..];
    let (status, page) = host.get_text(path, None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\">"), "{page}");
    assert_eq!(host.incident(&json!(id))["incident"]["status"], "pending");
    let (status, _, _) = host.post_with_headers(path, &[], "");
    assert_eq!(status, 200);
    let detail = host.incident(&json!(id));
    assert_eq!(detail["incident"]["status"], "accepted");
    let accepted = detail["log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "status_changed")
        .unwrap()
        .clone();
    assert_eq!(accepted["by"], "ada via email link");
    assert_eq!(detail["escalation"]["state"], "accepted");
    // The same link, its claims edited to name another incident (the
    // signature kept), is refused, and that incident is left alone.
    let other = created_id(&host, 43, "New");
    let forged = forge_incident(path, id, other);
    assert_ne!(forged, path);
    assert_eq!(host.get_text(&forged, None).0, 403, "{forged}");
    assert_eq!(host.post_with_headers(&forged, &[], "").0, 403, "{forged}");
    assert_eq!(host.incident(&json!(other))["incident"]["status"], "pending");
}

/// `/ack/<claims>.<signature>` with the claims' incident `from` changed to
/// `to`, every other byte and the signature kept.
fn forge_incident(path: &str, from: u64, to: u64) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = path.strip_prefix("/ack/").expect("an /ack/ link");
    let (claims, signature) = token.split_once('.').expect("claims.signature");
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    let field = |id: u64| format!("\"i\":{id},");
    assert!(claims.contains(&field(from)), "the claims name incident {from}: {claims}");
    let edited = claims.replacen(&field(from), &field(to), 1);
    format!("/ack/{}.{signature}", URL_SAFE_NO_PAD.encode(edited))
}

/// Slack's documented incoming-webhook payload: a `text` fallback and
/// `blocks` of known types within Slack's limits, buttons with URLs.
fn assert_slack_shape(payload: &Value) {
    assert!(payload["text"].as_str().is_some_and(|t| !t.is_empty()), "{payload:#}");
    let blocks = payload["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for block in blocks {
        let kind = block["type"].as_str().unwrap();
        assert!(
            ["header", "section", "actions", "context", "divider"].contains(&kind),
            "{block:#}"
        );
        match kind {
            "header" => {
                assert_eq!(block["text"]["type"], "plain_text");
                assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 150);
            }
            "section" => {
                let text = &block["text"];
                assert!(["mrkdwn", "plain_text"].contains(&text["type"].as_str().unwrap()));
                assert!(text["text"].as_str().unwrap().chars().count() <= 3000);
                if let Some(fields) = block["fields"].as_array() {
                    assert!(fields.len() <= 10);
                }
            }
            "actions" => {
                let elements = block["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 25);
                for button in elements {
                    assert_eq!(button["type"], "button");
                    assert_eq!(button["text"]["type"], "plain_text");
                    assert!(button["url"].as_str().unwrap().starts_with("http"));
                }
            }
            _ => {}
        }
    }
    let texts: Vec<&str> = blocks.iter().filter_map(|b| b["text"]["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("Printer on fire")), "{payload:#}");
    let buttons: Vec<&str> = blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap())
        .filter_map(|e| e["text"]["text"].as_str())
        .collect();
    assert!(buttons.contains(&"Accept") && buttons.contains(&"Resolve"), "{buttons:?}");
}

/// `(level, round)` of each `escalated` log entry.
fn levels_fired(host: &Host, id: u64) -> Vec<(u64, u64)> {
    log_of(host, id, "escalated")
        .iter()
        .filter(|e| {
            !e["notified"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().starts_with("resolved"))
        })
        .map(|e| (e["level"].as_u64().unwrap(), e["round"].as_u64().unwrap()))
        .collect()
}

/// Level 1 fires when nobody accepts, not when somebody does; `repeat`
/// runs the levels again; resolving tells everyone who was notified.
/// With time_scale = 600 a minute lasts 100 ms.
#[test]
fn levels_fire_until_someone_accepts_then_resolve_tells_everyone() {
    let receiver = Receiver::start(0, 0);
    let rest = format!(
        "[notifications]\ntime_scale = 600\n\n{}\n{}\n[[people]]\nname = \"ada\"\ncontacts = [{{ channel = \"first\", address = \"ada\" }}]\n\n[[people]]\nname = \"lead\"\ncontacts = [{{ channel = \"second\", address = \"lead\" }}]\n",
        webhook_channel("first", &receiver.url("/first")),
        webhook_channel("second", &receiver.url("/second")),
    );
    // Level 1 after 5 minutes (500 ms); once more from level 0 after 2 (200 ms).
    let policy = "repeat = 1\nrepeat_after_minutes = 2\n\n[[escalation_policies.levels]]\nnotify = [\"person:ada\"]\n\n[[escalation_policies.levels]]\ndelay_minutes = 5\nnotify = [\"person:lead\"]\n";
    let host = Host::start(&config(policy, &rest));

    let accepted = created_id(&host, 1, "New");
    assert!(poll(WAIT, || levels_fired(&host, accepted) == vec![(0, 0)]));
    let (code, _) = host.post_json(&format!("/api/v1/incidents/{accepted}/accept"), &json!({}));
    assert_eq!(code, 200);
    let ignored = created_id(&host, 2, "New");

    // The ignored incident runs through both levels twice, then stops.
    assert!(
        poll(WAIT, || host.incident(&json!(ignored))["escalation"]["state"] == "exhausted"),
        "{:#}",
        host.incident(&json!(ignored))["escalation"]
    );
    assert_eq!(levels_fired(&host, ignored), vec![(0, 0), (1, 0), (0, 1), (1, 1)]);
    // The accepted one was due for level 1 before the ignored one's was:
    // its level 1 would have fired by now, had accepting not stopped it.
    assert_eq!(levels_fired(&host, accepted), vec![(0, 0)]);
    assert_eq!(host.incident(&json!(accepted))["escalation"]["state"], "accepted");
    let fired = &host.incident(&json!(ignored))["escalation"]["fired"];
    let due: Vec<&str> =
        fired.as_array().unwrap().iter().map(|f| f["due_at"].as_str().unwrap()).collect();
    assert!(due.windows(2).all(|w| w[0] < w[1]), "levels due in order: {due:?}");

    // Resolving tells ada and the lead, once each.
    let before = receiver.wait_for(5).len();
    let (code, _) = host.post_json(&format!("/api/v1/incidents/{ignored}/resolve"), &json!({}));
    assert_eq!(code, 200);
    let requests = receiver.wait_for(before + 2);
    let resolved: Vec<Value> = requests
        .iter()
        .map(|r| serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap())
        .filter(|b| b["type"] == "incident.resolved")
        .collect();
    let mut people: Vec<&str> =
        resolved.iter().map(|b| b["recipient"]["person"].as_str().unwrap()).collect();
    people.sort();
    assert_eq!(people, ["ada", "lead"]);
    assert!(resolved.iter().all(|b| b["incident"]["id"] == ignored));
    assert!(requests.iter().all(|r| r["signature_ok"] == true));
    assert!(poll(WAIT, || host.incident(&json!(ignored))["escalation"]["state"] == "closed"));
}

/// A receiver that accepts connections and never answers: deliveries hang
/// after their escalation committed.
fn black_hole() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// An HTTP receiver on its own threads that stamps each request with the
/// time it arrived and answers `200` after `delay`.
struct StampingReceiver {
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<(u128, Value)>>>,
}

impl StampingReceiver {
    fn start(delay: Duration) -> StampingReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let Some(body) = read_request_body(&stream) else { return };
                    log.lock().unwrap().push((now_ms(), body));
                    std::thread::sleep(delay);
                    let _ = std::io::Write::write_all(
                        &mut &stream,
                        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                });
            }
        });
        StampingReceiver { port, received }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn received(&self) -> Vec<(u128, Value)> {
        self.received.lock().unwrap().clone()
    }
}

/// A receiver that answers one byte a second, for ever.
fn trickling_receiver() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                read_request_body(&stream);
                for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".iter().cycle() {
                    if std::io::Write::write_all(&mut &stream, &[*byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
        }
    });
    port
}

/// Reads one HTTP/1.1 request with a `content-length` body; its JSON.
fn read_request_body(stream: &std::net::TcpStream) -> Option<Value> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    std::io::Read::read_exact(&mut reader, &mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
}

/// One person's receivers stall (an SMTP server that accepts and never
/// greets, a webhook that answers a byte a second); another person's are
/// healthy. A burst of incidents paging both (throttles off: this is about
/// the delivery slots, tests/e2e/throttle.rs about throttles): the healthy person's pages
/// arrive at once, because a stalled channel holds only its share of the
/// delivery slots and its backlog does not hide the others'.
#[test]
fn a_stalled_receiver_does_not_delay_anyone_elses_pages() {
    let (_smtp_hole, smtp_port) = black_hole();
    let trickle_port = trickling_receiver();
    let healthy = StampingReceiver::start(Duration::ZERO);
    let rest = format!(
        r#"
[notifications]
retry_initial_ms = 60000

[[channels]]
name = "slow-mail"
plugin = "{email}"
timeout_ms = 3000
  [channels.smtp]
  host = "127.0.0.1"
  port = {smtp_port}
  tls = "none"
  from = "inbound <inbound@example.com>"
{unthrottled}
{slow_hook}
{hook}
[[people]]
name = "mallory"
contacts = [{{ channel = "slow-mail", address = "mallory@example.com" }}, {{ channel = "slow-hook", address = "mallory" }}]

[[people]]
name = "ada"
contacts = [{{ channel = "hook", address = "ada" }}]
"#,
        email = notifier("notify_email"),
        unthrottled = UNTHROTTLED,
        slow_hook = webhook_channel("slow-hook", &format!("http://127.0.0.1:{trickle_port}/hook"))
            .replace("timeout_ms = 2000", "timeout_ms = 3000")
            + UNTHROTTLED,
        hook = webhook_channel("hook", &healthy.url()) + UNTHROTTLED,
    );
    let policy = "[[escalation_policies.levels]]\nnotify = [\"person:mallory\", \"person:ada\"]\n";
    let host = Host::start(&config(policy, &rest));

    const INCIDENTS: u64 = 50;
    let mut posted_at = std::collections::HashMap::new();
    for n in 1..=INCIDENTS {
        // Taken before the post: a page may arrive before its 202 does.
        let sent = now_ms();
        let id = created_id(&host, n, "New");
        posted_at.insert(id, sent);
    }
    assert!(
        poll(Duration::from_secs(30), || healthy.received().len() >= INCIDENTS as usize),
        "ada got {} of {INCIDENTS} pages",
        healthy.received().len()
    );
    let mut delays: Vec<u128> = healthy
        .received()
        .iter()
        .map(|(at, body)| at - posted_at[&body["incident"]["id"].as_u64().unwrap()])
        .collect();
    delays.sort();
    let p99 = delays[(delays.len() * 99).div_ceil(100) - 1];
    eprintln!("ada's pages: p50 {} ms, p99 {p99} ms", delays[delays.len() / 2]);
    assert!(p99 < 2000, "ada's pages waited behind the stalled channels: p99 {p99} ms, {delays:?}");

    // The stalled channels were tried, and each attempt was cut at the timeout.
    assert!(
        poll(WAIT, || (1..=INCIDENTS).any(|id| log_of(&host, id, "notification_attempt")
            .iter()
            .any(|a| a["channel"] == "slow-hook" && a["outcome"] == "retrying"))),
        "no attempt of the trickling webhook ended"
    );
}

/// A notifier that renders several messages to a receiver that answers
/// each slowly: one attempt ends at the channel's timeout (what was sent
/// stays sent) and the next resumes after it, until all are delivered.
#[test]
fn one_attempt_with_many_messages_ends_at_the_channel_timeout() {
    let slow = StampingReceiver::start(Duration::from_millis(400));
    let rest = format!(
        "[notifications]\nretry_initial_ms = 100\nretry_max_ms = 200\n\n[[channels]]\nname = \"many\"\nplugin = \"{}\"\nurl = \"{}\"\ntimeout_ms = 1000\nsettings = {{ behaviour = \"many\", messages = 6 }}\n\n[[people]]\nname = \"ada\"\ncontacts = [{{ channel = \"many\", address = \"ada\" }}]\n",
        notifier("test_hostile_notifier"),
        slow.url(),
    );
    let host =
        Host::start(&config("[[escalation_policies.levels]]\nnotify = [\"person:ada\"]\n", &rest));
    let id = created_id(&host, 5, "New");
    assert!(
        poll(WAIT, || host.incident(&json!(id))["notifications"][0]["status"] == "sent"),
        "{:#}",
        host.incident(&json!(id))
    );
    let attempts = log_of(&host, id, "notification_attempt");
    let first = &attempts[0];
    assert_eq!(first["outcome"], "retrying", "{attempts:#?}");
    assert!(
        first["detail"].as_str().unwrap().contains("whole timeout (1000 ms) after"),
        "{first:#}"
    );
    assert!(attempts.len() >= 3, "six 400 ms answers need three 1 s attempts: {attempts:#?}");
    assert_eq!(attempts.last().unwrap()["outcome"], "sent");
    // Every message arrived; one cut off mid-answer may arrive twice.
    let mut indexes: Vec<u64> =
        slow.received().iter().map(|(_, body)| body["index"].as_u64().unwrap()).collect();
    indexes.dedup();
    assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
}

/// A policy that repeats many times: the incident detail carries the
/// newest 50 fired levels and notifications with their counts and a cursor,
/// and the notifications listing pages through the rest of the incident's.
#[test]
fn the_incident_detail_stays_bounded_and_pages_the_rest() {
    let receiver = StampingReceiver::start(Duration::ZERO);
    // A minute lasts a millisecond: 61 rounds fire at once.
    let policy = "repeat = 60\nrepeat_after_minutes = 1\n\n[[escalation_policies.levels]]\nnotify = [\"channel:hook\"]\n";
    let rest = format!(
        "[notifications]\ntime_scale = 60000\n\n{}",
        webhook_channel("hook", &receiver.url())
    );
    let host = Host::start(&config(policy, &rest));
    let id = created_id(&host, 3, "New");
    assert!(
        poll(WAIT, || host.incident(&json!(id))["escalation"]["state"] == "exhausted"),
        "{:#}",
        host.incident(&json!(id))["escalation"]
    );
    let detail = host.incident(&json!(id));
    let escalation = &detail["escalation"];
    assert_eq!(escalation["fired_count"], 61);
    let fired = escalation["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 50);
    assert_eq!((fired[0]["round"].as_u64(), fired[49]["round"].as_u64()), (Some(11), Some(60)));
    let newest = detail["notifications"].as_array().unwrap();
    assert_eq!(newest.len(), 50);
    let ids: Vec<u64> = newest.iter().map(|n| n["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    let before = detail["notifications_before"].as_u64().expect("a cursor to older ones");
    assert_eq!(before, ids[0]);

    let (code, older) =
        host.get(&format!("/api/v1/notifications?incident={id}&before={before}&limit=500"));
    assert_eq!(code, 200, "{older}");
    let older = older["notifications"].as_array().unwrap().clone();
    assert_eq!(older.len(), 11, "{older:#?}");
    assert!(older.iter().all(|n| n["incident"] == id && n["id"].as_u64().unwrap() < before));
    let (code, failed) = host.get(&format!("/api/v1/notifications?incident={id}&status=failed"));
    assert_eq!(code, 200);
    assert_eq!(failed["notifications"], json!([]), "none of them failed");
}

/// kill -9 after level 0 committed and before its delivery finished: after
/// the restart the notification is sent, level 1 fires (overdue), and no
/// level fires twice.
#[test]
fn a_kill_between_commit_and_delivery_sends_after_restart_and_fires_no_level_twice() {
    let (hole, hole_port) = black_hole();
    let receiver = Receiver::start(0, 0);
    // 6 minutes at time_scale 600: level 1 is due 600 ms after level 0.
    let policy = "[[escalation_policies.levels]]\nnotify = [\"person:ada\"]\n\n[[escalation_policies.levels]]\ndelay_minutes = 6\nnotify = [\"person:ada\"]\n";
    let people =
        "[[people]]\nname = \"ada\"\ncontacts = [{ channel = \"hook\", address = \"ada\" }]\n";
    let first = config(
        policy,
        &format!(
            "[notifications]\ntime_scale = 600\n\n{}\n{people}",
            webhook_channel("hook", &format!("http://127.0.0.1:{hole_port}/hook"))
        ),
    );
    let host = Host::start(&first);
    let id = created_id(&host, 7, "New");
    // Level 0 is committed and its delivery is hanging in the black hole.
    let (_connection, _) = hole.accept().unwrap();
    assert_eq!(levels_fired(&host, id)[0], (0, 0));
    host.kill();

    // The same database, the channel now pointing at a live receiver.
    let second =
        first.replace(&format!("http://127.0.0.1:{hole_port}/hook"), &receiver.url("/hook"));
    std::fs::write(host.config_path(), second).unwrap();
    let host = host.restart_after_kill();
    assert!(
        poll(WAIT, || host.incident(&json!(id))["escalation"]["state"] == "exhausted"
            && host.incident(&json!(id))["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["status"] == "sent")),
        "{:#}",
        host.incident(&json!(id))
    );
    assert_eq!(levels_fired(&host, id), vec![(0, 0), (1, 0)]);
    let bodies: Vec<Value> = receiver
        .requests()
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    let mut levels: Vec<u64> = bodies.iter().map(|b| b["level"].as_u64().unwrap()).collect();
    levels.sort();
    assert_eq!(levels, [0, 1], "each level delivered once: {bodies:#?}");
}

/// A receiver that is down: the notification is retried with backoff and
/// delivered once it is up; every attempt is in the incident's log.
#[test]
fn a_receiver_that_is_down_for_a_while_gets_the_notification_later() {
    let port = free_port();
    let rest = format!(
        "[notifications]\nretry_initial_ms = 300\nretry_max_ms = 600\n\n{}\n[[people]]\nname = \"ada\"\ncontacts = [{{ channel = \"hook\", address = \"ada\" }}]\n",
        webhook_channel("hook", &format!("http://127.0.0.1:{port}/hook"))
    );
    let host =
        Host::start(&config("[[escalation_policies.levels]]\nnotify = [\"person:ada\"]\n", &rest));
    let id = created_id(&host, 9, "New");
    // Three attempts while it is down: the third waits as long as the second
    // (retry_max_ms), which is what shows the backoff's cap below.
    assert!(poll(WAIT, || log_of(&host, id, "notification_attempt").len() >= 3));
    let first = log_of(&host, id, "notification_attempt")[0].clone();
    assert_eq!(first["outcome"], "retrying", "{first:#}");
    assert!(first["detail"].as_str().unwrap().contains("cannot connect"), "{first:#}");

    // Up, but answering 503 once: that is retried too.
    let receiver = Receiver::start(port, 1);
    receiver.wait_for(2);
    assert!(poll(WAIT, || host.incident(&json!(id))["notifications"][0]["status"] == "sent"));
    let attempts = log_of(&host, id, "notification_attempt");
    assert_eq!(attempts.last().unwrap()["outcome"], "sent");
    assert!(
        attempts.iter().any(|a| a["detail"].as_str().unwrap().starts_with("HTTP 503")),
        "{attempts:#?}"
    );
    let numbers: Vec<u64> = attempts.iter().map(|a| a["attempt"].as_u64().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    assert_backoff(&attempts, 300, 600);
    // Same notification id in both requests: a receiver can drop a resend.
    let keys: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r["headers"]["idempotency-key"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!keys[0].is_empty(), "{:#?}", receiver.requests());
    assert_eq!(keys[0], keys[1]);
}

/// Each retry of `attempts` (one notification's, oldest first) waited as
/// its attempt said ("next attempt in N ms"), and N is the backoff of
/// `initial` ms doubling per attempt up to `max`, less up to half of it
/// (jitter); the next attempt came no sooner than N ms later and no more
/// than 5 s (a busy machine) after that.
fn assert_backoff(attempts: &[Value], initial: u64, max: u64) {
    let at = |attempt: &Value| {
        let at = humantime::parse_rfc3339(attempt["at"].as_str().unwrap()).unwrap();
        at.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
    };
    let retries: Vec<_> = attempts.windows(2).filter(|w| w[0]["outcome"] == "retrying").collect();
    assert!(retries.len() >= 3, "{attempts:#?}");
    for pair in retries {
        let (attempt, next) = (&pair[0], &pair[1]);
        let number = attempt["attempt"].as_u64().unwrap();
        let detail = attempt["detail"].as_str().unwrap();
        let waits: u64 = detail
            .split("next attempt in ")
            .nth(1)
            .and_then(|rest| rest.strip_suffix(" ms"))
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("no delay in {detail:?}"));
        let backoff = (initial << (number - 1).min(30)).min(max);
        assert!(
            (backoff / 2..=backoff).contains(&waits),
            "attempt {number} waits {waits} ms, not {}-{backoff}: {attempts:#?}",
            backoff / 2
        );
        let gap = at(next).saturating_sub(at(attempt));
        assert!(
            (waits..=waits + 5000).contains(&gap),
            "attempt {} came {gap} ms after attempt {number}, which said {waits} ms",
            number + 1
        );
    }
}

/// Notifiers that trap, loop or address another origin: their
/// notifications fail with the reason, nothing is sent elsewhere, the
/// good channel still delivers, and webhooks are answered as usual.
#[test]
fn a_hostile_notifier_fails_its_notifications_and_nothing_else() {
    let receiver = Receiver::start(0, 0);
    let hostile = |name: &str, behaviour: &str| {
        format!(
            "[[channels]]\nname = \"{name}\"\nplugin = \"{}\"\nurl = \"{}\"\nsettings = {{ behaviour = \"{behaviour}\" }}\n\n",
            notifier("test_hostile_notifier"),
            receiver.url(&format!("/{name}"))
        )
    };
    let rest = format!(
        "{}{}{}{}\n[[people]]\nname = \"ada\"\ncontacts = [{{ channel = \"trap\", address = \"a\" }}, {{ channel = \"loop\", address = \"a\" }}, {{ channel = \"elsewhere\", address = \"a\" }}, {{ channel = \"good\", address = \"a\" }}]\n",
        hostile("trap", "trap"),
        hostile("loop", "loop"),
        hostile("elsewhere", "elsewhere"),
        webhook_channel("good", &receiver.url("/good")),
    );
    let host =
        Host::start(&config("[[escalation_policies.levels]]\nnotify = [\"person:ada\"]\n", &rest));
    let started = std::time::Instant::now();
    let ids: Vec<u64> = (1..=10).map(|n| created_id(&host, n, "New")).collect();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ingestion slowed: {:?}",
        started.elapsed()
    );

    for id in &ids {
        assert!(
            poll(WAIT, || host.incident(&json!(id))["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["status"] != "pending")),
            "{:#}",
            host.incident(&json!(id))["notifications"]
        );
    }
    let detail = host.incident(&json!(ids[0]));
    let by_channel = |channel: &str| {
        detail["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["channel"] == channel)
            .unwrap()
            .clone()
    };
    assert_eq!(by_channel("good")["status"], "sent");
    let trap = by_channel("trap");
    assert_eq!(trap["status"], "failed");
    assert!(trap["last_error"].as_str().unwrap().contains("panicked on purpose"), "{trap:#}");
    let looping = by_channel("loop");
    assert_eq!(looping["status"], "failed");
    assert!(looping["last_error"].as_str().unwrap().contains("ran longer"), "{looping:#}");
    let elsewhere = by_channel("elsewhere");
    assert_eq!(elsewhere["status"], "failed");
    assert!(
        elsewhere["last_error"].as_str().unwrap().contains("not under the channel's origin"),
        "{elsewhere:#}"
    );
    // Only the good channel's requests reached the receiver: one per incident.
    let paths: Vec<String> =
        receiver.requests().iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    assert!(paths.iter().all(|p| p == "/good"), "{paths:?}");
    assert_eq!(paths.len(), ids.len());

    // Failed notifications are listed and can be retried (they fail again).
    let (code, failed) = host.get("/api/v1/notifications?status=failed&limit=500");
    assert_eq!(code, 200);
    assert_eq!(failed["notifications"].as_array().unwrap().len(), 30);
    let trap_id = trap["id"].as_u64().unwrap();
    let (code, answer) =
        host.post_json(&format!("/api/v1/notifications/{trap_id}/retry"), &json!({}));
    assert_eq!(code, 200, "{answer}");
    assert!(poll(WAIT, || log_of(&host, ids[0], "notification_attempt")
        .iter()
        .filter(|a| a["notification"] == trap_id && a["outcome"] == "failed")
        .count()
        == 2));
    let (code, answer) = host.post_json(
        &format!("/api/v1/notifications/{}/retry", by_channel("good")["id"]),
        &json!({}),
    );
    assert_eq!(code, 409, "only failed ones are retried: {answer}");
    let (code, _) = host.post_json("/api/v1/notifications/999999/retry", &json!({}));
    assert_eq!(code, 404);

    let (_, metrics) = host.get_text("/metrics", Some(TOKEN));
    assert!(metrics.contains("inbound_notifications_sent_total{channel=\"good\"} 10"), "{metrics}");
    assert!(metrics.contains("inbound_notifications_failed 30"), "{metrics}");
    assert!(metrics.contains("inbound_notifications_pending 0"), "{metrics}");
}

/// `inbound check` names file, line and key for each kind of bad
/// notification config.
#[test]
fn bad_notification_config_is_refused_with_file_line_and_key() {
    let people =
        "[[people]]\nname = \"ada\"\ncontacts = [{ channel = \"hook\", address = \"ada\" }]\n";
    let level = "[[escalation_policies.levels]]\nnotify = [\"person:ada\"]\n";
    let hook = webhook_channel("hook", "http://127.0.0.1:9/hook");
    let schedule = |zone: &str, members: &str| {
        format!(
            "[[schedules]]\nname = \"primary\"\ntimezone = \"{zone}\"\n  [schedules.rotation]\n  members = [{members}]\n  length_days = 7\n  start = \"2026-01-05\"\n"
        )
    };
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            config(
                level,
                &format!(
                    "{}\n{people}",
                    hook.replace("http://127.0.0.1:9/hook", "ftp://example.com/x")
                ),
            ),
            "url = \"ftp",
            "channels[0].url (channel \"hook\")",
            "not an http:// or https:// URL",
        ),
        (
            config(
                "[[escalation_policies.levels]]\nnotify = [\"person:bob\"]\n",
                &format!("{hook}\n{people}"),
            ),
            "notify = [\"person:bob\"]",
            "escalation_policies[0].levels[0].notify[0] (policy \"oncall\")",
            "unknown person \"bob\"; declare them in [[people]] or use one of: ada",
        ),
        (
            config(
                "[[escalation_policies.levels]]\nnotify = [\"team:x\"]\n",
                &format!("{hook}\n{people}"),
            ),
            "notify = [\"team:x\"]",
            "escalation_policies[0].levels[0].notify[0]",
            "write \"person:NAME\", \"schedule:NAME\" or \"channel:NAME\"",
        ),
        (
            config(level, &format!("{hook}\n{people}\n{}", schedule("Europe/Oslo", ""))),
            "members = []",
            "schedules[0].rotation.members (schedule \"primary\")",
            "needs at least one member",
        ),
        (
            config(level, &format!("{hook}\n{people}\n{}", schedule("Mars/Olympus", "\"ada\""))),
            "timezone = \"Mars",
            "schedules[0].timezone (schedule \"primary\")",
            "unknown time zone \"Mars/Olympus\"",
        ),
        (
            config(
                level,
                &format!("{hook}\n{}", people.replace("channel = \"hook\"", "channel = \"pager\"")),
            ),
            "channel = \"pager\"",
            "people[0].contacts[0].channel (person \"ada\")",
            "unknown channel \"pager\"; declare it in [[channels]] or use one of: hook",
        ),
        (
            config(
                level,
                &format!("{}\n{people}", hook.replace("url = \"http://127.0.0.1:9/hook\"\n", "")),
            ),
            "name = \"hook\"",
            "channels[0].url (channel \"hook\")",
            "set url = \"https://...\"",
        ),
    ];
    for (text, marker, key, fix) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, &text).unwrap();
        let (code, stdout, stderr) =
            support::inbound(&["check", "--config", file.to_str().unwrap()], &[]);
        assert_eq!(code, 1, "must fail: {stdout}");
        let line = text[..text.rfind(marker).unwrap_or_else(|| panic!("{marker:?} not in config"))]
            .matches('\n')
            .count()
            + 1;
        let place = format!("config.toml:{line}: {key}");
        assert!(stderr.contains(&place), "expected {place:?} in:\n{stderr}");
        assert!(stderr.contains(fix), "expected {fix:?} in:\n{stderr}");
    }
}

/// `inbound oncall` across a daylight-saving change, an override, and
/// `inbound notifications list|retry` on a running host.
#[test]
fn the_command_line_shows_who_is_on_call_and_the_outbox() {
    let rest = format!(
        r#"{hook}
[[people]]
name = "ada"
contacts = [{{ channel = "hook", address = "ada" }}]

[[people]]
name = "grace"
contacts = [{{ channel = "hook", address = "grace" }}]

[[schedules]]
name = "primary"
timezone = "Europe/Oslo"
  [schedules.rotation]
  members = ["ada", "grace"]
  length_days = 1
  handoff = "09:00"
  start = "2026-03-28"
  [[schedules.overrides]]
  person = "grace"
  from = "2026-03-30 12:00"
  until = "2026-03-30 13:00"
"#,
        hook = webhook_channel("hook", "http://127.0.0.1:9/hook")
            .replace("timeout_ms = 2000", "timeout_ms = 200")
    );
    let rest = format!("[notifications]\nmax_attempts = 1\n\n{rest}");
    let host = Host::start(&config(
        "[[escalation_policies.levels]]\nnotify = [\"schedule:primary\"]\n",
        &rest,
    ));
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let oncall = |at: &str| {
        let mut args = vec!["oncall", "primary", "--at", at];
        args.extend(remote);
        let (code, stdout, stderr) = support::inbound(&args, &[]);
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    // Oslo moves to summer time on 2026-03-29: the 09:00 hand-off is then 07:00 UTC.
    assert_eq!(
        oncall("2026-03-29T06:59:00Z"),
        "primary: ada until 2026-03-29T07:00:00Z, then grace (Europe/Oslo)\n"
    );
    assert_eq!(
        oncall("2026-03-29T07:00:00Z"),
        "primary: grace until 2026-03-30T07:00:00Z, then ada (Europe/Oslo)\n"
    );
    // 2026-03-30 is ada's turn, except 12:00-13:00 local, grace's override.
    // ada is on call until grace's override begins, not until the hand-off.
    assert_eq!(
        oncall("2026-03-30T09:59:00Z"),
        "primary: ada until 2026-03-30T10:00:00Z, then grace (Europe/Oslo)\n"
    );
    assert!(oncall("2026-03-30T10:30:00Z").starts_with("primary: grace "));
    assert!(oncall("2026-03-30T11:00:00Z").starts_with("primary: ada "));
    let (code, bad) = host.get("/api/v1/oncall?at=yesterday");
    assert_eq!(code, 400, "{bad}");
    assert_eq!(host.get("/api/v1/oncall?schedule=nope").0, 404);

    // Nothing listens on port 9: with one attempt allowed, the notification fails.
    let id = created_id(&host, 5, "New");
    assert!(poll(WAIT, || host.incident(&json!(id))["notifications"][0]["status"] == "failed"));
    let mut args = vec!["notifications", "list", "--status", "failed"];
    args.extend(remote);
    let (code, stdout, stderr) = support::inbound(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "a header and one notification: {stdout}");
    assert!(stdout.starts_with("    ID  STATUS"), "{stdout}");
    assert!(
        stdout.contains("failed")
            && stdout.contains("via hook")
            && stdout.contains("cannot connect"),
        "{stdout}"
    );
    args.extend(["--output", "json"]);
    let (code, stdout, stderr) = support::inbound(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    let listed: Value = serde_json::from_str(&stdout).expect("--output json prints JSON");
    assert_eq!(listed["notifications"][0]["status"], "failed", "{listed}");
    let mut args = vec!["oncall", "primary", "--at", "2026-03-29T06:59:00Z", "-o", "json"];
    args.extend(remote);
    let (code, stdout, stderr) = support::inbound(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    let oncall: Value = serde_json::from_str(&stdout).expect("--output json prints JSON");
    assert_eq!(oncall["oncall"][0]["person"], "ada", "{oncall}");
    let notification = host.incident(&json!(id))["notifications"][0]["id"].to_string();
    let mut args = vec!["notifications", "retry", notification.as_str()];
    args.extend(remote);
    let (code, stdout, stderr) = support::inbound(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("queued again"), "{stdout}");
    assert!(
        poll(WAIT, || log_of(&host, id, "notification_attempt").len() == 3),
        "failed, retry requested, failed again"
    );
}

/// An ntfy push: JSON published to the server's root with the topic, the
/// priority of the incident, the token of a protected topic, and an Accept
/// action whose one tap (a POST of the signed link) accepts the incident.
#[test]
fn an_urgent_ticket_reaches_ntfy_and_one_tap_accepts_it() {
    let receiver = Receiver::start(0, 0);
    let rest = format!(
        r#"
[notifications]
link_secret = "link-secret-0123456789abcdefghij"

[[channels]]
name = "phones"
plugin = "{ntfy}"
url = "{server}"
signing_secret = "tk_access-token-0123456789abcdef"
settings = {{ topic = "acme-oncall_7f3a" }}
"#,
        ntfy = notifier("notify_ntfy"),
        server = receiver.url(""),
    );
    let policy = "[[escalation_policies.levels]]\nnotify = [\"channel:phones\"]\n";
    let host = Host::start(&config(policy, &rest));
    let id = created_id(&host, 77, "New");

    let published = receiver.wait_for(1);
    let push = &published[0];
    assert_eq!(push["path"], "/", "{push:#}");
    assert_eq!(push["headers"]["authorization"], "Bearer tk_access-token-0123456789abcdef");
    let body: Value = serde_json::from_str(push["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["topic"], "acme-oncall_7f3a");
    assert_eq!(body["title"], format!("#{id} Printer on fire #77"));
    assert_eq!(body["priority"], 5, "the ticket is Urgent: {body:#}");
    assert_eq!(body["tags"], json!(["rotating_light"]));
    assert_eq!(body["click"], "https://example.zendesk.com/agent/tickets/77");
    let accept = &body["actions"][0];
    assert_eq!(
        (accept["action"].as_str(), accept["method"].as_str()),
        (Some("http"), Some("POST"))
    );

    // The tap: ntfy POSTs the link, and the incident is accepted.
    let link = accept["url"].as_str().unwrap();
    let path = &link[link.find("/ack/").expect("a signed accept link")..];
    assert_eq!(host.post_with_headers(path, &[], "").0, 200);
    assert_eq!(host.incident(&json!(id))["incident"]["status"], "accepted");
}

/// `inbound plugin check` recognises a notifier component.
#[test]
fn plugin_check_recognises_a_notifier() {
    for name in ["notify_webhook", "notify_slack", "notify_email", "notify_ntfy"] {
        let (code, stdout, stderr) = support::inbound(&["plugin", "check", &notifier(name)], &[]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.starts_with("ok: ") && stdout.contains("implements inbound:notifier@0.2.0"),
            "{stdout}"
        );
    }
}
