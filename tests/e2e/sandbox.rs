//! End to end: a hostile plugin is contained, its events are never lost, and
//! a well-behaved source on the same host keeps answering while it misbehaves.
//! The guest is tests/plugins/hostile (its body picks the misbehaviour).

use crate::support;

use serde_json::{Value, json};
use std::thread;
use std::time::{Duration, Instant};
use support::{
    Host, KEY, TOKEN, inbound, plugin_wasm, serve_expecting_failure, storage_section, ticket,
};

const HOSTILE_KEY: &str = "hostile-key-0123456789abcdefghij";
const NEIGHBOUR_KEY: &str = "neighbour-key-0123456789abcdefgh";
const ACCEPTING_KEY: &str = "accepting-key-0123456789abcdefgh";

/// Sources: `support` (Zendesk, well behaved), `hostile` and `neighbour`
/// (both the hostile plugin: isolation between sources of one plugin), and
/// `accepting` (hostile plugin, failures answered 202 with a fallback incident).
fn config(zendesk_plugin: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{storage}

[plugins]
state_limit_bytes = 100000
stored_mib_per_minute = 2

[integrations.zendesk]
plugin = "{zendesk_plugin}"

[integrations.hostile]
plugin = "{hostile}"

[[escalation_policies]]
name = "oncall"
levels = []

[[api.tokens]]
name = "tests"
token = "{TOKEN}"
role = "admin"

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "oncall"
key = "{KEY}"

[[sources]]
name = "hostile"
integration = "hostile"
escalation_policy = "oncall"
key = "{HOSTILE_KEY}"

[[sources]]
name = "neighbour"
integration = "hostile"
escalation_policy = "oncall"
key = "{NEIGHBOUR_KEY}"

[[sources]]
name = "accepting"
integration = "hostile"
escalation_policy = "oncall"
key = "{ACCEPTING_KEY}"
on_plugin_failure = "accept"
"#,
        hostile = plugin_wasm("test_hostile").display(),
        storage = storage_section(),
    )
}

fn host() -> Host {
    Host::start(&config(&plugin_wasm("zendesk").display().to_string()))
}

/// `broken` (a config whose Zendesk integration runs the hostile plugin)
/// with the real Zendesk plugin, on the same storage: a second [`config`]
/// would name a fresh PostgreSQL database.
fn fixed_zendesk_plugin(broken: &str) -> String {
    let plugin = |name: &str| {
        format!("[integrations.zendesk]\nplugin = \"{}\"", plugin_wasm(name).display())
    };
    let fixed = broken.replace(&plugin("test_hostile"), &plugin("zendesk"));
    assert_ne!(fixed, broken, "the Zendesk integration's plugin is replaced");
    fixed
}

fn send(host: &Host, key: &str, body: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    host.post_full(&format!("/api/v1/events/hostile/{key}"), "text/plain", body.to_string())
}

fn failed(host: &Host) -> Vec<Value> {
    let (status, body) = host.get("/api/v1/failed");
    assert_eq!(status, 200, "{body}");
    body["failed_deliveries"].as_array().unwrap().clone()
}

/// The hostile sources' incidents and the failed deliveries before a call.
struct Before {
    incidents: Vec<Value>,
    failed: usize,
}

fn hostile_incidents(host: &Host) -> Vec<Value> {
    host.incidents().into_iter().filter(|i| i["source"] != "support").collect()
}

fn before(host: &Host) -> Before {
    Before { incidents: hostile_incidents(host), failed: failed(host).len() }
}

/// Asserts a 503 with the code, a Retry-After, nothing applied, and the
/// event kept as a failed delivery with its body. Returns the message.
fn assert_contained(host: &Host, body: &str, code: &str) -> String {
    let before = before(host);
    let answer = send(host, HOSTILE_KEY, body);
    assert_contained_after(host, &before, body, code, answer)
}

/// [`assert_contained`] of `answer`, the hostile source's answer to `body`.
fn assert_contained_after(
    host: &Host,
    before: &Before,
    body: &str,
    code: &str,
    (status, headers, answer): (u16, reqwest::header::HeaderMap, Value),
) -> String {
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
    assert_eq!(headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("30"));
    assert_eq!(hostile_incidents(host), before.incidents, "a failed call must apply nothing");
    let kept = failed(host);
    assert_eq!(kept.len(), before.failed + 1);
    assert_eq!(kept[0]["error_code"], code);
    assert_eq!(kept[0]["source"], "hostile");
    let (_, shown) = host.get(&format!("/api/v1/failed/{}", kept[0]["id"]));
    assert_eq!(shown["body"], body, "the failed delivery keeps the original body");
    answer["error"]["message"].as_str().unwrap().to_string()
}

