//! End to end: a database written by inbound 0.2 (`tests/fixtures/v0.2.redb`,
//! schema 1) is migrated once when today's host opens it: the file as it was
//! is kept beside it, every incident, log entry, escalation and failed
//! delivery is still served, and the key lookups still find open incidents.

use crate::support;

use serde_json::Value;
use support::{Host, workspace_root, zendesk_config};

const FIXTURE_KEY: &str = "fixture-zendesk-key-0123456789abcdef";

fn log_types(detail: &Value) -> Vec<String> {
    detail["log"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().into()).collect()
}

#[test]
fn a_0_2_database_is_migrated_once_keeping_a_copy_and_everything_in_it() {
    let fixture = workspace_root().join("tests/fixtures/v0.2.redb");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let database = dir.path().join("data/inbound.redb");
    std::fs::copy(&fixture, &database).unwrap();
    // The fixture's Zendesk source and key, so its tickets keep mapping.
    let config = zendesk_config("").replace(support::KEY, FIXTURE_KEY);
    std::fs::write(dir.path().join("config.toml"), config).unwrap();

    let host = Host::start_in(dir);
    assert!(host.logs().contains("migrating the database from schema 1 to 3"), "{}", host.logs());
    let copy = host.dir.path().join("data/inbound.redb.before-schema-3");
    let same = std::fs::read(&copy).unwrap() == std::fs::read(&fixture).unwrap();
    assert!(same, "the copy is the 0.2 file, byte for byte");

    let statuses: Vec<Value> =
        (1..=5).map(|id| host.incident(&Value::from(id))["incident"]["status"].clone()).collect();
    assert_eq!(statuses, ["accepted", "resolved", "accepted", "pending", "pending"]);
    // The 0.2 log, in order; the host may append delivery attempts of the
    // fixture's pending notifications (to a closed port) after it.
    let second = log_types(&host.incident(&Value::from(2)));
    let kept = [
        "created",
        "comment",
        "event_received",
        "escalated",
        "notification_attempt",
        "comment",
        "status_changed",
        "event_received",
        "escalated",
        "notification_attempt",
    ];
    assert!(second.len() >= kept.len() && second[..kept.len()] == kept, "{second:?}");
    let third = host.incident(&Value::from(3));
    let accepted = third["log"].as_array().unwrap().iter().any(|entry| {
        entry["type"] == "status_changed" && entry["to"] == "accepted" && entry["note"] == "on it"
    });
    assert!(accepted, "{third}");
    let alert = host.incident(&Value::from(4));
    let events = log_types(&alert).iter().filter(|t| *t == "event_received").count();
    assert_eq!(events, 3, "0.2's entries are kept as they were, not merged: {alert}");
    assert_eq!(alert["escalation"]["state"], "exhausted");
    let (status, failed) = host.get("/api/v1/failed/1");
    assert_eq!(status, 200, "{failed}");
    assert_eq!(failed["fallback_incident"], 5, "{failed}");
    assert_eq!(failed["body"], r#"{"x":1}"#, "the kept body is intact");

    // The key lookups survived: ticket 101's open incident is found and resolved.
    let events = format!("/api/v1/events/zendesk/{FIXTURE_KEY}");
    let post = |body: Value| host.post_raw(&events, "application/json", body.to_string());
    let (status, answer) = post(support::ticket(101, "Solved"));
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        (answer["action"].as_str(), answer["incident"]["id"].as_u64()),
        (Some("resolved"), Some(1))
    );
    // New incidents continue after the largest stored id.
    let (_, answer) = post(support::ticket(900, "Open"));
    assert_eq!(answer["incident"]["id"], 6, "{answer}");

    // Once: a restart finds schema 3 and neither migrates nor copies again.
    let host = host.restart();
    assert!(!host.logs().contains("migrating the database"), "{}", host.logs());
    let copies = std::fs::read_dir(host.dir.path().join("data"))
        .unwrap()
        .filter(|entry| {
            entry.as_ref().unwrap().file_name().to_string_lossy().contains("before-schema")
        })
        .count();
    assert_eq!(copies, 1);
    assert_eq!(host.incident(&Value::from(1))["incident"]["status"], "resolved");
}
