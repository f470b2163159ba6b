//! End to end: two-way integrations. The real binary and Zendesk plugin,
//! and a fake of Zendesk's Tickets API (`support/fake_zendesk.py`) that
//! checks the auth header and the JSON as Zendesk does, answers 429 with
//! Retry-After when told, and fires the ticket's trigger back at inbound
//! after every update, as a real Zendesk trigger on "ticket updated" does.

use crate::notifications::python;
use crate::support;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Host, KEY, poll, ticket, workspace_root, zendesk_config};

const WAIT: Duration = Duration::from_secs(20);
const USER: &str = "agent@acme.example/token";
const API_TOKEN: &str = "zendesk-api-token-0123456789";

/// The fake Zendesk API, killed on drop.
struct FakeZendesk {
    child: Child,
    log: PathBuf,
    base: String,
    _dir: tempfile::TempDir,
}

impl FakeZendesk {
    fn start(throttle_first: u32) -> FakeZendesk {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let port_file = dir.path().join("port");
        let child = Command::new(python())
            .arg(workspace_root().join("tests/e2e/support/fake_zendesk.py"))
            .args(["--port-file", port_file.to_str().unwrap()])
            .args(["--log", log.to_str().unwrap()])
            .args(["--user", USER, "--token", API_TOKEN])
            .args(["--throttle-first", &throttle_first.to_string()])
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fake Zendesk API");
        assert!(poll(WAIT, || port_file.is_file()), "the fake Zendesk API did not start");
        let port: u16 = std::fs::read_to_string(&port_file).unwrap().trim().parse().unwrap();
        FakeZendesk { child, log, base: format!("http://127.0.0.1:{port}"), _dir: dir }
    }

    /// Where its trigger posts (inbound's webhook), and the tickets it knows.
    fn connect(&self, host: &Host, tickets: &[Value]) {
        let client = reqwest::blocking::Client::new();
        let webhook = host.url(&format!("/api/v1/events/zendesk/{KEY}"));
        client.post(format!("{}/_webhook", self.base)).body(webhook).send().unwrap();
        for ticket in tickets {
            client.post(format!("{}/_tickets", self.base)).json(ticket).send().unwrap();
        }
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    fn updates(&self) -> Vec<Value> {
        self.entries().into_iter().filter(|e| e["method"] == "PUT").collect()
    }

    fn echoes(&self) -> Vec<Value> {
        self.entries().into_iter().filter(|e| e["echo"] == true).collect()
    }

    /// Waits until `count` updates were answered 200 and each was echoed.
    fn wait_for_synced(&self, count: usize) -> Vec<Value> {
        let synced = || {
            let ok = self.updates().iter().filter(|u| u["answered"] == 200).count();
            ok >= count && self.echoes().len() >= count
        };
        assert!(
            poll(WAIT, synced),
            "expected {count} updates answered 200 and echoed, got {:#?}",
            self.entries()
        );
        self.updates().into_iter().filter(|u| u["answered"] == 200).collect()
    }
}

impl Drop for FakeZendesk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(api: &str, settings: &str) -> String {
    zendesk_config(&format!(
        r#"settings = {{ {settings} }}

[sources.outbound]
url = "{api}"
auth = "basic"
user = "{USER}"
token = "{API_TOKEN}"
timeout_ms = 5000

[notifications]
retry_initial_ms = 200
retry_max_ms = 2000
"#
    ))
}

/// The comment and status one update sent, checked for the shape Zendesk
/// takes: an internal note, basic auth with the API token.
fn sent(update: &Value) -> (String, Option<String>) {
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{USER}:{API_TOKEN}")
        )
    );
    assert_eq!(update["headers"]["authorization"], expected.as_str(), "{update}");
    assert!(update["headers"]["idempotency-key"].as_str().unwrap().starts_with("inbound-"));
    let body: Value = serde_json::from_str(update["body"].as_str().unwrap()).unwrap();
    let comment = &body["ticket"]["comment"];
    assert_eq!(comment["public"], false, "an internal note: {body}");
    (
        comment["body"].as_str().unwrap().to_string(),
        body["ticket"]["status"].as_str().map(str::to_string),
    )
}

fn log_of(host: &Host, id: &Value) -> Vec<Value> {
    host.incident(id)["log"].as_array().unwrap().clone()
}

fn count(log: &[Value], kind: &str) -> usize {
    log.iter().filter(|entry| entry["type"] == kind).count()
}

