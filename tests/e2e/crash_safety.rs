//! End to end: SIGKILL under sustained load loses no acknowledged event.
//!
//! Several clients post ticket lifecycles (Open, Pending, Solved) as fast as
//! they can; the host is killed at a random moment, restarted on the same
//! data directory, and every event that got a 2xx is checked against the
//! incidents and their logs. Repeated for several rounds.

use crate::support;

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use support::{Host, ticket, zendesk_config};

const ROUNDS: u64 = 3;
const CLIENTS: u64 = 6;

/// An acknowledged event: which incident it named and the status it implies.
struct Acked {
    incident: Value,
    status_at_least: u8,
}

fn rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "accepted" => 1,
        "resolved" => 2,
        other => panic!("unknown status {other}"),
    }
}

/// One client: lifecycles of its own tickets until the host dies.
fn client(host: &Host, client: u64, round: u64, stop: &AtomicBool) -> (u64, Vec<Acked>) {
    let mut sent = 0;
    let mut acked = Vec::new();
    for n in 0.. {
        let id = round * 1_000_000 + client * 10_000 + n;
        for status in ["Open", "Pending", "Solved"] {
            if stop.load(Ordering::Relaxed) {
                return (sent, acked);
            }
            sent += 1;
            let Some((code, body)) = host.try_zendesk(&ticket(id, status)) else {
                return (sent, acked); // the host is gone
            };
            assert_eq!(code, 202, "{body}");
            acked.push(Acked {
                incident: body["incident"]["id"].clone(),
                status_at_least: rank(body["incident"]["status"].as_str().unwrap()),
            });
        }
    }
    unreachable!()
}

#[test]
fn no_acknowledged_event_is_lost_across_sigkill() {
    // The clients post as fast as the host answers, far above any real
    // sender: the per-source rate limit (tests/e2e/abuse_limits.rs) is turned off
    // so that every refusal here would be a durability failure.
    let mut host = Host::start(&zendesk_config("rate_limit_per_second = 0"));
    let mut totals = (0u64, 0u64);
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        // A pseudo-random moment between 150 and 450 ms into the load.
        let kill_after =
            Duration::from_millis(150 + (std::process::id() as u64 * 7919 + round * 104_729) % 300);
        let results: Vec<(u64, Vec<Acked>)> = thread::scope(|scope| {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    let (host, stop) = (&host, stop.clone());
                    scope.spawn(move || client(host, c, round, &stop))
                })
                .collect();
            let started = Instant::now();
            while started.elapsed() < kill_after {
                thread::sleep(Duration::from_millis(5));
            }
            host.kill();
            stop.store(true, Ordering::Relaxed);
            clients.into_iter().map(|c| c.join().unwrap()).collect()
        });
        host = host.restart_after_kill();

        let mut expected: HashMap<String, (u8, usize)> = HashMap::new();
        for acked in results.iter().flat_map(|(_, acked)| acked) {
            let entry = expected.entry(acked.incident.to_string()).or_default();
            entry.0 = entry.0.max(acked.status_at_least);
            entry.1 += 1;
        }
        let sent: u64 = results.iter().map(|(sent, _)| sent).sum();
        let acknowledged: usize = expected.values().map(|(_, count)| count).sum();
        assert!(
            acknowledged > 0,
            "the load must have produced acknowledged events before the kill"
        );
        for (id, (status, events)) in &expected {
            let (code, shown) = host.get(&format!("/api/v1/incidents/{id}"));
            assert_eq!(code, 200, "acknowledged incident {id} lost: {shown}");
            assert!(
                rank(shown["incident"]["status"].as_str().unwrap()) >= *status,
                "incident {id} went back: {shown}"
            );
            let logged = shown["log"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "event_received")
                .count();
            assert!(
                logged >= *events,
                "incident {id}: {events} events acknowledged, {logged} logged"
            );
        }
        let mut open_per_key: HashMap<String, usize> = HashMap::new();
        for incident in host.all_incidents().iter().filter(|i| i["status"] != "resolved") {
            *open_per_key.entry(incident["key"].as_str().unwrap().to_string()).or_default() += 1;
        }
        assert!(
            open_per_key.values().all(|&n| n == 1),
            "duplicate open incidents: {open_per_key:?}"
        );
        totals.0 += sent;
        totals.1 += acknowledged as u64;
        eprintln!(
            "round {round}: sent {sent}, acknowledged {acknowledged}, all found after SIGKILL"
        );
    }
    eprintln!(
        "crash safety: {ROUNDS} rounds, {} events sent, {} acknowledged, {} found",
        totals.0, totals.1, totals.1
    );
}
