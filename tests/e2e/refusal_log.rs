//! End to end: every refused request is logged once, with its request id
//! (also sent back as `x-request-id`), method, path with the key redacted,
//! status, code, source when known and client address; and no sender's or
//! plugin's text can put a raw control character, a forged line, in the log.

use crate::support;

use serde_json::Value;
use std::io::Write;
use std::time::Duration;
use support::{Host, KEY, TOKEN, poll, read_raw_answer, ticket, zendesk_config};

const SIGNED_KEY: &str = "signed-key-0123456789abcdefghijk";
const LIMITED_KEY: &str = "limited-key-0123456789abcdefghij";
const HOSTILE_KEY: &str = "hostile-key-0123456789abcdefghij";

fn config() -> String {
    let hostile = support::plugin_wasm("test_hostile");
    zendesk_config(&format!(
        r#"
[[sources]]
name = "signed"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{SIGNED_KEY}"
signing_secret = "a-secret-0123456789abcdefghijklm"

[[sources]]
name = "limited"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{LIMITED_KEY}"
rate_limit_per_second = 1
rate_limit_burst = 1

[integrations.hostile]
plugin = "{}"

[[sources]]
name = "hostile"
integration = "hostile"
escalation_policy = "support-oncall"
key = "{HOSTILE_KEY}"
"#,
        hostile.display()
    ))
    .replace(
        "[server]\n",
        "[server]\nbody_limit_bytes = 4096\nbody_read_timeout_ms = 300\nheader_limit_bytes = 8192\n",
    )
}

fn events(key: &str) -> String {
    format!("/api/v1/events/zendesk/{key}")
}

/// The `request refused` lines of a JSON log.
fn refusals(host: &Host) -> Vec<Value> {
    host.logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "request refused")
        .collect()
}

#[test]
fn every_refused_request_is_logged_once_with_its_request_id() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config()).unwrap();
    let host = Host::start_with(dir, &["--log-format", "json"], &[]);
    let json = [("content-type", "application/json")];
    let body = ticket(1, "Open").to_string();
    assert_eq!(host.zendesk(&ticket(1, "Open")).0, 202, "a first webhook for the limited one");
    assert_eq!(host.post_with_headers(&events(LIMITED_KEY), &json, body.clone()).0, 202);

    // (what, status, code, source, answer headers)
    let mut expected = Vec::new();
    let mut send = |what: &'static str,
                    code: &'static str,
                    source: Option<&'static str>,
                    answer: (u16, reqwest::header::HeaderMap, Value)| {
        let id = answer.1.get("x-request-id").map(|v| v.to_str().unwrap().to_string());
        let id = id.unwrap_or_else(|| panic!("{what}: no x-request-id in {:?}", answer.1));
        expected.push((what, answer.0, code, source, id));
    };
    send(
        "unknown key",
        "unknown-key",
        None,
        host.post_with_headers(&events("wrong-key-0123456789abcdefghijkl"), &json, body.clone()),
    );
    send(
        "unsigned",
        "signature-missing",
        Some("signed"),
        host.post_with_headers(&events(SIGNED_KEY), &json, body.clone()),
    );
    send(
        "rate limited",
        "rate-limited",
        Some("limited"),
        host.post_with_headers(&events(LIMITED_KEY), &json, body.clone()),
    );
    send(
        "rejected",
        "invalid-json",
        Some("support"),
        host.post_with_headers(&events(KEY), &json, "{"),
    );
    send(
        "too large",
        "body-too-large",
        Some("support"),
        host.post_with_headers(&events(KEY), &json, "x".repeat(5000)),
    );
    send(
        "plugin failed",
        "plugin-failed",
        Some("hostile"),
        host.post_with_headers(&format!("/api/v1/events/hostile/{HOSTILE_KEY}"), &[], "panic"),
    );
    let response = reqwest::blocking::get(host.url("/api/v1/incidents")).unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    send("no token", "unauthorized", None, (status, headers, Value::Null));

    // A body that never arrives: 408 on a raw connection, id in the head.
    let mut slow = host.connect();
    slow.write_all(
        format!("POST {} HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{{", events(KEY))
            .as_bytes(),
    )
    .unwrap();
    let mut head = String::new();
    let _ = std::io::Read::read_to_string(&mut slow, &mut head);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an x-request-id")
        .trim()
        .to_string();
    expected.push(("slow body", 408, "body-timeout", Some("support"), id));

    // A head over the limit, answered by hyper before any request exists.
    let mut large = host.connect();
    large
        .write_all(
            format!("POST {} HTTP/1.1\r\nx-padding: {}\r\n\r\n", events(KEY), "a".repeat(10_000))
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(read_raw_answer(&mut large).map(|a| a.0), Some(431));

    // One more than requests sent with an id: the 431 has none.
    let all_logged = poll(Duration::from_secs(10), || refusals(&host).len() > expected.len());
    let logged = refusals(&host);
    assert!(
        all_logged,
        "{} refusals logged, {} expected:\n{}",
        logged.len(),
        expected.len() + 1,
        host.logs()
    );
    for (what, status, code, source, id) in &expected {
        let lines: Vec<&Value> =
            logged.iter().filter(|line| line["request_id"] == id.as_str()).collect();
        assert_eq!(lines.len(), 1, "{what}: one line for request {id}:\n{}", host.logs());
        let line = lines[0];
        assert_eq!(line["status"], *status, "{what}: {line}");
        assert_eq!(line["code"], *code, "{what}: {line}");
        assert_eq!(line["source"].as_str(), *source, "{what}: {line}");
        assert!(line["method"].is_string() && line["path"].is_string(), "{what}: {line}");
        assert!(
            line["client"].as_str().is_some_and(|c| c.starts_with("127.0.0.1:")),
            "{what}: {line}"
        );
    }
    assert!(
        logged.iter().any(|line| line["status"] == 431 && line["client"].is_string()),
        "the 431 is logged:\n{}",
        host.logs()
    );
    let webhook_paths: Vec<&str> =
        logged.iter().filter_map(|l| l["path"].as_str()).filter(|p| p.contains("events")).collect();
    assert!(webhook_paths.contains(&"/api/v1/events/zendesk/<key>"), "{webhook_paths:?}");
    let logs = host.logs();
    for secret in
        [KEY, SIGNED_KEY, LIMITED_KEY, HOSTILE_KEY, TOKEN, "wrong-key-0123456789abcdefghijkl"]
    {
        assert!(!logs.contains(secret), "{secret:?} must not be logged:\n{logs}");
    }
}

#[test]
fn a_plugin_cannot_forge_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config()).unwrap();
    let host = Host::start_with(dir, &["--log-format", "text"], &[]);
    let path = format!("/api/v1/events/hostile/{HOSTILE_KEY}");
    assert_eq!(host.post_with_headers(&path, &[], "forge x").0, 400);
    assert_eq!(host.post_with_headers(&path, &[], "forge-panic").0, 503);
    assert!(host.wait_for_log("plugin-failed", Duration::from_secs(10)), "{}", host.logs());
    let logs = host.logs();
    for forged in ["FORGED plugin line", "FORGED rejection line", "FORGED panic line"] {
        assert!(logs.contains(forged), "{forged:?} was not logged at all:\n{logs}");
    }
    let forged: Vec<&str> =
        logs.lines().filter(|line| line.trim_start().starts_with("FORGED")).collect();
    assert!(forged.is_empty(), "lines forged by the plugin: {forged:?}\n{logs}");
    assert!(logs.lines().all(|line| !line.contains('\r')), "a raw CR:\n{logs:?}");
}
