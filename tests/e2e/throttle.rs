//! End to end: throttles and digests. The real binary, the real webhook
//! notifier (inbound:notifier@0.2.0) and a frozen 0.1.0 one, the documented
//! Python receiver. A storm of incidents for one person comes through as a
//! few messages, every incident in exactly one of them; a kill -9 with
//! notifications held loses none; another person's page is not held up; an
//! old notifier's channel is never throttled.
//!
//! `[notifications] time_scale = 60` makes the 10-minute window 10 s.

use crate::notifications::{Receiver, SECRET, notifier};
use crate::support;

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use support::{Host, KEY, plugin_wasm, poll, storage_section, ticket};

const OPS_KEY: &str = "ops-key-0123456789abcdefghijkl";
/// 10 minutes at time_scale 60.
const WINDOW: Duration = Duration::from_secs(10);

/// Sources `support` (its policy pages ada) and `ops` (pages grace), both
/// through the webhook channel `hook` with `throttle`, plus `rest`.
fn config(hook_url: &str, throttle: &str, rest: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{storage}

[[api.tokens]]
name = "ops"
token = "{token}"
role = "admin"

[notifications]
time_scale = 60

[integrations.zendesk]
plugin = "{zendesk}"

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{KEY}"
rate_limit_per_second = 0

[[sources]]
name = "ops"
integration = "zendesk"
escalation_policy = "ops-oncall"
key = "{OPS_KEY}"
rate_limit_per_second = 0

[[escalation_policies]]
name = "support-oncall"
  [[escalation_policies.levels]]
  notify = ["person:ada"]

[[escalation_policies]]
name = "ops-oncall"
  [[escalation_policies.levels]]
  notify = ["person:grace"]

[[channels]]
name = "hook"
plugin = "{webhook}"
url = "{hook_url}"
signing_secret = "{SECRET}"
timeout_ms = 5000
  [channels.throttle]
  {throttle}

[[people]]
name = "ada"
contacts = [{{ channel = "hook", address = "ada" }}]

[[people]]
name = "grace"
contacts = [{{ channel = "hook", address = "grace" }}]
{rest}
"#,
        storage = storage_section(),
        token = support::TOKEN,
        zendesk = plugin_wasm("zendesk").display(),
        webhook = notifier("notify_webhook"),
    )
}

/// Posts tickets `ids` to `support` from a few threads; returns the incident
/// ids the host acknowledged (a refused connection during a kill is not).
fn storm(host: &Host, ids: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    let ids: Vec<u64> = ids.collect();
    let chunks: Vec<Vec<u64>> =
        ids.chunks(ids.len().div_ceil(6).max(1)).map(<[u64]>::to_vec).collect();
    std::thread::scope(|scope| {
        let posting: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut created = Vec::new();
                    for id in chunk {
                        if let Some((202, answer)) = host.try_zendesk(&ticket(id, "New")) {
                            created.push(answer["incident"]["id"].as_u64().unwrap());
                        }
                    }
                    created
                })
            })
            .collect();
        posting.into_iter().flat_map(|thread| thread.join().unwrap()).collect()
    })
}

/// What one request to the receiver delivered: the incident ids in it, the
/// idempotency key, and whether it was a digest.
struct Delivered {
    key: String,
    person: Option<String>,
    incidents: Vec<u64>,
    digest: bool,
}

fn delivered(receiver: &Receiver) -> Vec<Delivered> {
    receiver
        .requests()
        .iter()
        .map(|request| {
            assert_eq!(request["signature_ok"], true, "{request}");
            let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
            let digest = body["type"] == "incident.digest";
            let incidents = if digest {
                body["notifications"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["incident"]["id"].as_u64().unwrap())
                    .collect()
            } else {
                vec![body["incident"]["id"].as_u64().unwrap()]
            };
            Delivered {
                key: request["headers"]["idempotency-key"].as_str().unwrap().to_string(),
                person: body["recipient"]["person"].as_str().map(str::to_string),
                incidents,
                digest,
            }
        })
        .collect()
}