/// Sends `body` to the hostile source, each call contained (see
/// [`assert_contained`], `check` reads its message), while the Zendesk
/// source takes one ticket after another; every ticket must be answered 202
/// and stored. Passes once two tickets were sent and answered well inside
/// one hostile call's flight (20 ms after it was sent, 20 ms before its
/// answer): a host that ran one plugin call at a time would answer them
/// only once the hostile call let go. Fails after ten hostile calls without.
fn neighbour_keeps_answering(
    host: &Host,
    first_ticket: u64,
    body: &str,
    code: &str,
    check: impl Fn(&str),
) {
    let mut next = first_ticket;
    let mut flights = Vec::new();
    let mut overlapped = false;
    while !overlapped && flights.len() < 10 {
        let before = before(host);
        let ((started, ended, answer), tickets) = thread::scope(|scope| {
            let call = scope.spawn(|| {
                let started = Instant::now();
                let answer = send(host, HOSTILE_KEY, body);
                (started, Instant::now(), answer)
            });
            let mut tickets = Vec::new();
            while !call.is_finished() {
                let sent = Instant::now();
                let (status, answer) = host.zendesk(&ticket(next, "Open"));
                assert_eq!(status, 202, "the well-behaved source must keep answering: {answer}");
                tickets.push((sent, Instant::now()));
                next += 1;
            }
            (call.join().unwrap(), tickets)
        });
        check(&assert_contained_after(host, &before, body, code, answer));
        let margin = Duration::from_millis(20);
        let inside = tickets
            .iter()
            .filter(|(sent, answered)| *sent >= started + margin && *answered + margin <= ended);
        overlapped = inside.count() >= 2;
        let ms = |from: Instant, to: Instant| to.duration_since(from).as_millis();
        let answered: Vec<_> = tickets
            .iter()
            .map(|(sent, answered)| (ms(started, *sent), ms(started, *answered)))
            .collect();
        flights.push(format!(
            "hostile call of {} ms; tickets sent and answered at (ms after it started): {answered:?}",
            ms(started, ended)
        ));
    }
    assert!(
        overlapped,
        "no two tickets were answered well inside one hostile call's flight:\n{}",
        flights.join("\n")
    );
    let keys: Vec<String> = host
        .incidents()
        .iter()
        .filter(|i| i["source"] == "support")
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    for id in first_ticket..next {
        assert!(keys.contains(&id.to_string()), "ticket {id} missing");
    }
}

/// The hostile plugin's view of its state under `key` from the source of
/// `source_key`: `KEY: Some("value")` or `KEY: None`.
fn state_of(host: &Host, source_key: &str, key: &str) -> String {
    let (status, _, answer) = send(host, source_key, &format!("state-of {key}"));
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("state-report")), "{answer}");
    answer["error"]["message"].as_str().unwrap().to_string()
}

/// Waits until the host has logged what it did before the hostile source's
/// latest call: the log of a panic sent after it (a line of the host's own,
/// whatever the plugin log's cap) is read in order.
fn wait_for_the_log_so_far(host: &Host) {
    let before = host.logs().matches("hostile plugin panicked on purpose").count();
    let (status, _, answer) = send(host, HOSTILE_KEY, "panic");
    assert_eq!(status, 503, "{answer}");
    let logged = support::poll(Duration::from_secs(10), || {
        host.logs().matches("hostile plugin panicked on purpose").count() > before
    });
    assert!(logged, "the host logs a failed call: {}", host.logs());
}

#[test]
fn infinite_loop_is_stopped_at_its_deadline() {
    let host = host();
    neighbour_keeps_answering(&host, 100, "loop", "plugin-timeout", |message| {
        assert!(message.contains("100ms"), "{message}");
    });
}

