//! End to end on PostgreSQL (`storage.backend = "postgres"`): several real
//! `inbound` hosts on one real database (a throwaway cluster of Debian's
//! PostgreSQL, see `support/postgres.rs`), real HTTP, the real plugins.
//!
//! The rest of the suite runs on PostgreSQL too with
//! `INBOUND_TEST_STORAGE=postgres` (`make test` does, for the end-to-end
//! tests that do not look inside a redb file); these are the promises only
//! several hosts, or a database that goes away, can test.

use crate::support;

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use support::postgres::Cluster;
use support::{
    Authority, Host, KEY, StopOnDrop, TOKEN, plugin_wasm, poll, postgres_storage, ticket,
    zendesk_config_on,
};

const WAIT: Duration = Duration::from_secs(30);
/// The longest a load test's workers run, whatever happens to the test's
/// own thread: a load test fails rather than hangs.
const LOAD_DEADLINE: Duration = Duration::from_secs(180);

fn host_on(url: &str, extra: &str) -> Host {
    Host::start(&zendesk_config_on(&postgres_storage(url), extra))
}

/// Every incident `host` lists, by ticket key.
fn incidents_by_key(host: &Host) -> HashMap<String, Vec<Value>> {
    let mut found: HashMap<String, Vec<Value>> = HashMap::new();
    for incident in host.all_incidents() {
        found.entry(incident["key"].as_str().unwrap().to_string()).or_default().push(incident);
    }
    found
}

