//! End to end: the Zendesk lifecycle tables of the public setup guide, each
//! row its own test, against the real binary, HTTP, redb file and plugin.

use crate::support;

use serde_json::{Value, json};
use support::{Host, KEY, ticket, zendesk_config};

fn host() -> Host {
    Host::start(&zendesk_config(""))
}

fn assert_created(answer: &(u16, Value), ticket_id: u64) -> Value {
    let (status, body) = answer;
    assert_eq!(*status, 202, "{body}");
    assert_eq!(body["action"], "created", "{body}");
    assert_eq!(body["incident"]["key"], ticket_id.to_string());
    assert_eq!(body["incident"]["status"], "pending");
    assert_eq!(body["incident"]["source"], "support");
    body["incident"].clone()
}

fn assert_rejected_and_nothing_stored(host: &Host, answer: &(u16, Value)) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty(), "{body}");
    assert_eq!(host.incidents(), Vec::<Value>::new(), "a 400 must store nothing");
}

// --- "When I create a Zendesk ticket with status..." -----------------------

#[test]
fn create_new_ticket_creates_an_incident() {
    let host = host();
    let incident = assert_created(&host.zendesk(&ticket(1, "New")), 1);
    assert_eq!(incident["summary"], "Printer on fire #1");
    assert_eq!(incident["priority"], "urgent");
    assert_eq!(incident["url"], "https://example.zendesk.com/agent/tickets/1");
    assert_eq!(incident["escalation_policy"], "support-oncall");
    assert_eq!(host.incidents().len(), 1);
}

#[test]
fn create_open_ticket_creates_an_incident() {
    let host = host();
    assert_created(&host.zendesk(&ticket(2, "Open")), 2);
}

#[test]
fn create_pending_ticket_creates_an_incident() {
    let host = host();
    assert_created(&host.zendesk(&ticket(3, "Pending")), 3);
}

#[test]
fn create_solved_ticket_is_rejected_and_creates_nothing() {
    let host = host();
    let answer = host.zendesk(&ticket(4, "Solved"));
    assert_rejected_and_nothing_stored(&host, &answer);
    assert!(answer.1["error"]["message"].as_str().unwrap().contains('4'), "{}", answer.1);
}

#[test]
fn create_closed_ticket_is_rejected_and_creates_nothing() {
    let host = host();
    let answer = host.zendesk(&ticket(5, "Closed"));
    assert_rejected_and_nothing_stored(&host, &answer);
}

// --- "When I update a Zendesk ticket with status... and the incident..." ---

#[test]
fn update_open_without_incident_creates_one() {
    let host = host();
    assert_created(&host.zendesk(&ticket(10, "open")), 10);
}

#[test]
fn update_solved_without_incident_is_rejected() {
    let host = host();
    let answer = host.zendesk(&ticket(11, "solved"));
    assert_rejected_and_nothing_stored(&host, &answer);
}

#[test]
fn update_pending_without_incident_creates_one() {
    let host = host();
    assert_created(&host.zendesk(&ticket(12, "pending")), 12);
}