/// A generous time limit (5 s): the calls below stay in flight 300 ms
/// before they misbehave, and a busy machine fills 32 MiB slowly.
fn generous_host() -> Host {
    let generous = config(&plugin_wasm("zendesk").display().to_string())
        .replace("[integrations.hostile]\n", "[integrations.hostile]\ntimeout_ms = 5000\n");
    Host::start(&generous)
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    // The memory cap is what stops it, not the time limit.
    let host = generous_host();
    neighbour_keeps_answering(&host, 200, "slow 300 alloc", "plugin-memory-limit", |message| {
        assert!(message.contains(&(32u64 << 20).to_string()), "{message}");
    });
}

#[test]
fn panic_message_reaches_the_operator() {
    let host = generous_host();
    neighbour_keeps_answering(&host, 300, "slow 300 panic", "plugin-failed", |message| {
        assert!(message.contains("hostile plugin panicked on purpose"), "{message}");
    });
}

#[test]
fn deep_recursion_traps_without_hurting_the_host() {
    let host = host();
    // Rust guests keep their stack in linear memory: overflowing it is an
    // out-of-bounds access; a deep native stack is wasmtime's stack overflow.
    let message = assert_contained(&host, "recurse", "plugin-failed");
    assert!(
        message.contains("out of bounds memory access") || message.contains("stack overflow"),
        "{message}"
    );
    let (status, _, answer) = send(&host, HOSTILE_KEY, "ok after-recursion");
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn stderr_flood_is_bounded() {
    let host = host();
    let message = assert_contained(&host, "stderr-flood", "plugin-failed");
    // The plugin wrote 10,000 lines of 1 KiB: what reaches the operator is
    // some of them, not none and not all.
    assert!(
        message.contains(&format!("plugin stderr: {}", "y".repeat(1024))),
        "the message carries the plugin's stderr: {message:.300}"
    );
    assert!(
        message.len() < 20 * 1024,
        "captured stderr must be bounded, got {} bytes",
        message.len()
    );
}

#[test]
fn log_flood_is_capped_and_the_call_still_succeeds() {
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "log-flood");
    assert_eq!(status, 202, "{answer}");
    wait_for_the_log_so_far(&host);
    let flood_line = "x".repeat(1024);
    let logged = host.logs().lines().filter(|line| line.contains(&flood_line)).count();
    // 100,000 lines of 1 KiB: the first 16 fit the 16 KiB per call.
    assert_eq!(logged, 16, "16 KiB of plugin log per call, no more and no less");
}

#[test]
fn oversized_host_api_arguments_fail_the_call() {
    let host = host();
    let message = assert_contained(&host, "oversized", "plugin-host-api-limit");
    assert!(message.contains("1048576 bytes; the limit is 256"), "{message}");
}

#[test]
fn too_many_actions_in_one_call_fail_it() {
    let host = host();
    let message = assert_contained(&host, "too-many-actions", "plugin-host-api-limit");
    assert!(message.contains("at most 256 changes"), "{message}");
}

#[test]
fn state_quota_per_source_is_enforced_across_calls() {
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "state-fill a");
    assert_eq!(status, 202, "{answer}");
    let message = assert_contained(&host, "state-fill b", "plugin-host-api-limit");
    assert!(message.contains("the limit is 100000"), "{message}");
    // Rewriting the same key does not grow the total, and another source has its own quota.
    assert_eq!(send(&host, HOSTILE_KEY, "state-fill a").0, 202);
    assert_eq!(send(&host, NEIGHBOUR_KEY, "state-fill b").0, 202);
}

#[test]
fn simultaneous_calls_cannot_add_up_past_the_state_quota() {
    // Each call writes 64 KiB under its own key; the quota (100000 bytes)
    // holds one such value. Every call checks the quota against its own
    // snapshot, so only the writer can see them all.
    let host = host();
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..8)
            .map(|index| {
                let host = &host;
                scope.spawn(move || {
                    let (status, _, answer) =
                        send(host, HOSTILE_KEY, &format!("state-put k{index}"));
                    (status, answer)
                })
            })
            .collect();
        calls.into_iter().map(|call| call.join().unwrap()).collect()
    });
    let stored = answers.iter().filter(|(status, _)| *status == 202).count();
    assert_eq!(stored, 1, "one 64 KiB value fits the quota, and only one: {answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 202) {
        assert_eq!(*status, 503, "{answer}");
        assert_eq!(answer["error"]["code"], "plugin-host-api-limit", "{answer}");
    }
}