#[test]
fn a_storm_of_one_new_ticket_split_across_two_hosts_creates_exactly_one_incident() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let hosts = [host_on(&url, ""), host_on(&url, "")];
    for round in 0..4u64 {
        let id = 7000 + round;
        let deliveries = 24;
        let barrier = Arc::new(Barrier::new(deliveries));
        let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..deliveries)
                .map(|n| {
                    let (barrier, host) = (barrier.clone(), &hosts[n % 2]);
                    scope.spawn(move || {
                        barrier.wait();
                        host.zendesk(&ticket(id, "Open"))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (status, body) in &answers {
            assert_eq!(*status, 202, "{body}");
        }
        let created = answers.iter().filter(|(_, b)| b["action"] == "created").count();
        assert_eq!(created, 1, "exactly one delivery creates, across both hosts: {answers:?}");
        let ids: HashSet<String> =
            answers.iter().map(|(_, b)| b["incident"]["id"].to_string()).collect();
        assert_eq!(ids.len(), 1, "every answer names the same incident: {ids:?}");
        for host in &hosts {
            let listed = incidents_by_key(host).remove(&id.to_string()).unwrap_or_default();
            assert_eq!(listed.len(), 1, "both hosts see one incident for ticket {id}");
        }
        // Every acknowledged delivery is in the log: an entry, or a repeat
        // counted on the entry it repeats.
        let incident = ids.into_iter().next().unwrap();
        let (_, log) = hosts[1].get(&format!("/api/v1/incidents/{incident}/log?limit=500"));
        let events: u64 = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["type"] == "event_received")
            .map(|entry| 1 + entry["repeats"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(events, deliveries as u64, "{log:#}");
    }
}

#[test]
fn killing_one_host_under_load_loses_no_acknowledged_event_and_the_other_keeps_serving() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let victim = host_on(&url, "");
    let survivor = host_on(&url, "");
    let acknowledged = Mutex::new(Vec::new());
    let next = AtomicU64::new(1);
    let killed = AtomicBool::new(false);
    let after_kill = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + LOAD_DEADLINE;
    std::thread::scope(|scope| {
        // Stops the workers when this body ends, a failed assertion included.
        let _stop = StopOnDrop(&stop);
        for worker in 0..4 {
            let (victim, survivor, acknowledged) = (&victim, &survivor, &acknowledged);
            let (next, killed, after_kill, stop) = (&next, &killed, &after_kill, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    let host = if worker % 2 == 0 { victim } else { survivor };
                    let dead = killed.load(Ordering::Relaxed);
                    match host.try_zendesk(&ticket(id, "New")) {
                        Some((202, _)) => {
                            acknowledged.lock().unwrap().push(id);
                            if dead && worker % 2 == 1 {
                                after_kill.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        // The victim after its kill: no need to spin.
                        None => std::thread::sleep(Duration::from_millis(10)),
                        Some(_) => {}
                    }
                }
            });
        }
        assert!(poll(WAIT, || acknowledged.lock().unwrap().len() >= 80), "no load got through");
        victim.kill();
        killed.store(true, Ordering::Relaxed);
        let kept_on = poll(WAIT, || after_kill.load(Ordering::Relaxed) >= 60);
        assert!(kept_on, "the survivor kept acknowledging: {}", survivor.logs());
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    let stored = incidents_by_key(&survivor);
    let missing: Vec<u64> =
        acknowledged.iter().copied().filter(|id| !stored.contains_key(&id.to_string())).collect();
    assert!(missing.is_empty(), "acknowledged but not stored: {missing:?}");
    for (key, incidents) in stored {
        assert_eq!(incidents.len(), 1, "ticket {key} has one incident");
    }
}

#[test]
fn while_postgres_restarts_under_load_webhooks_get_503_with_retry_after_then_everything_resumes() {
    let cluster = Cluster::start();
    // Fast 503s make many requests: the source's rate limit is not under test.
    let host = host_on(&cluster.new_database(), "rate_limit_per_second = 0\n");
    let path = format!("/api/v1/events/zendesk/{KEY}");
    // (ticket, status, whether the answer had Retry-After) of every webhook.
    let answers = Mutex::new(Vec::new());
    let next = AtomicU64::new(1);
    let done = AtomicBool::new(false);
    let deadline = Instant::now() + LOAD_DEADLINE;
    let count = |status: u16| {
        answers.lock().unwrap().iter().filter(|a: &&(u64, u16, bool)| a.1 == status).count()
    };
    std::thread::scope(|scope| {
        // Stops the workers when this body ends, a failed assertion included
        // (PostgreSQL may be stopped then: the cluster's drop cleans up).
        let _stop = StopOnDrop(&done);
        for _ in 0..3 {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    let body = ticket(id, "New").to_string();
                    let (status, headers, _) = host.post_with_headers(
                        &path,
                        &[("content-type", "application/json")],
                        body,
                    );
                    answers.lock().unwrap().push((id, status, headers.contains_key("retry-after")));
                }
            });
        }
        assert!(poll(WAIT, || count(202) >= 40), "load got through");
        // A crash of the database server under load: the WAL keeps what it
        // acknowledged.
        cluster.stop("immediate");
        assert!(poll(WAIT, || count(503) >= 5), "webhooks answered 503 while it is down");
        let (ready, _) = host.get("/readyz");
        assert_eq!(ready, 503, "not ready while the database is away");
        let (status, _) = host.get("/api/v1/incidents");
        assert_eq!(status, 503, "reads say unavailable too");
        // The notify engine, which looks for due work every second, says so
        // once.
        let waiting = "escalations and notifications wait while storage is unavailable";
        assert!(host.wait_for_log(waiting, WAIT), "{}", host.logs());
        let before = count(202);
        cluster.resume();
        assert!(poll(WAIT, || count(202) >= before + 40), "acknowledging again: {}", host.logs());
    });
    let answers = answers.into_inner().unwrap();
    for (id, status, retry_after) in &answers {
        assert!(
            *status == 202 || (*status == 503 && *retry_after),
            "ticket {id}: {status} (retry-after: {retry_after}); only 202, or 503 with Retry-After"
        );
    }
    // Every connection is back within a reconnect round or two.
    assert!(poll(WAIT, || host.get("/readyz").0 == 200), "ready again: {}", host.logs());
    let going_on = "escalations and notifications go on";
    assert!(host.wait_for_log(going_on, WAIT), "{}", host.logs());
    let logs = host.logs();
    assert_eq!(logs.matches("escalations and notifications wait").count(), 1, "{logs}");
    assert!(!logs.contains("pass failed"), "the outage is told once, not as errors: {logs}");
    let (_, failed) = host.get("/api/v1/failed");
    assert_eq!(failed["failed_deliveries"], json!([]), "the outage is not the plugin's failure");
    let stored = incidents_by_key(&host);
    for (id, status, _) in &answers {
        if *status == 202 {
            assert_eq!(stored.get(&id.to_string()).map(Vec::len), Some(1), "ticket {id}");
        }
    }
    assert!(host.logs().contains("reconnected to PostgreSQL"), "{}", host.logs());
}

/// A minimal webhook receiver: answers 200 to every POST and keeps bodies.
struct Sink {
    port: u16,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Sink {
    fn start() -> Sink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let sink = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_ok() {
                        sink.lock()
                            .unwrap()
                            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    }
                    let mut stream = stream;
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                });
            }
        });
        Sink { port, bodies }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

