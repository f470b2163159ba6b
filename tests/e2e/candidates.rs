//! End to end: a new version of a source's plugin judged before it is live.
//! A shadow (`[sources.shadow]`) runs beside the live plugin on every real
//! event and is never applied; a replay runs a candidate over the stored
//! events on scratch databases; promote makes the shadow live.
//!
//! The live plugin is the frozen API 0.3.0 test plugin; the candidate that
//! differs on purpose is the 0.4.0 one (other details, no link, and an
//! `update` command 0.3.0 rejects); the candidate that does not is the live
//! plugin itself.

use crate::support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Host, TOKEN, inbound, plugin_wasm, poll, storage_section};

const TEXTS_KEY: &str = "texts-key-0123456789abcdefghijklm";
const STEADY_KEY: &str = "steady-key-0123456789abcdefghijkl";
const HOSTILE_KEY: &str = "hostile-key-0123456789abcdefghijk";

fn config() -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{storage}

[[api.tokens]]
name = "ops"
token = "{TOKEN}"
role = "admin"

[integrations.v030]
plugin = "{v030}"

[integrations.hostile]
plugin = "{hostile}"

[[escalation_policies]]
name = "oncall"
levels = []

[[sources]]
name = "texts"
integration = "v030"
escalation_policy = "oncall"
key = "{TEXTS_KEY}"

[sources.shadow]
plugin = "{v040}"

[[sources]]
name = "steady"
integration = "v030"
escalation_policy = "oncall"
key = "{STEADY_KEY}"

[sources.shadow]
plugin = "{v030}"

[[sources]]
name = "hostile"
integration = "hostile"
escalation_policy = "oncall"
key = "{HOSTILE_KEY}"
timeout_ms = 1000

[sources.shadow]
plugin = "{hostile}"
timeout_ms = 20
"#,
        storage = storage_section(),
        v030 = plugin_wasm("test_api_v0_3_0").display(),
        v040 = plugin_wasm("test_api_v0_4_0").display(),
        hostile = plugin_wasm("test_hostile").display(),
    )
}

fn send(host: &Host, integration: &str, key: &str, body: &str) -> (u16, Value) {
    host.post_raw(&format!("/api/v1/events/{integration}/{key}"), "text/plain", body.to_string())
}