#[test]
fn the_change_limit_is_the_one_its_message_names() {
    // A create and 255 comments: 256 changes, however many storage writes
    // each one costs.
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "changes 256");
    assert_eq!(status, 202, "{answer}");
    let message = assert_contained(&host, "changes 257", "plugin-host-api-limit");
    assert!(message.contains("at most 256 changes"), "{message}");
}

#[test]
fn an_outcome_claiming_what_the_call_did_not_do_is_refused() {
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "false-claim k");
    assert_eq!(status, 202, "{answer}");
    let message = assert_contained(&host, "false-claim k", "plugin-invalid-result");
    assert!(message.contains("as \"resolved\", which this call did not do"), "{message}");
    let incident = &host.incidents()[0];
    assert_eq!(incident["status"], "pending", "nothing was resolved: {incident}");
}

#[test]
fn a_flood_of_outcomes_is_refused_not_answered() {
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "outcomes 1024");
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcomes"].as_array().unwrap().len(), 1024);
    let message = assert_contained(&host, "outcomes 5000", "plugin-invalid-result");
    assert!(message.contains("it returned 5000 outcomes; the limit is 1024"), "{message}");
}

#[test]
fn a_rejection_is_cut_and_cannot_forge_log_lines() {
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "reject-flood 1000000");
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.len() < 5000, "cut to 4 KiB: {} bytes", message.len());
    assert!(message.starts_with("first\\r\\nINFO forged line"), "{message:.80}");
    assert!(message.ends_with("more bytes cut)"), "{}", &message[message.len() - 40..]);
    // The refusal has reached the log before the log is searched.
    let logged = support::poll(Duration::from_secs(10), || {
        host.logs()
            .lines()
            .any(|line| line.contains("request refused") && line.contains("\"flood\""))
    });
    assert!(logged, "the refusal is logged: {:.2000}", host.logs());
    assert!(!host.logs().lines().any(|line| line.starts_with("INFO forged")), "no forged line");
}

#[test]
fn a_host_api_misuse_is_the_plugins_failure_not_the_senders() {
    let host = host();
    let message = assert_contained(&host, "bad-link", "plugin-host-api-error");
    assert!(message.contains("not an absolute http(s) URL"), "{message}");
}

#[test]
fn a_call_cannot_store_more_than_its_byte_budget() {
    let host = host();
    let (status, _, answer) = send(&host, HOSTILE_KEY, "big-comments a");
    assert_eq!(status, 202, "800 KiB fit the 1 MiB per call: {answer}");
    let message = assert_contained(&host, "huge-comments b", "plugin-host-api-limit");
    assert!(message.contains("a call may store at most 1048576 bytes"), "{message}");
}

#[test]
fn a_source_cannot_store_more_than_its_budget_per_minute() {
    // stored_mib_per_minute = 2: two calls of 800 KiB fit, the third waits.
    let host = host();
    for key in ["a", "b"] {
        let (status, _, answer) = send(&host, HOSTILE_KEY, &format!("big-comments {key}"));
        assert_eq!(status, 202, "{answer}");
    }
    let (status, headers, answer) = send(&host, HOSTILE_KEY, "big-comments c");
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error"]["code"], "storage-budget", "{answer}");
    let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..60).contains(&retry), "{retry}");
    let keys: Vec<Value> = host.incidents().iter().map(|i| i["key"].clone()).collect();
    assert!(!keys.contains(&json!("c")), "nothing of the refused event is stored: {keys:?}");
    // Another source has its own budget.
    let (status, _, answer) = send(&host, NEIGHBOUR_KEY, "big-comments c");
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn invalid_result_is_refused() {
    let host = host();
    let message = assert_contained(&host, "bad-outcome", "plugin-invalid-result");
    assert!(message.contains("999999"), "{message}");
}

#[test]
fn no_files_environment_arguments_or_network() {
    let host = host();
    let _ = std::fs::remove_file("/tmp/inbound-escape");
    let (status, _, answer) = send(&host, HOSTILE_KEY, "escape");
    assert_eq!(status, 202, "{answer}");
    let details = answer["incident"]["details"].as_str().unwrap();
    for line in ["file: Err", "dir: Err", "write: Err", "env: []", "args: []", "net: Err"] {
        assert!(details.contains(line), "expected {line:?} in:\n{details}");
    }
    assert!(!std::path::Path::new("/tmp/inbound-escape").exists());
}