#[test]
fn each_escalation_level_fires_once_and_each_notification_is_sent_once_across_two_hosts() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let sink = Sink::start();
    // Level 0 at once, level 1 a (scaled) minute later; time_scale makes
    // that minute 200 ms, so both hosts' engines race for both levels.
    let extra = format!(
        r#"
[notifications]
time_scale = 300

[[channels]]
name = "hook"
plugin = "{plugin}"
url = "http://127.0.0.1:{port}/hook"
signing_secret = "webhook-secret-0123456789abcdef"
# Counted one by one here: the throttle has its own test (throttle.rs).
throttle = {{ max_messages = 0 }}
"#,
        plugin = plugin_wasm("notify_webhook").display(),
        port = sink.port,
    );
    let policy = "\n[[escalation_policies.levels]]\nnotify = [\"channel:hook\"]\n\n[[escalation_policies.levels]]\ndelay_minutes = 1\nnotify = [\"channel:hook\"]\n";
    let config = zendesk_config_on(&postgres_storage(&url), &extra).replacen(
        "name = \"support-oncall\"\nlevels = []\n",
        &format!("name = \"support-oncall\"{policy}"),
        1,
    );
    let hosts = [Host::start(&config), Host::start(&config)];
    let tickets = 6u64;
    for id in 1..=tickets {
        let (status, answer) = hosts[(id % 2) as usize].zendesk(&ticket(id, "New"));
        assert_eq!(status, 202, "{answer}");
    }
    let expected = (tickets * 2) as usize;
    assert!(
        poll(WAIT, || sink.bodies().len() >= expected),
        "expected {expected} notifications, got {:#?}\n{}",
        sink.bodies(),
        hosts[0].logs()
    );
    // Both engines poll at least once a second: give a duplicate the time
    // to show up before counting.
    let settled = poll(Duration::from_millis(1500), || sink.bodies().len() > expected);
    let bodies = sink.bodies();
    assert!(!settled, "a notification was sent twice: {bodies:#?}");
    let ids: HashSet<String> = bodies.iter().map(|body| body["id"].to_string()).collect();
    assert_eq!(ids.len(), expected, "{bodies:#?}");
    for incident in hosts[0].all_incidents() {
        let detail = hosts[1].incident(&incident["id"]);
        let sent: Vec<&Value> = detail["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["status"] == "sent")
            .collect();
        assert_eq!(sent.len(), 2, "two levels, one notification each: {detail:#}");
    }
}