#[test]
fn update_open_with_open_incident_changes_nothing() {
    let host = host();
    let created = assert_created(&host.zendesk(&ticket(13, "New")), 13);
    let (status, body) = host.zendesk(&ticket(13, "Open"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "unchanged");
    assert_eq!(body["incident"]["id"], created["id"]);
    assert_eq!(body["incident"]["status"], "pending");
    assert_eq!(host.incidents().len(), 1);
}

#[test]
fn update_solved_with_open_incident_resolves_it_once() {
    let host = host();
    let created = assert_created(&host.zendesk(&ticket(14, "Open")), 14);
    let (status, body) = host.zendesk(&ticket(14, "Solved"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "resolved");
    assert_eq!(body["incident"]["id"], created["id"]);
    assert_eq!(body["incident"]["status"], "resolved");
    // "...if not already resolved": Zendesk closes solved tickets later.
    let (status, body) = host.zendesk(&ticket(14, "Closed"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "unchanged");
    assert_eq!(body["incident"]["id"], created["id"]);
    assert_eq!(host.incidents().len(), 1);
}

#[test]
fn update_pending_with_open_incident_accepts_it_once() {
    let host = host();
    let created = assert_created(&host.zendesk(&ticket(15, "Open")), 15);
    let (status, body) = host.zendesk(&ticket(15, "Pending"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "accepted");
    assert_eq!(body["incident"]["status"], "accepted");
    let (status, body) = host.zendesk(&ticket(15, "Pending"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "unchanged");
    assert_eq!(body["incident"]["id"], created["id"]);
    assert_eq!(body["incident"]["status"], "accepted");
}

// --- Decisions beyond the guide ---------------------------------------------

#[test]
fn reopened_ticket_creates_a_new_incident_and_never_reopens() {
    let host = host();
    let first = assert_created(&host.zendesk(&ticket(20, "Open")), 20);
    assert_eq!(host.zendesk(&ticket(20, "Solved")).1["action"], "resolved");
    let second = assert_created(&host.zendesk(&ticket(20, "Open")), 20);
    assert_ne!(first["id"], second["id"]);
    let old = host.incident(&first["id"]);
    assert_eq!(old["incident"]["status"], "resolved");
}

#[test]
fn id_may_be_a_json_number() {
    let host = host();
    let mut body = ticket(21, "Open");
    body["id"] = json!(21);
    assert_created(&host.zendesk(&body), 21);
}

#[test]
fn raw_newline_inside_a_string_is_accepted() {
    let host = host();
    let body =
        ticket(22, "Open").to_string().replace("The printer on floor 3", "The printer\non floor 3");
    assert!(body.contains('\n'));
    let (status, answer) =
        host.post_raw(&format!("/api/v1/events/zendesk/{KEY}"), "application/json", body);
    assert_eq!(status, 202, "{answer}");
    assert!(answer["incident"]["details"].as_str().unwrap().contains("The printer\non floor 3"));
}

#[test]
fn malformed_json_is_rejected_with_its_position() {
    let host = host();
    let (status, body) = host.post_raw(
        &format!("/api/v1/events/zendesk/{KEY}"),
        "application/json",
        "{\"id\": \"1\",, }",
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid-json");
    assert!(body["error"]["message"].as_str().unwrap().contains("column"), "{body}");
    assert_eq!(host.incidents(), Vec::<Value>::new());
}

#[test]
fn unknown_status_is_rejected_listing_accepted_words() {
    let host = host();
    let (status, body) = host.zendesk(&ticket(23, "Exploded"));
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Exploded") && message.contains("pending"), "{message}");
    assert_eq!(host.incidents(), Vec::<Value>::new());
}

#[test]
fn status_translations_come_from_the_source_settings() {
    let host = Host::start(&zendesk_config(
        "[sources.settings]\nstatus_aliases = { \"løst\" = \"solved\" }\n",
    ));
    assert_created(&host.zendesk(&ticket(24, "Open")), 24);
    let (status, body) = host.zendesk(&ticket(24, "Løst"));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "resolved");
}

#[test]
fn new_latest_comment_is_added_to_the_incident_log_once() {
    let host = host();
    let created = assert_created(&host.zendesk(&ticket(25, "Open")), 25);
    let mut update = ticket(25, "Open");
    update["latest_comment"] = json!("Fire brigade is on its way.");
    assert_eq!(host.zendesk(&update).1["action"], "commented");
    assert_eq!(host.zendesk(&update).1["action"], "unchanged");
    let log = host.incident(&created["id"])["log"].as_array().unwrap().clone();
    let comments: Vec<&Value> = log.iter().filter(|entry| entry["type"] == "comment").collect();
    assert_eq!(comments.len(), 1, "{log:?}");
    assert_eq!(comments[0]["text"], "Fire brigade is on its way.");
}

#[test]
fn an_old_comment_delivered_again_out_of_order_is_not_added_again() {
    let host = host();
    let created = assert_created(&host.zendesk(&ticket(26, "Open")), 26);
    let with_comment = |text: &str| {
        let mut update = ticket(26, "Open");
        update["latest_comment"] = json!(text);
        host.zendesk(&update).1["action"].clone()
    };
    assert_eq!(with_comment("first"), "commented");
    assert_eq!(with_comment("second"), "commented");
    // Zendesk redelivers the first update late.
    assert_eq!(with_comment("first"), "unchanged");
    assert_eq!(with_comment("second"), "unchanged");
    let log = host.incident(&created["id"])["log"].as_array().unwrap().clone();
    let comments: Vec<&Value> = log.iter().filter(|entry| entry["type"] == "comment").collect();
    let texts: Vec<&str> = comments.iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["first", "second"], "{log:?}");
}

// --- The host around the plugin ----------------------------------------------

#[test]
fn wrong_key_and_unknown_integration_are_404_and_store_nothing() {
    let host = host();
    let body = ticket(30, "Open").to_string();
    let (status, answer) = host.post_raw(
        "/api/v1/events/zendesk/wrong-key-0123456789abcdef",
        "application/json",
        body.clone(),
    );
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown-key");
    let (status, answer) =
        host.post_raw(&format!("/api/v1/events/pagerduty/{KEY}"), "application/json", body);
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown-integration");
    assert_eq!(host.incidents(), Vec::<Value>::new());
}

#[test]
fn body_over_the_limit_is_413_and_zendesk_sized_bodies_pass() {
    let host = Host::start(
        &zendesk_config("").replace("[server]\n", "[server]\nbody_limit_bytes = 300000\n"),
    );
    let mut big = ticket(31, "Open");
    big["description"] = json!("x".repeat(256_000));
    let (status, body) = host.zendesk(&big);
    assert_eq!(status, 202, "Zendesk's 256 KB bodies must be accepted: {body}");
    big["description"] = json!("x".repeat(310_000));
    let (status, body) = host.zendesk(&big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "body-too-large");
    assert_eq!(host.incidents().len(), 1);
}

#[test]
fn incident_log_records_the_event_the_creation_and_status_changes() {
    let host = host();
    let created = assert_created(&host.zendesk(&ticket(32, "Open")), 32);
    host.zendesk(&ticket(32, "Pending"));
    host.zendesk(&ticket(32, "Solved"));
    let shown = host.incident(&created["id"]);
    let types: Vec<&str> =
        shown["log"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "created",
            "event_received",
            "status_changed",
            "event_received",
            "status_changed",
            "event_received"
        ]
    );
    let first_event = &shown["log"][1];
    assert_eq!(first_event["action"], "created");
    assert!(first_event["body"].as_str().unwrap().contains("Printer on fire #32"));
    assert!(shown["log"][0]["at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn incidents_list_filters_and_pages_newest_first() {
    let host = host();
    for id in 40..45 {
        assert_created(&host.zendesk(&ticket(id, "Open")), id);
    }
    host.zendesk(&ticket(41, "Solved"));
    let (_, page) = host.get("/api/v1/incidents?limit=2");
    let keys: Vec<&str> =
        page["incidents"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["44", "43"]);
    let (_, next) = host.get(&format!("/api/v1/incidents?limit=2&before={}", page["next_before"]));
    let keys: Vec<&str> =
        next["incidents"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["42", "41"]);
    let (_, resolved) = host.get("/api/v1/incidents?status=resolved&source=support");
    assert_eq!(resolved["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(resolved["incidents"][0]["key"], "41");
    let (status, bad) = host.get("/api/v1/incidents?status=done");
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["code"], "invalid-status");
}

#[test]
fn every_incident_and_its_log_survive_a_restart() {
    let host = host();
    for id in 50..53 {
        assert_created(&host.zendesk(&ticket(id, "Open")), id);
    }
    host.zendesk(&ticket(51, "Pending"));
    host.zendesk(&ticket(52, "Solved"));
    let before: Vec<Value> = host.incidents().iter().map(|i| host.incident(&i["id"])).collect();
    let host = host.restart();
    let after: Vec<Value> = host.incidents().iter().map(|i| host.incident(&i["id"])).collect();
    assert_eq!(before.len(), 3);
    assert_eq!(before, after);
    // The open-incident index survived too: an update finds the same incident.
    let (_, answer) = host.zendesk(&ticket(51, "Solved"));
    assert_eq!(answer["action"], "resolved");
}