#[test]
fn writes_before_a_trap_are_not_applied() {
    let host = host();
    // The call writes state key `written-before-trap` and creates incident
    // k1, then traps: neither lands (assert_contained sees no incident).
    assert_contained(&host, "write-then-trap k1", "plugin-failed");
    assert_eq!(state_of(&host, HOSTILE_KEY, "written-before-trap"), "written-before-trap: None");
    // A state write of a call that succeeds is seen by the next call.
    assert_eq!(send(&host, HOSTILE_KEY, "state kept").0, 202);
    assert_eq!(state_of(&host, HOSTILE_KEY, "counter"), "counter: Some(\"kept\")");
}

#[test]
fn a_source_cannot_see_or_change_another_sources_incidents() {
    let host = host();
    let (status, _, created) = send(&host, HOSTILE_KEY, "ok target");
    assert_eq!(status, 202, "{created}");
    let id = created["incident"]["id"].as_u64().unwrap();
    let (status, _, report) = send(&host, NEIGHBOUR_KEY, &format!("peek {id}"));
    assert_eq!(status, 202, "{report}");
    assert_eq!(
        report["incident"]["details"],
        format!("get: None; accept: Err(ApiError::NotFound({id}))")
    );
    assert_eq!(host.incident(&json!(id))["incident"]["status"], "pending");
}

#[test]
fn plugin_state_is_scoped_to_its_source() {
    let host = host();
    let (status, _, first) = send(&host, HOSTILE_KEY, "state from-hostile");
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["incident"]["details"], "before: None");
    // The source that wrote it reads it back...
    assert_eq!(state_of(&host, HOSTILE_KEY, "counter"), "counter: Some(\"from-hostile\")");
    // ...another source of the same plugin sees nothing there...
    assert_eq!(
        state_of(&host, NEIGHBOUR_KEY, "counter"),
        "counter: None",
        "another source's state must be invisible"
    );
    let (status, _, other) = send(&host, NEIGHBOUR_KEY, "state from-neighbour");
    assert_eq!(status, 202, "{other}");
    assert_eq!(other["incident"]["details"], "before: None");
    // ...and its own write changes only its own value.
    assert_eq!(state_of(&host, NEIGHBOUR_KEY, "counter"), "counter: Some(\"from-neighbour\")");
    assert_eq!(state_of(&host, HOSTILE_KEY, "counter"), "counter: Some(\"from-hostile\")");
}

#[test]
fn accepting_source_answers_202_with_a_fallback_incident() {
    let host = host();
    let (status, _, answer) = send(&host, ACCEPTING_KEY, "panic");
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["action"], "created");
    assert_eq!(answer["incident"]["summary"], "Unprocessed event from accepting");
    assert!(
        answer["incident"]["details"]
            .as_str()
            .unwrap()
            .contains("hostile plugin panicked on purpose")
    );
    let kept = failed(&host);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["fallback_incident"], answer["incident"]["id"]);
    assert_eq!(kept[0]["id"], answer["failed_delivery"]);
}