/// Times each incident id was delivered, over all messages.
fn coverage(messages: &[Delivered]) -> HashMap<u64, usize> {
    let mut seen = HashMap::new();
    for message in messages {
        for id in &message.incidents {
            *seen.entry(*id).or_default() += 1;
        }
    }
    seen
}

fn log_outcomes(host: &Host, id: u64) -> Vec<(String, String)> {
    let detail = host.incident(&json!(id));
    detail["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "notification_attempt")
        .map(|e| {
            (e["outcome"].as_str().unwrap().to_string(), e["detail"].as_str().unwrap().to_string())
        })
        .collect()
}

/// 1,000 new incidents within a minute for one person: at most ~10
/// messages, every incident in exactly one, each incident's log says how it
/// was notified; meanwhile another person's page goes out at once.
#[test]
fn a_storm_of_a_thousand_incidents_reaches_a_person_in_a_few_messages() {
    let receiver = Receiver::start(0, 0);
    let host = Host::start(&config(
        &receiver.url("/hook"),
        "max_messages = 10\n  window_minutes = 10",
        "",
    ));
    const INCIDENTS: u64 = 1000;
    let started = Instant::now();
    let created = storm(&host, 1..=INCIDENTS);
    let storm_took = started.elapsed();
    assert_eq!(created.len(), INCIDENTS as usize);

    // Grace's page during ada's storm goes at once: her contact has its own budget.
    let paged = Instant::now();
    let (code, answer) = host.post_raw(
        &format!("/api/v1/events/zendesk/{OPS_KEY}"),
        "application/json",
        ticket(5000, "New").to_string(),
    );
    assert_eq!(code, 202, "{answer}");
    let graces = answer["incident"]["id"].as_u64().unwrap();
    assert!(
        poll(Duration::from_secs(5), || delivered(&receiver)
            .iter()
            .any(|m| m.person.as_deref() == Some("grace"))),
        "grace's page waited behind ada's storm"
    );
    let grace_waited = paged.elapsed();

    let everyone: HashSet<u64> = created.iter().copied().chain([graces]).collect();
    assert!(
        poll(Duration::from_secs(60), || coverage(&delivered(&receiver)).len() >= everyone.len()),
        "not every incident was delivered: {} of {}",
        coverage(&delivered(&receiver)).len(),
        everyone.len()
    );
    let total = started.elapsed();
    std::thread::sleep(Duration::from_millis(500)); // nothing more may arrive
    let messages = delivered(&receiver);
    let seen = coverage(&messages);
    assert_eq!(seen.keys().copied().collect::<HashSet<_>>(), everyone);
    let twice: Vec<_> = seen.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "incidents in more than one message: {twice:?}");

    let adas: Vec<&Delivered> =
        messages.iter().filter(|m| m.person.as_deref() == Some("ada")).collect();
    let digests = adas.iter().filter(|m| m.digest).count();
    let largest = adas.iter().map(|m| m.incidents.len()).max().unwrap();
    eprintln!(
        "storm: {INCIDENTS} incidents posted in {storm_took:?}; ada got {} messages ({} alone, {digests} digests, the largest of {largest}); all delivered after {total:?}; grace's page took {grace_waited:?}",
        adas.len(),
        adas.len() - digests,
    );
    // 10 per window; the storm spans one window unless posting it took
    // longer; at most 500 incidents per digest.
    let windows = 1 + (storm_took.as_millis() / WINDOW.as_millis()) as usize;
    let allowed = 10 * windows + 2;
    assert!(adas.len() <= allowed, "ada got {} messages, more than {allowed}", adas.len());
    assert!(digests >= 1);

    // Every incident's log says how it was notified: sent alone, or held
    // and then sent in the digest it names.
    let sample: Vec<u64> =
        created.iter().copied().step_by(37).chain(created.last().copied()).collect();
    for id in sample {
        let outcomes = log_outcomes(&host, id);
        let sent: Vec<_> = outcomes.iter().filter(|(outcome, _)| outcome == "sent").collect();
        assert_eq!(sent.len(), 1, "incident {id}: {outcomes:?}");
        if outcomes.iter().any(|(outcome, _)| outcome == "held") {
            assert!(
                sent[0].1.starts_with("in digest inbound-digest-"),
                "incident {id}: {outcomes:?}"
            );
        }
    }
    // The outbox is empty, and what was held says so.
    let (_, pending) = host.get("/api/v1/notifications?status=pending");
    assert_eq!(pending["notifications"].as_array().unwrap().len(), 0, "{pending}");
    let (_, sent) = host.get("/api/v1/notifications?status=sent&limit=100");
    assert!(sent["notifications"].as_array().unwrap().iter().any(|n| n["held"] == true));
    let metrics = host.get_text("/metrics", Some(support::TOKEN)).1;
    assert!(metrics.contains("inbound_digests_sent_total{channel=\"hook\"}"), "{metrics}");
}