/// Noise control on two hosts sharing one database: a window started on one
/// holds the other's escalations too, its end releases each incident once,
/// and a missed heartbeat opens one incident, not one per host.
#[test]
fn a_window_and_a_heartbeat_act_once_across_two_hosts() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let sink = Sink::start();
    let beat = "beat-key-0123456789abcdefghij";
    let extra = format!(
        r#"
[notifications]
time_scale = 600

[[channels]]
name = "hook"
plugin = "{plugin}"
url = "http://127.0.0.1:{port}/hook"
signing_secret = "webhook-secret-0123456789abcdef"
throttle = {{ max_messages = 0 }}

[[heartbeats]]
name = "cron"
key = "{beat}"
interval_minutes = 1
grace_minutes = 0
escalation_policy = "support-oncall"
"#,
        plugin = plugin_wasm("notify_webhook").display(),
        port = sink.port,
    );
    let policy = "\n[[escalation_policies.levels]]\nnotify = [\"channel:hook\"]\n";
    let config = zendesk_config_on(&postgres_storage(&url), &extra).replacen(
        "name = \"support-oncall\"\nlevels = []\n",
        &format!("name = \"support-oncall\"{policy}"),
        1,
    );
    let hosts = [Host::start(&config), Host::start(&config)];
    let (status, window) =
        hosts[0].post_json("/api/v1/maintenance", &json!({"name": "deploy", "minutes": 60}));
    assert_eq!(status, 201, "{window}");
    let tickets = 4u64;
    for id in 1..=tickets {
        let (status, answer) = hosts[(id % 2) as usize].zendesk(&ticket(id, "New"));
        assert_eq!(status, 202, "{answer}");
    }
    let held = poll(WAIT, || {
        hosts[1].all_incidents().iter().all(|incident| {
            hosts[1].incident(&incident["id"])["escalation"]["held"]["reason"]
                == "maintenance deploy"
        })
    });
    assert!(held, "{:#?}", hosts[1].all_incidents());
    assert!(sink.bodies().is_empty(), "nobody paged during the window");

    let ended = reqwest::blocking::Client::new()
        .delete(hosts[1].url("/api/v1/maintenance/deploy"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(ended.status().as_u16(), 200);
    let expected = tickets as usize;
    assert!(poll(WAIT, || sink.bodies().len() >= expected), "{:#?}", sink.bodies());
    let settled = poll(Duration::from_millis(1500), || sink.bodies().len() > expected);
    assert!(!settled, "paged twice after the window: {:#?}", sink.bodies());

    let (status, _) = hosts[0].post_raw(&format!("/api/v1/heartbeats/{beat}"), "text/plain", "");
    assert_eq!(status, 200);
    let missed =
        || hosts[0].all_incidents().into_iter().filter(|i| i["source"] == "heartbeats").count();
    assert!(poll(WAIT, || missed() >= 1));
    let settled = poll(Duration::from_millis(1500), || missed() > 1);
    assert!(!settled, "one incident per miss, not one per host");
    assert!(poll(WAIT, || sink.bodies().len() == expected + 1), "the miss paged once");
}

#[test]
fn hosts_starting_together_on_an_empty_database_migrate_it_once() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let hosts: Vec<Host> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3).map(|_| scope.spawn(|| host_on(&url, ""))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let database = url.rsplit('/').next().unwrap();
    let applied = cluster.psql(database, "SELECT count(*) FROM inbound_schema_history").unwrap();
    let migrations = std::fs::read_dir(support::workspace_root().join("host/migrations")).unwrap();
    assert_eq!(applied, migrations.count().to_string(), "each migration applied once");
    let (status, _) = hosts[2].zendesk(&ticket(1, "New"));
    assert_eq!(status, 202);
    assert_eq!(hosts[0].all_incidents().len(), 1, "every host reads what another wrote");
}