/// Accept, note and resolve in inbound reach the ticket as internal notes
/// with the configured statuses; Zendesk's echo of each changes nothing
/// and sends nothing more.
#[test]
fn accept_note_and_resolve_reach_the_ticket_once_and_the_echo_changes_nothing() {
    let zendesk = FakeZendesk::start(0);
    let host = Host::start(&config(
        &zendesk.base,
        r#"on_accept_status = "open", on_resolve_status = "solved""#,
    ));
    let new_ticket = ticket(7, "New");
    zendesk.connect(&host, std::slice::from_ref(&new_ticket));
    let (code, answer) = host.zendesk(&new_ticket);
    assert_eq!(code, 202, "{answer}");
    let id = answer["incident"]["id"].clone();

    let (code, answer) =
        host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({"note": "on it"}));
    assert_eq!(code, 200, "{answer}");
    let updates = zendesk.wait_for_synced(1);
    assert_eq!(updates[0]["path"], "/api/v2/tickets/7.json");
    let (note, status) = sent(&updates[0]);
    assert!(note.contains("Accepted in inbound by ops") && note.contains("on it"), "{note}");
    assert!(note.contains(&format!("inbound-{id}-")), "the note carries the marker: {note}");
    assert_eq!(status.as_deref(), Some("open"));

    let (code, answer) =
        host.post_json(&format!("/api/v1/incidents/{id}/notes"), &json!({"text": "fan replaced"}));
    assert_eq!(code, 201, "{answer}");
    let updates = zendesk.wait_for_synced(2);
    let (note, status) = sent(&updates[1]);
    assert!(note.contains("fan replaced") && note.contains("ops"), "{note}");
    assert_eq!(status, None, "a note changes no status");

    let (code, answer) =
        host.post_json(&format!("/api/v1/incidents/{id}/resolve"), &json!({"note": "fixed"}));
    assert_eq!(code, 200, "{answer}");
    let updates = zendesk.wait_for_synced(3);
    let (note, status) = sent(&updates[2]);
    assert!(note.contains("Resolved in inbound by ops") && note.contains("fixed"), "{note}");
    assert_eq!(status.as_deref(), Some("solved"));

    // Every echo was answered 2xx and changed nothing: one accept, one
    // resolve, the person's note only, and no new incident for the ticket.
    for echo in zendesk.echoes() {
        assert!(echo["status"].as_u64().is_some_and(|s| (200..300).contains(&s)), "{echo}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = log_of(&host, &id);
    assert_eq!(count(&log, "status_changed"), 2, "{log:#?}");
    assert_eq!(count(&log, "comment"), 1, "only the person's note: {log:#?}");
    assert_eq!(host.all_incidents().len(), 1);
    assert_eq!(
        zendesk.updates().len(),
        3,
        "the echoes sent nothing back: {:#?}",
        zendesk.entries()
    );
    let attempts: Vec<&Value> = log
        .iter()
        .filter(|e| e["type"] == "notification_attempt" && e["outcome"] == "sent")
        .collect();
    assert_eq!(attempts.len(), 3, "each update is in the incident's log: {log:#?}");
    assert!(attempts[0]["recipient"].as_str().unwrap().contains("sender of source support"));
}

/// Zendesk's rate limit (429 with Retry-After) is honoured: the update is
/// retried after it, and both attempts are in the incident's log.
#[test]
fn a_rate_limited_update_waits_for_retry_after_and_is_sent() {
    let zendesk = FakeZendesk::start(1);
    let host = Host::start(&config(&zendesk.base, ""));
    let new_ticket = ticket(8, "New");
    zendesk.connect(&host, std::slice::from_ref(&new_ticket));
    let (_, answer) = host.zendesk(&new_ticket);
    let id = answer["incident"]["id"].clone();
    let started = Instant::now();
    let (code, _) = host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({}));
    assert_eq!(code, 200);
    zendesk.wait_for_synced(1);
    let updates = zendesk.updates();
    assert_eq!(updates[0]["answered"], 429, "{updates:#?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    let log = log_of(&host, &id);
    let outcomes: Vec<&str> = log
        .iter()
        .filter(|e| e["type"] == "notification_attempt")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["retrying", "sent"], "{log:#?}");
}

/// Wrong credentials are a final failure, listed as failed, with Zendesk's
/// answer in the log; the incident itself is accepted regardless.
#[test]
fn refused_credentials_fail_the_update_and_not_the_accept() {
    let zendesk = FakeZendesk::start(0);
    let host = Host::start(
        &config(&zendesk.base, "")
            .replace(&format!("token = \"{API_TOKEN}\""), "token = \"wrong-token\""),
    );
    let new_ticket = ticket(9, "New");
    zendesk.connect(&host, std::slice::from_ref(&new_ticket));
    let (_, answer) = host.zendesk(&new_ticket);
    let id = answer["incident"]["id"].clone();
    let (code, answer) = host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({}));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["incident"]["status"], "accepted");
    let failed = || {
        let (_, page) = host.get(&format!("/api/v1/notifications?status=failed&incident={id}"));
        page["notifications"].as_array().cloned().unwrap_or_default()
    };
    assert!(poll(WAIT, || !failed().is_empty()), "{:#?}", zendesk.entries());
    let entry = &failed()[0];
    assert_eq!(entry["channel"], "outbound:support");
    assert_eq!(entry["kind"], "outbound");
    assert_eq!(entry["change"]["kind"], "accepted");
    assert!(entry["last_error"].as_str().unwrap().contains("401"), "{entry}");
    assert_eq!(zendesk.updates().len(), 1, "a 401 is not retried");
}

/// A source without `[sources.outbound]` never tells its sender anything.
#[test]
fn a_source_without_outbound_sends_nothing_back() {
    let host = Host::start(&zendesk_config(""));
    let (_, answer) = host.zendesk(&ticket(10, "New"));
    let id = answer["incident"]["id"].clone();
    let (code, _) =
        host.post_json(&format!("/api/v1/incidents/{id}/notes"), &json!({"text": "hello"}));
    assert_eq!(code, 201);
    let (code, _) = host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({}));
    assert_eq!(code, 200);
    let (_, page) = host.get(&format!("/api/v1/notifications?incident={id}"));
    assert_eq!(page["notifications"], json!([]), "{page}");
    // The note is in the log, with its author.
    let log = log_of(&host, &id);
    let note = log.iter().find(|e| e["type"] == "comment").expect("the note");
    assert_eq!(note["text"], "hello");
    // Empty notes are refused.
    let (code, answer) =
        host.post_json(&format!("/api/v1/incidents/{id}/notes"), &json!({"text": "  "}));
    assert_eq!((code, answer["error"]["code"].as_str()), (400, Some("note-empty")));
}