#[test]
fn failed_delivery_is_replayed_after_the_plugin_is_fixed() {
    // A broken release of the Zendesk plugin (the hostile one traps on JSON)...
    let broken = config(&plugin_wasm("test_hostile").display().to_string());
    let host = Host::start(&broken);
    let (status, body) = host.zendesk(&ticket(77, "Open"));
    assert_eq!(status, 503, "{body}");
    assert_eq!(host.incidents(), Vec::<Value>::new());
    let id = failed(&host)[0]["id"].clone();

    // ...is replaced by the real plugin, on the same storage.
    std::fs::write(host.config_path(), fixed_zendesk_plugin(&broken)).unwrap();
    let host = host.restart();
    // The operator's view, through the command line.
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let (code, listed, stderr) = inbound(&[&["failed", "list"][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(listed.contains("kept") && listed.contains("plugin-failed"), "{listed}");
    let (code, shown, stderr) =
        inbound(&[&["failed", "show", &id.to_string()][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(shown.contains("Printer on fire #77"), "the original body is shown: {shown}");
    let (code, replayed, stderr) =
        inbound(&[&["failed", "replay", &id.to_string()][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(replayed.contains("replayed: created"), "{replayed}");

    let incidents = host.incidents();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["key"], "77");
    let record = &failed(&host)[0];
    let answer = json!({"incident": incidents[0].clone()});
    assert_eq!(record["replayed"]["incident"], answer["incident"]["id"]);
    assert_eq!(record["attempts"], 2);
    let log = host.incident(&answer["incident"]["id"])["log"].clone();
    assert!(log.as_array().unwrap().iter().any(|e| e["type"] == "event_received"), "{log}");

    let (status, again) = host.post_json(&format!("/api/v1/failed/{id}/replay"), &json!({}));
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "replay-refused");
    assert_eq!(host.incidents().len(), 1, "a refused replay changes nothing");
}

#[test]
fn of_simultaneous_replays_of_one_failed_delivery_exactly_one_applies() {
    let broken = config(&plugin_wasm("test_hostile").display().to_string());
    let host = Host::start(&broken);
    let (status, body) = host.zendesk(&ticket(78, "Open"));
    assert_eq!(status, 503, "{body}");
    let id = failed(&host)[0]["id"].clone();
    std::fs::write(host.config_path(), fixed_zendesk_plugin(&broken)).unwrap();
    let host = host.restart();

    let path = format!("/api/v1/failed/{id}/replay");
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let replays: Vec<_> =
            (0..10).map(|_| scope.spawn(|| host.post_json(&path, &json!({})))).collect();
        replays.into_iter().map(|replay| replay.join().unwrap()).collect()
    });
    let succeeded = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(succeeded, 1, "exactly one replay applies: {answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 409, "{answer}");
        assert_eq!(answer["error"]["code"], "replay-refused", "{answer}");
    }
    let incidents = host.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let log = host.incident(&incidents[0]["id"])["log"].clone();
    let events = log.as_array().unwrap().iter().filter(|e| e["type"] == "event_received").count();
    assert_eq!(events, 1, "the event is in the log once: {log}");
    assert_eq!(failed(&host)[0]["attempts"], 2, "one failed call and one replay");
}

#[test]
fn a_component_of_the_wrong_world_is_refused_at_start_up() {
    let config = config(&plugin_wasm("zendesk").display().to_string()).replace(
        &plugin_wasm("test_hostile").display().to_string(),
        &plugin_wasm("test_wrong_world").display().to_string(),
    );
    let (code, stderr) = serve_expecting_failure(&config);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("imports evil:plugin/network@0.1.0"), "{stderr}");
    assert!(stderr.contains("does not export inbound:plugin/handler"), "{stderr}");
    assert!(stderr.contains("supported: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0"), "{stderr}");
}

#[test]
fn an_integrations_limits_apply_to_its_sources_and_a_sources_own_win() {
    let config = config(&plugin_wasm("zendesk").display().to_string())
        .replace(
            "[integrations.hostile]\n",
            "[integrations.hostile]\ntimeout_ms = 250\nmemory_limit_mib = 16\n",
        )
        .replace(
            &format!("key = \"{NEIGHBOUR_KEY}\"\n"),
            &format!("key = \"{NEIGHBOUR_KEY}\"\ntimeout_ms = 150\n"),
        );
    let host = Host::start(&config);
    // The integration's limits, not [plugins]' (100 ms, 32 MiB).
    let message = assert_contained(&host, "loop", "plugin-timeout");
    assert!(message.contains("250ms"), "{message}");
    let message = assert_contained(&host, "alloc", "plugin-memory-limit");
    assert!(message.contains(&(16u64 << 20).to_string()), "{message}");
    // A source's own limit wins over its integration's.
    let (status, _, answer) = send(&host, NEIGHBOUR_KEY, "loop");
    assert_eq!((status, answer["error"]["code"].as_str()), (503, Some("plugin-timeout")));
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("150ms"), "{message}");
}

#[test]
fn a_key_with_nul_is_refused_alike_on_every_engine() {
    // PostgreSQL's text cannot hold U+0000: without the host API's check the
    // same payload would be stored on redb and a storage failure there.
    let host = host();
    // Looked up, it is absent (no query is made); created, it is refused.
    let message = assert_contained(&host, "false-claim open\u{0}key", "plugin-host-api-error");
    assert!(message.contains("must not contain the character U+0000"), "{message}");
    let message = assert_contained(&host, "state-put state\u{0}key", "plugin-host-api-error");
    assert!(message.contains("the state key must not contain"), "{message}");
    // The same commands with ordinary keys work.
    assert_eq!(send(&host, HOSTILE_KEY, "false-claim open-key").0, 202);
    assert_eq!(send(&host, HOSTILE_KEY, "state-put state-key").0, 202);
}
