//! End to end: the phone channels. The real binary, Zendesk plugin and
//! Telegram and Twilio notifiers, and a fake of both services
//! (`support/fake_phone.py`) that checks what they check: the bot token in
//! the path, Twilio's basic auth, Telegram's HTML entities and its 4096
//! characters, an SMS's segments (counted apart from the notifier's
//! counter) and a call's TwiML; and answers as they do, Telegram's flood
//! control (429 with Retry-After) included. The tokens reach the host
//! through `signing_secret_env`, as the docs advise.

use crate::notifications::{notifier, python};
use crate::support;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{Host, KEY, TOKEN, plugin_wasm, poll, storage_section, ticket, workspace_root};

const WAIT: Duration = Duration::from_secs(20);
const BOT_TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "f3a9c2e18b7d4c6a9e0b1d2c3f4a5b6c";
const FROM: &str = "+15005550006";
const ADA_PHONE: &str = "+4791234567";
const ADA_CHAT: u64 = 123456789;
const LINK_SECRET: &str = "[notifications]\nlink_secret = \"link-secret-0123456789abcdefghij\"\n";

/// The fake Telegram and Twilio APIs, killed on drop.
struct FakePhone {
    child: Child,
    log: PathBuf,
    base: String,
    _dir: tempfile::TempDir,
}