#[test]
fn retention_deletes_expired_resolved_incidents_and_their_logs_from_postgres() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let retention = "\n[storage.retention]\nresolved_incidents_days = 30\n";
    let host = host_on(&url, retention);
    for id in 1..=5 {
        assert_eq!(host.zendesk(&ticket(id, "New")).0, 202);
    }
    for id in 1..=4 {
        assert_eq!(host.zendesk(&ticket(id, "Solved")).0, 202);
    }
    let ids: HashMap<String, Value> = incidents_by_key(&host)
        .into_iter()
        .map(|(key, incidents)| (key, incidents[0]["id"].clone()))
        .collect();
    // Tickets 1 to 3 were resolved 40 days ago, as far as retention can tell.
    let database = url.rsplit('/').next().unwrap();
    let forty_days = 40u64 * 24 * 60 * 60 * 1000;
    let aged = cluster
        .psql(
            database,
            &format!(
                "UPDATE incidents SET resolved_at = resolved_at - {forty_days} WHERE key IN ('1', '2', '3')"
            ),
        )
        .unwrap();
    assert_eq!(aged, "UPDATE 3");
    // A sweep runs at start-up.
    let host = host.restart();
    let gone = |key: &str| host.get(&format!("/api/v1/incidents/{}", ids[key])).0 == 404;
    assert!(poll(WAIT, || gone("3")), "the expired incidents are deleted: {}", host.logs());
    for key in ["1", "2", "3"] {
        assert!(gone(key), "ticket {key}");
        let log = format!("SELECT count(*) FROM incident_log WHERE incident = {}", ids[key]);
        assert_eq!(cluster.psql(database, &log).unwrap(), "0", "the log of ticket {key}");
    }
    for key in ["4", "5"] {
        assert!(!gone(key), "ticket {key} is kept");
    }
    let (_, counts) = host.get("/api/v1/incidents?status=resolved");
    assert_eq!(counts["incidents"].as_array().unwrap().len(), 1, "{counts}");
    let resolved =
        cluster.psql(database, "SELECT count FROM incident_counts WHERE status = 2").unwrap();
    assert_eq!(resolved, "1", "the count of resolved incidents follows");
}