/// Notifications held for a digest survive kill -9: after the restart every
/// acknowledged incident is delivered (a resend carries the same key), and
/// the throttle's count survived too.
#[test]
fn held_notifications_survive_kill_9() {
    let receiver = Receiver::start(0, 0);
    let host =
        Host::start(&config(&receiver.url("/hook"), "max_messages = 2\n  window_minutes = 10", ""));
    let mut created = storm(&host, 1..=150);
    assert!(
        poll(Duration::from_secs(20), || {
            let (_, pending) = host.get("/api/v1/notifications?status=pending&limit=200");
            pending["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["held"] == true)
                .count()
                >= 100
        }),
        "the storm was not held"
    );
    let before = delivered(&receiver).len();
    host.kill();
    let host = host.restart_after_kill();
    created.extend(storm(&host, 151..=200));
    assert!(
        poll(Duration::from_secs(45), || coverage(&delivered(&receiver)).len() >= created.len()),
        "lost across kill -9: {} of {} delivered",
        coverage(&delivered(&receiver)).len(),
        created.len()
    );
    let messages = delivered(&receiver);
    let seen = coverage(&messages);
    for id in &created {
        assert!(seen.contains_key(id), "incident {id} was never delivered");
    }
    // A resend (kill between send and record) repeats its key; nothing else repeats.
    let mut by_key: BTreeMap<&str, Vec<&Vec<u64>>> = BTreeMap::new();
    for message in &messages {
        by_key.entry(&message.key).or_default().push(&message.incidents);
    }
    let distinct: Vec<&Vec<u64>> = by_key.values().map(|sets| sets[0]).collect();
    let mut once = HashMap::new();
    for set in distinct {
        for id in set {
            *once.entry(*id).or_insert(0) += 1;
        }
    }
    assert!(once.values().all(|count| *count == 1), "an incident in two different messages");
    eprintln!(
        "kill -9: {} incidents, {before} messages before the kill, {} in all ({} keys)",
        created.len(),
        messages.len(),
        by_key.len()
    );
    let (_, pending) = host.get("/api/v1/notifications?status=pending");
    assert!(
        poll(Duration::from_secs(5), || {
            host.get("/api/v1/notifications?status=pending").1["notifications"]
                .as_array()
                .unwrap()
                .is_empty()
        }),
        "{pending}"
    );
}

/// A notifier built for inbound:notifier@0.1.0 has no digests: its channel
/// is not throttled (one message per incident, as before), and the host
/// says so once at start-up, as `inbound check` does.
#[test]
fn an_old_notifiers_channel_gets_one_message_per_incident() {
    let receiver = Receiver::start(0, 0);
    let old = format!(
        "\n[[channels]]\nname = \"old\"\nplugin = \"{}\"\nurl = \"{}\"\n  [channels.throttle]\n  max_messages = 2\n",
        plugin_wasm("test_notifier_v0_1_0").display(),
        receiver.url("/old")
    );
    let config = config(&receiver.url("/hook"), "max_messages = 0", &old).replace(
        "contacts = [{ channel = \"hook\", address = \"ada\" }]",
        "contacts = [{ channel = \"old\", address = \"ada\" }]",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let warning = "channel \"old\" has [channels.throttle], but its notifier is built for inbound:notifier@0.1.0";
    let (code, stdout, stderr) =
        support::inbound(&["check", "--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(warning), "{stdout}{stderr}");
    let host = Host::start_in(dir);
    assert!(host.logs().contains(warning), "{}", host.logs());

    let created = storm(&host, 1..=12);
    assert!(
        poll(Duration::from_secs(20), || receiver.requests().len() >= created.len()),
        "got {} of {}",
        receiver.requests().len(),
        created.len()
    );
    let mut ids: Vec<u64> = receiver
        .requests()
        .iter()
        .map(|r| {
            assert_eq!(r["path"], "/old");
            let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            assert_eq!(body["type"], "incident.triggered");
            body["incident"]["id"].as_u64().unwrap()
        })
        .collect();
    ids.sort();
    let mut expected = created.clone();
    expected.sort();
    assert_eq!(ids, expected, "one message per incident");
}

/// The incident ids of the resolved notices the receiver got, one entry per
/// notice, and how many messages carried them.
fn resolved_notices(receiver: &Receiver) -> (Vec<u64>, usize) {
    let mut ids = Vec::new();
    let mut messages = 0;
    for request in receiver.requests() {
        let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        let items: Vec<Value> = match body["type"].as_str() {
            Some("incident.digest") => body["notifications"].as_array().unwrap().clone(),
            _ => vec![body],
        };
        let resolved: Vec<u64> = items
            .iter()
            .filter(|item| item["type"] == "incident.resolved")
            .map(|item| item["incident"]["id"].as_u64().unwrap())
            .collect();
        if !resolved.is_empty() {
            messages += 1;
        }
        ids.extend(resolved);
    }
    (ids, messages)
}

/// A storm that resolves at once (the sender's outage is over) tells the
/// person in a few messages too, not one resolved notice per incident.
#[test]
fn a_storm_that_resolves_sends_its_resolved_notices_in_a_few_messages() {
    let receiver = Receiver::start(0, 0);
    // time_scale 600: the 10-minute window lasts a second.
    let host = Host::start(
        &config(&receiver.url("/hook"), "max_messages = 3\n  window_minutes = 10", "")
            .replace("time_scale = 60\n", "time_scale = 600\n"),
    );
    const INCIDENTS: u64 = 60;
    let created = storm(&host, 1..=INCIDENTS);
    assert_eq!(created.len(), INCIDENTS as usize);
    assert!(
        poll(Duration::from_secs(30), || coverage(&delivered(&receiver)).len() >= created.len()),
        "every page delivered first"
    );
    for id in 1..=INCIDENTS {
        let (status, answer) = host.zendesk(&ticket(id, "Solved"));
        assert_eq!((status, answer["action"].as_str()), (202, Some("resolved")), "{answer}");
    }
    assert!(
        poll(Duration::from_secs(30), || resolved_notices(&receiver).0.len() >= created.len()),
        "resolved notices: {:?}",
        resolved_notices(&receiver)
    );
    std::thread::sleep(Duration::from_millis(300)); // nothing more may arrive
    let (ids, messages) = resolved_notices(&receiver);
    let unique: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique, created.iter().copied().collect::<HashSet<_>>());
    assert_eq!(ids.len(), unique.len(), "a resolved notice sent twice");
    assert!(messages <= 3 + 3, "{messages} messages for {INCIDENTS} resolved notices");
    eprintln!("resolution storm: {INCIDENTS} resolved notices reached ada in {messages} messages");
}