impl FakePhone {
    fn start(rate_limit_first: u32) -> FakePhone {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let port_file = dir.path().join("port");
        let child = Command::new(python())
            .arg(workspace_root().join("tests/e2e/support/fake_phone.py"))
            .args(["--port-file", port_file.to_str().unwrap()])
            .args(["--log", log.to_str().unwrap()])
            .args(["--telegram-token", BOT_TOKEN])
            .args(["--twilio-sid", ACCOUNT_SID, "--twilio-token", AUTH_TOKEN])
            .args(["--rate-limit-first", &rate_limit_first.to_string()])
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fake Telegram and Twilio APIs");
        assert!(poll(WAIT, || port_file.is_file()), "the fake phone APIs did not start");
        let port: u16 = std::fs::read_to_string(&port_file).unwrap().trim().parse().unwrap();
        FakePhone { child, log, base: format!("http://127.0.0.1:{port}"), _dir: dir }
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Waits until at least `count` requests came.
    fn wait_for(&self, count: usize) -> Vec<Value> {
        assert!(
            poll(WAIT, || self.entries().len() >= count),
            "expected {count} requests, got {:#?}",
            self.entries()
        );
        self.entries()
    }
}

impl Drop for FakePhone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Zendesk source whose policy is `policy` (its levels), plus `rest`.
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

/// A level notifying `targets` at once.
fn level(targets: &[&str]) -> String {
    let targets: Vec<String> = targets.iter().map(|t| format!("{t:?}")).collect();
    format!("[[escalation_policies.levels]]\nnotify = [{}]\n", targets.join(", "))
}

/// A Telegram channel on `url`, its bot token from the environment, its
/// own chat for `channel:telegram` targets.
fn telegram_channel(url: &str) -> String {
    format!(
        "[[channels]]\nname = \"telegram\"\nplugin = \"{}\"\nurl = \"{url}\"\nsigning_secret_env = \"TELEGRAM_BOT_TOKEN\"\ntimeout_ms = 5000\nsettings = {{ chat_id = \"@acme_oncall\" }}\n",
        notifier("notify_telegram")
    )
}

/// A Twilio channel named `name` on `url` in `mode`, its auth token from
/// the environment.
fn twilio_channel(name: &str, url: &str, mode: &str) -> String {
    format!(
        "[[channels]]\nname = \"{name}\"\nplugin = \"{}\"\nurl = \"{url}\"\nsigning_secret_env = \"TWILIO_AUTH_TOKEN\"\ntimeout_ms = 5000\nsettings = {{ account_sid = \"{ACCOUNT_SID}\", from = \"{FROM}\", mode = \"{mode}\" }}\n",
        notifier("notify_twilio")
    )
}

/// ada, with `contacts` (TOML inline tables).
fn ada(contacts: &[String]) -> String {
    format!("[[people]]\nname = \"ada\"\ncontacts = [{}]\n", contacts.join(", "))
}

fn contact(channel: &str, address: &str) -> String {
    format!("{{ channel = \"{channel}\", address = \"{address}\" }}")
}

/// Starts the host on `config` with the tokens in its environment.
fn start(config: &str) -> Host {
    start_with_tokens(config, BOT_TOKEN, AUTH_TOKEN)
}

fn start_with_tokens(config: &str, bot_token: &str, auth_token: &str) -> Host {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    Host::start_with(
        dir,
        &[],
        &[("TELEGRAM_BOT_TOKEN", bot_token), ("TWILIO_AUTH_TOKEN", auth_token)],
    )
}

/// Posts `ticket` to the Zendesk source; the new incident's id.
fn created(host: &Host, ticket: &Value) -> u64 {
    let (code, answer) = host.zendesk(ticket);
    assert_eq!(code, 202, "{answer}");
    answer["incident"]["id"].as_u64().unwrap()
}

fn ticket_titled(id: u64, title: &str) -> Value {
    let mut ticket = ticket(id, "New");
    ticket["title"] = json!(title);
    ticket
}

/// The incident's log entries of `kind`.
fn log_of(host: &Host, id: u64, kind: &str) -> Vec<Value> {
    let detail = host.incident(&json!(id));
    detail["log"].as_array().unwrap().iter().filter(|e| e["type"] == kind).cloned().collect()
}

fn outcomes(host: &Host, id: u64) -> Vec<String> {
    log_of(host, id, "notification_attempt")
        .iter()
        .map(|a| a["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// A request the fake took as the real service would (no problem found).
fn assert_accepted(entry: &Value, service: &str, status: u64) {
    assert_eq!(entry["service"], service, "{entry:#}");
    assert_eq!(entry["answered"], status, "{entry:#}");
    assert_eq!(entry["problems"], json!([]), "{entry:#}");
    let key = entry["headers"]["idempotency-key"].as_str().unwrap_or_default();
    assert!(key.starts_with("inbound-"), "{entry:#}");
}

/// `Basic base64(account_sid:auth_token)`.
fn twilio_basic_auth() -> String {
    let credentials = format!("{ACCOUNT_SID}:{AUTH_TOKEN}");
    format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)
    )
}

/// The labels of an inline keyboard, row by row.
fn button_labels(keyboard: &Value) -> Vec<Vec<String>> {
    keyboard
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|button| button["text"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// A person (by chat id) and a group (`channel:telegram`, settings
/// `chat_id`) get the page; the hostile title passes Telegram's entity
/// parsing as the text it was; the Accept button accepts.
#[test]
fn a_ticket_pages_a_person_and_a_group_on_telegram() {
    let phone = FakePhone::start(0);
    let rest = format!(
        "{LINK_SECRET}\n{}\n{}",
        telegram_channel(&phone.base),
        ada(&[contact("telegram", &ADA_CHAT.to_string())])
    );
    let host = start(&config(&level(&["person:ada", "channel:telegram"]), &rest));
    let hostile = "Printer <b>on fire</b> & \"smoking\" </a><script>x</script> &amp;";
    let id = created(&host, &ticket_titled(42, hostile));

    let sent = phone.wait_for(2);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    for entry in &sent {
        assert_accepted(entry, "telegram", 200);
        assert_eq!(entry["path"], format!("/bot{BOT_TOKEN}/sendMessage"));
        assert!(
            entry["headers"]["content-type"].as_str().unwrap().starts_with("application/json"),
            "{entry:#}"
        );
        let message = &entry["json"];
        assert_eq!(message["parse_mode"], "HTML");
        assert_eq!(message["disable_web_page_preview"], true);
        let visible = entry["visible"].as_str().unwrap();
        assert!(visible.starts_with(&format!("🚨 #{id} {hostile}\n")), "{visible}");
        assert!(visible.encode_utf16().count() <= 4096);
        let keyboard = &message["reply_markup"]["inline_keyboard"];
        let rows = keyboard.as_array().unwrap();
        assert_eq!(rows.last().unwrap()[0]["text"], "Open", "{message:#}");
        assert_eq!(
            rows.last().unwrap()[0]["url"],
            "https://example.zendesk.com/agent/tickets/42",
            "{message:#}"
        );
    }
    let to_ada = sent.iter().find(|e| e["json"]["chat_id"] == json!(ADA_CHAT)).expect("ada's");
    let to_group =
        sent.iter().find(|e| e["json"]["chat_id"] == "@acme_oncall").expect("the group's");
    assert!(to_ada["visible"].as_str().unwrap().contains("For ada"), "{to_ada:#}");
    assert!(!to_group["visible"].as_str().unwrap().contains("For ada"), "{to_group:#}");
    let keyboard = &to_ada["json"]["reply_markup"]["inline_keyboard"];
    assert_eq!(button_labels(keyboard), [vec!["Accept", "Resolve"], vec!["Open"]]);
    assert!(poll(WAIT, || outcomes(&host, id) == ["sent", "sent"]), "{:?}", outcomes(&host, id));

    // ada's Accept button: its page's POST accepts the incident.
    let link = keyboard[0][0]["url"].as_str().unwrap();
    let path = &link[link.find("/ack/").expect("a signed accept link")..];
    assert_eq!(host.post_with_headers(path, &[], "").0, 200);
    let detail = host.incident(&json!(id));
    assert_eq!(detail["incident"]["status"], "accepted");
}

/// Telegram's flood control: a 429 with Retry-After 1 is retried no
/// sooner, with the same idempotency key, and the message is sent.
#[test]
fn telegrams_flood_control_is_waited_out_and_the_message_sent() {
    let phone = FakePhone::start(1);
    let rest = format!(
        "[notifications]\nretry_initial_ms = 200\nretry_max_ms = 2000\n\n{}\n{}",
        telegram_channel(&phone.base),
        ada(&[contact("telegram", &ADA_CHAT.to_string())])
    );
    let host = start(&config(&level(&["person:ada"]), &rest));
    let id = created(&host, &ticket(43, "New"));

    let sent = phone.wait_for(2);
    assert_eq!(sent[0]["answered"], 429, "{sent:#?}");
    assert_eq!(sent[0]["answer"]["parameters"]["retry_after"], 1);
    assert_accepted(&sent[1], "telegram", 200);
    let waited = sent[1]["at"].as_f64().unwrap() - sent[0]["at"].as_f64().unwrap();
    assert!(waited >= 1.0, "Retry-After: 1 was honoured, not retry_initial_ms: {waited} s");
    assert_eq!(sent[0]["headers"]["idempotency-key"], sent[1]["headers"]["idempotency-key"]);
    assert_eq!(sent[0]["body"], sent[1]["body"], "the same message again");
    assert!(
        poll(WAIT, || outcomes(&host, id) == ["retrying", "sent"]),
        "{:?}",
        outcomes(&host, id)
    );
    let attempts = log_of(&host, id, "notification_attempt");
    assert!(attempts[0]["detail"].as_str().unwrap().starts_with("HTTP 429"), "{attempts:#?}");
    assert_eq!(phone.entries().len(), 2, "sent once");
}

/// A summary far longer than an SMS: the page fits two segments (the fake
/// counts them itself) with its "Reply ACK" instruction whole, through
/// Twilio's basic auth and form encoding; the resolution is an SMS too.
#[test]
fn a_long_ticket_reaches_a_phone_by_sms_within_two_segments() {
    let phone = FakePhone::start(0);
    let rest = format!(
        "{LINK_SECRET}\n{}\n{}",
        twilio_channel("sms", &phone.base, "sms"),
        ada(&[contact("sms", ADA_PHONE)])
    );
    let host = start(&config(&level(&["person:ada"]), &rest));
    let title = "Printer on fire on floor 3, smoke in the corridor; ".repeat(9);
    let id = created(&host, &ticket_titled(44, &title));

    let sms = &phone.wait_for(1)[0];
    assert_accepted(sms, "twilio", 201);
    assert_eq!(sms["path"], format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"));
    assert_eq!(sms["headers"]["authorization"], twilio_basic_auth());
    assert_eq!(sms["headers"]["content-type"], "application/x-www-form-urlencoded");
    let form = &sms["form"];
    assert_eq!((form["To"].as_str(), form["From"].as_str()), (Some(ADA_PHONE), Some(FROM)));
    let body = form["Body"].as_str().unwrap();
    assert!(sms["segments"].as_u64().unwrap() <= 2, "{sms:#}");
    assert!(
        body.starts_with(&format!("inbound #{id} urgent: Printer on fire on floor 3")),
        "{body}"
    );
    assert!(
        body.contains(&format!("... Reply ACK {id} to accept.")),
        "cut, never the instruction: {body}"
    );
    assert!(body.chars().count() < title.chars().count(), "{body}");
    assert!(sms["answer"]["sid"].as_str().unwrap().starts_with("SM"));
    assert_eq!(sms["answer"]["status"], "queued");
    assert!(poll(WAIT, || outcomes(&host, id) == ["sent"]), "{:?}", outcomes(&host, id));

    let (code, answer) =
        host.post_json(&format!("/api/v1/incidents/{id}/resolve"), &json!({"note": "fixed"}));
    assert_eq!(code, 200, "{answer}");
    let resolved = &phone.wait_for(2)[1];
    assert_accepted(resolved, "twilio", 201);
    let body = resolved["form"]["Body"].as_str().unwrap();
    assert!(body.starts_with(&format!("inbound #{id} resolved: Printer on fire")), "{body}");
    assert!(resolved["segments"].as_u64().unwrap() <= 2, "{resolved:#}");
}

/// Voice mode: a call whose TwiML says the page twice; the resolution
/// calls nobody, and its notification counts as sent.
#[test]
fn voice_mode_calls_with_the_page_said_twice_and_a_resolution_calls_nobody() {
    let phone = FakePhone::start(0);
    let rest = format!(
        "{}\n{}",
        twilio_channel("voice", &phone.base, "voice"),
        ada(&[contact("voice", ADA_PHONE)])
    );
    let host = start(&config(&level(&["person:ada"]), &rest));
    let id = created(&host, &ticket_titled(45, "Printer <on fire> & \"smoking\""));

    let call = &phone.wait_for(1)[0];
    assert_accepted(call, "twilio", 201);
    assert_eq!(call["path"], format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"));
    assert_eq!(call["headers"]["authorization"], twilio_basic_auth());
    assert_eq!(call["form"]["To"], ADA_PHONE);
    let says = call["says"].as_array().unwrap();
    let expected = format!(
        "inbound incident {id}, urgent: Printer <on fire> & \"smoking\". Press nothing; reply by SMS ACK {id} to accept."
    );
    assert_eq!(says, &[json!(expected), json!(expected)], "{call:#}");
    assert!(call["answer"]["sid"].as_str().unwrap().starts_with("CA"));
    assert!(poll(WAIT, || outcomes(&host, id) == ["sent"]), "{:?}", outcomes(&host, id));

    let (code, answer) = host.post_json(&format!("/api/v1/incidents/{id}/resolve"), &json!({}));
    assert_eq!(code, 200, "{answer}");
    let resolved_sent = || {
        let detail = host.incident(&json!(id));
        let notifications = detail["notifications"].as_array().unwrap();
        notifications
            .iter()
            .any(|n| n["kind"] == "resolved" && n["channel"] == "voice" && n["status"] == "sent")
    };
    assert!(poll(WAIT, resolved_sent), "{:#}", host.incident(&json!(id)));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(phone.entries().len(), 1, "no call for a resolution: {:#?}", phone.entries());
}

/// A refused auth token fails the page at once with Twilio's answer (a
/// 401 is not retried); the incident itself is unaffected.
#[test]
fn a_refused_twilio_token_fails_the_page_with_twilios_answer() {
    let phone = FakePhone::start(0);
    let rest = format!(
        "[notifications]\nretry_initial_ms = 200\n\n{}\n{}",
        twilio_channel("sms", &phone.base, "sms"),
        ada(&[contact("sms", ADA_PHONE)])
    );
    let host = start_with_tokens(
        &config(&level(&["person:ada"]), &rest),
        BOT_TOKEN,
        "0000000000000000000000000000dead",
    );
    let id = created(&host, &ticket(46, "New"));
    assert!(poll(WAIT, || outcomes(&host, id) == ["failed"]), "{:?}", outcomes(&host, id));
    let attempt = &log_of(&host, id, "notification_attempt")[0];
    let detail = attempt["detail"].as_str().unwrap();
    assert!(detail.starts_with("HTTP 401") && detail.contains("20003"), "{attempt:#}");
    assert!(!detail.contains("0000000000000000000000000000dead"), "{attempt:#}");
    assert_eq!(phone.entries()[0]["answered"], 401);
    assert_eq!(phone.entries().len(), 1, "a 401 is not retried");
    assert_eq!(host.incident(&json!(id))["incident"]["status"], "pending");
}

/// `inbound check` has each notifier render a sample: a Telegram channel
/// without its bot token, or a Twilio channel with a wrong account SID,
/// is refused before anything is sent.
#[test]
fn check_refuses_a_phone_channel_without_its_token_or_with_a_bad_account_sid() {
    let check = |rest: &str| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, config(&level(&["person:ada"]), rest)).unwrap();
        support::inbound(&["check", "--config", file.to_str().unwrap()], &[])
    };
    let telegram = telegram_channel("https://api.telegram.org")
        .replace("signing_secret_env = \"TELEGRAM_BOT_TOKEN\"\n", "");
    let (code, stdout, stderr) =
        check(&format!("{telegram}\n{}", ada(&[contact("telegram", "123456789")])));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("signing_secret") && stderr.contains("bot token"), "{stderr}");

    let twilio = twilio_channel("sms", "https://api.twilio.com", "sms")
        .replace(ACCOUNT_SID, "AC123")
        .replace(
            "signing_secret_env = \"TWILIO_AUTH_TOKEN\"",
            &format!("signing_secret = \"{AUTH_TOKEN}\""),
        );
    let (code, stdout, stderr) = check(&format!("{twilio}\n{}", ada(&[contact("sms", ADA_PHONE)])));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("settings") && stderr.contains("account_sid \"AC123\""), "{stderr}");
}

/// `inbound plugin check` recognises both notifiers.
#[test]
fn plugin_check_recognises_the_phone_notifiers() {
    for name in ["notify_telegram", "notify_twilio"] {
        let (code, stdout, stderr) = support::inbound(&["plugin", "check", &notifier(name)], &[]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.starts_with("ok: ") && stdout.contains("implements inbound:notifier@0.2.0"),
            "{stdout}"
        );
    }
}