#[test]
fn retention_drops_a_shared_event_body_with_the_last_entry_that_refers_to_it() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let key = "alerts-key-0123456789abcdefghij";
    let extra = format!(
        "\n[integrations.alertmanager]\nplugin = \"{}\"\n\n[[sources]]\nname = \"alerts\"\nintegration = \"alertmanager\"\nescalation_policy = \"support-oncall\"\nkey = \"{key}\"\n\n[storage.retention]\nresolved_incidents_days = 30\n",
        plugin_wasm("alertmanager").display()
    );
    let host = host_on(&url, &extra);
    // One group of three alerts, firing, then resolved: two events, each
    // about all three incidents, each body kept once.
    let alert = |n: u64, status: &str| {
        json!({"status": status, "labels": {"alertname": "DiskFull", "instance": format!("db{n}")},
            "annotations": {"summary": format!("Disk full on db{n}")},
            "startsAt": "2026-03-28T12:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prom/graph", "fingerprint": format!("f{n}")})
    };
    let group = |status: &str| {
        json!({"version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "status": status,
            "receiver": "inbound", "groupLabels": {"alertname": "DiskFull"},
            "commonLabels": {"alertname": "DiskFull"}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": (0..3).map(|n| alert(n, status)).collect::<Vec<_>>()})
    };
    let path = format!("/api/v1/events/alertmanager/{key}");
    for status in ["firing", "resolved"] {
        let (code, answer) = host.post_raw(&path, "application/json", group(status).to_string());
        assert_eq!(code, 202, "{answer}");
    }
    let database = url.rsplit('/').next().unwrap();
    let refs = || cluster.psql(database, "SELECT refs FROM event_bodies ORDER BY refs").unwrap();
    assert_eq!(refs(), "3\n3");
    let age = |keys: &str| {
        let sql = format!(
            "UPDATE incidents SET resolved_at = resolved_at - {} WHERE key IN ({keys})",
            40u64 * 24 * 60 * 60 * 1000
        );
        cluster.psql(database, &sql).unwrap()
    };
    let keys: Vec<String> =
        host.all_incidents().iter().map(|i| format!("'{}'", i["key"].as_str().unwrap())).collect();
    assert_eq!(keys.len(), 3);

    // Two of the three expire: each body is still referred to once.
    assert_eq!(age(&keys[..2].join(",")), "UPDATE 2");
    let host = host.restart();
    assert!(poll(WAIT, || refs() == "1\n1"), "{}: {}", refs(), host.logs());
    let (_, left) = host.get("/api/v1/incidents?status=resolved");
    let left = &left["incidents"][0];
    let received = host.incident(&left["id"]);
    let bodies: Vec<&str> = received["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "event_received")
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [group("firing").to_string(), group("resolved").to_string()]);

    // The last one expires: the bodies go with it.
    assert_eq!(age(&keys[2]), "UPDATE 1");
    let host = host.restart();
    assert!(poll(WAIT, || refs().is_empty()), "{}: {}", refs(), host.logs());
    assert!(host.all_incidents().is_empty());
}

#[test]
fn a_postgres_backend_needs_a_url_and_a_redb_backend_takes_none() {
    let base = zendesk_config_on("[storage]\nbackend = \"postgres\"", "");
    let (code, stderr) = support::serve_expecting_failure(&base);
    assert_ne!(code, 0);
    assert!(stderr.contains("storage.url"), "{stderr}");
    assert!(stderr.contains("url_env"), "says how to give it: {stderr}");

    let stray = zendesk_config_on("[storage]\nurl = \"postgres://db/inbound\"", "");
    let (code, stderr) = support::serve_expecting_failure(&stray);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("backend = \\\"postgres\\\"") || stderr.contains("backend = \"postgres\""),
        "{stderr}"
    );

    let stray_ca = zendesk_config_on("[storage]\nca_file = \"ca.pem\"", "");
    let (code, stderr) = support::serve_expecting_failure(&stray_ca);
    assert_ne!(code, 0);
    assert!(stderr.contains("storage.ca_file"), "{stderr}");

    // Not a connection string: `check` and `serve` name the key.
    let garbled = zendesk_config_on(&postgres_storage("postgres://[::1"), "");
    let (code, stderr) = support::serve_expecting_failure(&garbled);
    assert_ne!(code, 0);
    assert!(stderr.contains("storage.url is not a PostgreSQL connection string"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &garbled).unwrap();
    let (code, _, stderr) = support::inbound(&["check", "--config", path.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("storage.url"), "{stderr}");

    // Nothing listens there: serve says so and stops, rather than serving 503s.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable =
        zendesk_config_on(&postgres_storage(&format!("postgres://inbound@127.0.0.1:{port}/x")), "");
    let (code, stderr) = support::serve_expecting_failure(&unreachable);
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot connect to PostgreSQL"), "{stderr}");
}

#[test]
fn a_console_open_on_one_host_hears_of_an_incident_another_host_created() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let (writer, watcher) = (host_on(&url, ""), host_on(&url, ""));
    // The watching host must commit nothing itself, or its own commit could
    // wake its list: the new incident's escalation (a policy without levels,
    // which either host's engine may close) is over before the list opens,
    // and what follows is a comment, which leaves the engines nothing to do.
    let (status, created) = writer.zendesk(&ticket(1, "New"));
    assert_eq!(status, 202, "{created}");
    let id = created["incident"]["id"].clone();
    let settled = poll(WAIT, || watcher.incident(&id)["escalation"]["state"] == "exhausted");
    assert!(settled, "the escalation ends: {}", watcher.incident(&id));

    let signed_in = support::console_sign_in(&watcher, support::TOKEN, None);
    let session = support::cookie(&signed_in, "inbound_session");
    let live = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap()
        .get(watcher.url("/ui/live"))
        .header("cookie", format!("inbound_session={session}"))
        .send()
        .unwrap();
    assert_eq!(live.status().as_u16(), 200);
    let (heard, events) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(live).lines().map_while(Result::ok) {
            if line == "event: changed" {
                let _ = heard.send(());
            }
        }
    });
    // A late word of the escalation's commit is not what is listened for.
    while events.recv_timeout(Duration::from_secs(2)).is_ok() {}

    let mut commented = ticket(1, "Open");
    commented["latest_comment"] = "Still on fire".into();
    let (status, answer) = writer.zendesk(&commented);
    assert_eq!((status, answer["action"].as_str()), (202, Some("commented")), "{answer}");
    assert!(
        events.recv_timeout(WAIT).is_ok(),
        "the live list on the other host was not told: {}",
        watcher.logs()
    );
}