/// The shadow's report once it has judged `events` events.
fn shadow_after(host: &Host, source: &str, events: u64) -> Value {
    let mut report = Value::Null;
    let judged = |report: &Value| {
        ["same", "different", "failed", "skipped"]
            .iter()
            .map(|field| report[field].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let done = poll(Duration::from_secs(20), || {
        let (status, answer) = host.get(&format!("/api/v1/sources/{source}/shadow"));
        assert_eq!(status, 200, "{answer}");
        report = answer;
        judged(&report) >= events
    });
    assert!(
        done,
        "the shadow of {source} judged {} of {events} events: {report:#}",
        judged(&report)
    );
    report
}

#[test]
fn a_shadow_is_compared_on_every_event_and_never_applied() {
    let host = Host::start(&config());
    for body in ["open a", "open b", "open a"] {
        assert_eq!(send(&host, "v030", TEXTS_KEY, body).0, 202, "{body}");
        assert_eq!(send(&host, "v030", STEADY_KEY, body).0, 202, "{body}");
    }
    // The live 0.3.0 plugin rejects `update`; the 0.4.0 shadow would comment.
    assert_eq!(send(&host, "v030", TEXTS_KEY, "update a renamed").0, 400);

    let texts = shadow_after(&host, "texts", 4);
    // Both creations differ (details, link); the repeat is unchanged by
    // both, though the live call had just created the incident: the shadow
    // saw the world as the live call did.
    assert_eq!(
        (texts["same"].as_u64(), texts["different"].as_u64()),
        (Some(1), Some(3)),
        "{texts:#}"
    );
    assert_eq!(texts["failed"], 0, "{texts:#}");
    // Shadows run in the background, so their differences may be listed in
    // any order: found by what they are.
    let differences = texts["differences"].as_array().unwrap();
    let find = |fields: Value| {
        differences.iter().find(|d| d["fields"] == fields).unwrap_or_else(|| panic!("{texts:#}"))
    };
    let update = find(json!(["answer", "incidents"]));
    assert_eq!(update["fields"], json!(["answer", "incidents"]), "{update:#}");
    assert_eq!(update["live"]["answer"], json!({"kind": "rejected", "code": "unknown-command"}));
    assert_eq!(update["shadow"]["incidents"][0]["action"], "commented", "{update:#}");
    assert_eq!(update["shadow"]["incidents"][0]["summary"], "renamed", "{update:#}");
    let creation = find(json!(["details", "links"]));
    assert_eq!(creation["live"]["incidents"][0]["action"], "created");
    assert_eq!(creation["shadow"]["incidents"][0]["action"], "created");
    assert_eq!(creation["shadow"]["incidents"][0]["details"], "raised by a 0.4.0 plugin");
    assert!(creation["incident"].is_u64(), "the live incident is named: {creation:#}");

    // The same plugin as its own shadow: zero differences.
    let steady = shadow_after(&host, "steady", 3);
    assert_eq!((steady["same"].as_u64(), steady["different"].as_u64()), (Some(3), Some(0)));
    assert_eq!(steady["read_beyond_live"], 0, "{steady:#}");

    // Nothing of the shadow's was applied.
    let texts_incidents: Vec<Value> =
        host.all_incidents().into_iter().filter(|i| i["source"] == "texts").collect();
    assert_eq!(texts_incidents.len(), 2, "{texts_incidents:#?}");
    for incident in &texts_incidents {
        assert_eq!(incident["details"], "raised by a 0.3.0 plugin", "{incident:#}");
        assert_ne!(incident["summary"], "renamed");
    }

    let (status, metrics) = host.get_text("/metrics", Some(TOKEN));
    assert_eq!(status, 200);
    for line in [
        r#"inbound_shadow_events_total{source="texts",result="different"} 3"#,
        r#"inbound_shadow_events_total{source="texts",result="same"} 1"#,
        r#"inbound_shadow_events_total{source="steady",result="same"} 3"#,
    ] {
        assert!(metrics.contains(line), "no {line} in\n{metrics}");
    }

    // The console's Sources page shows each shadow and its differences.
    let console =
        support::ConsoleSession::from_sign_in(&host, &support::console_sign_in(&host, TOKEN, None));
    let (status, page) = console.get("/ui/sources");
    assert_eq!(status, 200);
    assert!(page.contains("1 same, 3 different, 0 failed, 0 skipped"), "{page}");
    assert!(page.contains("3 same, 0 different"), "{page}");
    assert!(page.contains("Latest differences of the shadow plugin"), "{page}");
    assert!(page.contains("rejected (unknown-command)"), "{page}");

    // A source without a shadow, and one that does not exist.
    let (status, answer) = host.get("/api/v1/sources/nobody/shadow");
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("unknown-source")));
    let (code, out, _) =
        inbound(&["plugin", "shadow", "texts", "--url", &host.url(""), "--token", TOKEN], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("different: 3") && out.contains("details, links"), "{out}");
}

#[test]
fn a_shadow_that_times_out_costs_the_live_path_nothing() {
    let host = Host::start(&config());
    // 40 ms of work: inside the live plugin's 1000 ms, over the shadow's 20.
    for key in ["k1", "k2", "k3"] {
        let (status, answer) = send(&host, "hostile", HOSTILE_KEY, &format!("slow 40 ok {key}"));
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["action"], "created", "{answer}");
    }
    let report = shadow_after(&host, "hostile", 3);
    let failed = report["failed"].as_u64().unwrap();
    assert!(failed >= 1, "{report:#}");
    assert_eq!(failed + report["skipped"].as_u64().unwrap(), 3, "{report:#}");
    let first = &report["differences"][0];
    assert_eq!(first["shadow"]["answer"], json!({"kind": "failed", "code": "plugin-timeout"}));
    assert_eq!(first["live"]["answer"]["kind"], "accepted");
    // The live incidents are all there, and nothing failed live.
    let live: Vec<Value> =
        host.all_incidents().into_iter().filter(|i| i["source"] == "hostile").collect();
    assert_eq!(live.len(), 3);
    assert_eq!(host.get("/api/v1/failed").1["failed_deliveries"], json!([]));
}

