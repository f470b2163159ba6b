//! End to end: concurrent deliveries end in a state some serial order of the
//! acknowledged events would give. The host runs plugin calls in parallel
//! and validates their reads at commit (optimistic concurrency); these tests
//! fail if that validation is missing or wrong.

use crate::support;

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;
use support::{Host, ticket, zendesk_config};

/// Posts `bodies` from one thread each, all released at once; returns the
/// answers in thread order.
fn storm(host: &Host, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .into_iter()
            .map(|body| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    host.zendesk(&body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn incidents_for(host: &Host, key: &str) -> Vec<Value> {
    host.incidents().into_iter().filter(|i| i["key"] == key).collect()
}

#[test]
fn simultaneous_deliveries_of_one_new_ticket_create_exactly_one_incident() {
    let host = Host::start(&zendesk_config(""));
    for round in 0..5u64 {
        let id = 1000 + round;
        let answers = storm(&host, (0..24).map(|_| ticket(id, "Open")).collect());
        for (status, body) in &answers {
            assert_eq!(*status, 202, "{body}");
        }
        let created = answers.iter().filter(|(_, b)| b["action"] == "created").count();
        assert_eq!(created, 1, "exactly one delivery creates; the others find it: {answers:?}");
        let ids: Vec<&Value> = answers.iter().map(|(_, b)| &b["incident"]["id"]).collect();
        assert!(ids.iter().all(|i| *i == ids[0]), "all answers name the same incident: {ids:?}");
        assert_eq!(incidents_for(&host, &id.to_string()).len(), 1);
    }
}

/// Replays an incident's log as a serial history: every event's action must
/// be what the lifecycle gives from the status before it, and the final
/// status must be the stored one.
fn assert_log_is_a_serial_history(host: &Host, incident: &Value) {
    // The whole log (the detail carries only the newest entries).
    let (_, shown) = host.get(&format!("/api/v1/incidents/{}/log?limit=500", incident["id"]));
    let mut status: Option<&str> = None;
    for entry in shown["entries"].as_array().unwrap() {
        match entry["type"].as_str().unwrap() {
            "created" => {
                assert_eq!(status, None, "created twice: {shown}");
                status = Some("pending");
            }
            "status_changed" => {
                let (from, to) = (entry["from"].as_str().unwrap(), entry["to"].as_str().unwrap());
                assert_eq!(Some(from), status, "status change from a state it was not in: {shown}");
                assert_ne!(from, "resolved", "a resolved incident was reopened: {shown}");
                status = Some(to);
            }
            // Logged after the status change the event made: `status` is
            // the one the event left, so only a Solved may have resolved.
            "event_received" => {
                let body: Value = serde_json::from_str(entry["body"].as_str().unwrap()).unwrap();
                let expected = match (body["status"].as_str().unwrap(), status.unwrap()) {
                    ("Solved", "resolved") if entry["action"] == "resolved" => "resolved",
                    ("Open", _) if entry["action"] == "created" => "created",
                    ("Open", _) => "unchanged",
                    ("Pending", _) if entry["action"] == "created" => "created",
                    ("Pending", "accepted") if entry["action"] == "accepted" => "accepted",
                    ("Pending", _) => "unchanged",
                    ("Solved", "resolved") => "unchanged",
                    (other, state) => panic!("unexpected event {other} in state {state}: {shown}"),
                };
                assert_eq!(entry["action"], expected, "{shown}");
            }
            "comment" => {}
            other => panic!("unknown log entry {other}"),
        }
    }
    let now = host.incident(&incident["id"]);
    assert_eq!(Some(now["incident"]["status"].as_str().unwrap()), status, "{shown}");
}

#[test]
fn interleaved_status_storms_leave_a_serial_history() {
    let host = Host::start(&zendesk_config(""));
    let statuses = ["Open", "Pending", "Solved", "Open", "Pending", "Pending", "Solved", "Open"];
    for round in 0..4u64 {
        let id = 2000 + round;
        // Make sure an incident exists so Solved is never a 400.
        assert_eq!(host.zendesk(&ticket(id, "Open")).0, 202);
        let bodies: Vec<Value> =
            (0..24).map(|i| ticket(id, statuses[i % statuses.len()])).collect();
        let answers = storm(&host, bodies);
        let mut acknowledged: HashMap<String, usize> = HashMap::new();
        for (status, body) in &answers {
            assert!(*status == 202 || *status == 400, "{body}");
            if *status == 202 {
                *acknowledged.entry(body["incident"]["id"].to_string()).or_default() += 1;
            } else {
                assert_eq!(
                    body["error"]["code"], "no-incident",
                    "only a Solved with nothing open may be refused"
                );
            }
        }
        let incidents = incidents_for(&host, &id.to_string());
        let open = incidents.iter().filter(|i| i["status"] != "resolved").count();
        assert!(open <= 1, "at most one open incident per ticket: {incidents:?}");
        for incident in &incidents {
            assert_log_is_a_serial_history(&host, incident);
            // Every acknowledged event is in the log of the incident it named:
            // an entry of its own, or counted on an identical one (`repeats`).
            let (_, log) = host.get(&format!("/api/v1/incidents/{}/log?limit=500", incident["id"]));
            let events: usize = log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "event_received")
                .map(|e| 1 + e["repeats"].as_u64().unwrap_or(0) as usize)
                .sum();
            let acked = acknowledged.get(&incident["id"].to_string()).copied().unwrap_or(0);
            assert!(
                events >= acked,
                "incident {} logs {events} events, {acked} acknowledged",
                incident["id"]
            );
        }
    }
}