#[test]
fn with_sslmode_require_every_connection_is_encrypted_and_the_server_verified() {
    let cluster = Cluster::start();
    let authority = Authority::new("inbound test PostgreSQL CA");
    cluster.enable_tls(&authority.host_certificate());
    let trusted = tempfile::tempdir().unwrap();
    let ca_file = trusted.path().join("ca.pem");
    std::fs::write(&ca_file, &authority.pem).unwrap();
    let database = cluster.new_database();
    let storage = |ca_file: &std::path::Path| {
        format!(
            "{}?sslmode=require\"\nca_file = \"{}\"",
            postgres_storage(&database).trim_end_matches('"'),
            ca_file.display()
        )
    };

    let host = Host::start(&zendesk_config_on(&storage(&ca_file), ""));
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202);
    let name = database.rsplit('/').next().unwrap();
    let connections = |ssl: bool| {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
             WHERE datname = '{name}' AND application_name = 'inbound' AND ssl = {ssl}"
        );
        cluster.psql("postgres", &sql).unwrap().trim().parse::<u32>().unwrap()
    };
    // The readers connect in the background: all five within a moment.
    let all_encrypted = poll(WAIT, || connections(true) == 5);
    assert!(all_encrypted, "four readers and the writer, encrypted: {}", connections(true));
    assert_eq!(connections(false), 0, "none in plain text");
    drop(host);

    // A server whose certificate this CA did not sign is not trusted, even
    // though it offers TLS: nothing is sent to it.
    let stranger = tempfile::tempdir().unwrap();
    let other_ca = stranger.path().join("other-ca.pem");
    std::fs::write(&other_ca, Authority::new("someone else").pem).unwrap();
    let (code, stderr) =
        support::serve_expecting_failure(&zendesk_config_on(&storage(&other_ca), ""));
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot connect to PostgreSQL"), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "says why: {stderr}");

    // A CA file that is not one is found by `check` as well as by `serve`.
    std::fs::write(&other_ca, "not a certificate").unwrap();
    let (code, stderr) =
        support::serve_expecting_failure(&zendesk_config_on(&storage(&other_ca), ""));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("storage.ca_file") && stderr.contains("no PEM certificate"),
        "{stderr}"
    );
    let config = stranger.path().join("config.toml");
    std::fs::write(&config, zendesk_config_on(&storage(&other_ca), "")).unwrap();
    let (code, _, stderr) = support::inbound(&["check", "--config", config.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("storage.ca_file"), "{stderr}");
}

#[test]
fn a_console_session_opened_on_one_host_is_served_by_the_other_until_signed_out_there() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let people = "\n[[people]]\nname = \"ada\"\nrole = \"responder\"\n";
    let (first, second) = (host_on(&url, people), host_on(&url, people));
    let answer = reqwest::blocking::Client::new()
        .put(first.url("/api/v1/people/ada/password"))
        .bearer_auth(support::TOKEN)
        .json(&json!({"password": "ada's long passphrase 42"}))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);

    // Signed in on the first host, served by the second: the session is in
    // the database both read.
    let signed_in = support::person_sign_in(&first, "ada", "ada's long passphrase 42");
    let cookie = support::cookie(&signed_in, "inbound_session");
    let on_second = support::ConsoleSession::with_cookie(&second, &cookie);
    let (status, page) = on_second.get("/ui/");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<span class=\"who\">ada</span>"), "{page}");

    // Signing out on the second host ends it on the first.
    let (status, _) = on_second.post("/ui/sign-out", &on_second.csrf(), &[]);
    assert_eq!(status, 303);
    let on_first = support::ConsoleSession::with_cookie(&first, &cookie);
    assert_eq!(on_first.get("/ui/").0, 303, "signed out everywhere the session was");
    let audited = poll(WAIT, || {
        let (_, audit) = first.get("/api/v1/audit?action=sign_out");
        audit["entries"][0]["actor"] == "person ada"
    });
    assert!(audited, "the sign-out is in the audit trail");
}