fn replay(host: &Host, candidate: &str, extra: &[&str]) -> (i32, Value, String) {
    let wasm = plugin_wasm(candidate).display().to_string();
    let url = host.url("");
    let mut args = vec!["plugin", "replay", &wasm, "--source", "texts", "--url", &url];
    args.extend(["--token", TOKEN, "--output", "json"]);
    args.extend(extra);
    let (code, out, err) = inbound(&args, &[]);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

#[test]
fn a_replay_reports_what_a_candidate_would_change_on_the_stored_events() {
    let host = Host::start(&config());
    for body in ["open a", "open b", "open a", "update a renamed"] {
        send(&host, "v030", TEXTS_KEY, body);
    }
    let before = host.all_incidents();

    let (code, report, err) = replay(&host, "test_api_v0_4_0", &[]);
    assert_eq!(code, 0, "{err}");
    // The rejected update was never stored, so three events are replayed.
    assert_eq!(report["events"], 3, "{report:#}");
    // The repeat differs too: on the candidate's own history, the incident
    // it leaves unchanged is the one the candidate made.
    assert_eq!((report["same"].as_u64(), report["different"].as_u64()), (Some(0), Some(3)));
    assert_eq!(report["by_field"], json!({"details": 3, "links": 3}), "{report:#}");
    assert_eq!(report["not_reproduced"], 0, "{report:#}");
    let example = &report["examples"][0];
    assert_eq!(example["live"]["incidents"][0]["details"], "raised by a 0.3.0 plugin");
    assert_eq!(example["candidate"]["incidents"][0]["details"], "raised by a 0.4.0 plugin");
    assert_eq!(example["live_incidents"].as_array().unwrap().len(), 1, "{example:#}");

    // The live plugin as its own candidate: zero differences.
    let (code, report, err) = replay(&host, "test_api_v0_3_0", &["--since", "1h", "--limit", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!((report["events"].as_u64(), report["different"].as_u64()), (Some(2), Some(0)));
    assert_eq!(report["left_out_over_limit"], 1, "{report:#}");

    // The text a person reads.
    let wasm = plugin_wasm("test_api_v0_4_0").display().to_string();
    let (code, out, err) = inbound(
        &["plugin", "replay", &wasm, "--source", "texts", "--url", &host.url(""), "--token", TOKEN],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replayed 3 events of source texts"), "{out}");
    assert!(out.contains("different: 3") && out.contains("details: 3"), "{out}");

    // Not a component; no such source; a bad window.
    let not_wasm = host.config_path();
    let (code, _, err) = inbound(
        &[
            "plugin",
            "replay",
            not_wasm.to_str().unwrap(),
            "--source",
            "texts",
            "--url",
            &host.url(""),
            "--token",
            TOKEN,
        ],
        &[],
    );
    assert_ne!(code, 0);
    assert!(err.contains("candidate-refused") && err.contains("not WebAssembly"), "{err}");
    let client = reqwest::blocking::Client::new();
    let answer = |path: &str| {
        let response =
            client.post(host.url(path)).bearer_auth(TOKEN).body(b"\0asm".to_vec()).send().unwrap();
        (response.status().as_u16(), response.json::<Value>().unwrap())
    };
    let (status, body) = answer("/api/v1/sources/nobody/replay");
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown-source")));
    let (status, body) = answer("/api/v1/sources/texts/replay?since=lately");
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid-since")));
    let (status, body) = answer("/api/v1/sources/texts/replay?limit=0");
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid-limit")));

    // The live data was only read.
    assert_eq!(host.all_incidents(), before);
}

#[test]
fn promoting_a_shadow_makes_it_live_after_a_reload() {
    let host = Host::start(&config());
    let config = host.config_path();
    let file = config.to_str().unwrap();
    // `v030` is shared with `steady`: refused without --all, file unchanged.
    let before = std::fs::read_to_string(&config).unwrap();
    let (code, _, err) = inbound(&["plugin", "promote", "texts", "--config", file], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("also used by steady"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    let (code, out, err) = inbound(&["plugin", "promote", "texts", "--all", "--config", file], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("inbound reload"), "{out}");
    let (status, answer) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 200, "{answer}");
    // The 0.4.0 plugin is live now, at the same webhook URL.
    let (status, answer) = send(&host, "v030", TEXTS_KEY, "open c");
    assert_eq!(status, 202, "{answer}");
    let created = host.incident(&answer["incident"]["id"]);
    assert_eq!(created["incident"]["details"], "raised by a 0.4.0 plugin", "{created:#}");
    let (status, _) = host.get("/api/v1/sources/texts/shadow");
    assert_eq!(status, 404, "the shadow is gone");
}

#[test]
fn a_shadow_that_cannot_load_stops_the_start_and_check_names_it() {
    let v040 = plugin_wasm("test_api_v0_4_0").display().to_string();
    let broken = config().replacen(&v040, "/nonexistent/candidate.wasm", 1);
    assert_ne!(broken, config());
    let (code, stderr) = support::serve_expecting_failure(&broken);
    assert_ne!(code, 0);
    assert!(stderr.contains("[sources.shadow] cannot be loaded"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &broken).unwrap();
    let (code, out, err) = inbound(&["check", "--config", file.to_str().unwrap()], &[]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("sources[0].shadow.plugin") && err.contains("candidate.wasm"), "{err}");
}
