//! End to end: what an on-call team alerts on. `/metrics` carries webhook
//! latency by source and outcome, the build, the config in effect and its
//! reloads, storage health and the process; it passes `promtool check
//! metrics`; the alerting rules in contrib/ pass `promtool check rules` and
//! their unit tests (`promtool test rules`: each fires on a broken series and
//! not on a healthy one); and every metric the rules and the Grafana
//! dashboard use is one the host exports.
//!
//! promtool comes from Debian's `prometheus` package, which `make test`
//! installs; without it the promtool checks fail unless
//! `INBOUND_TEST_ALLOW_SKIP` names `promtool`.

use crate::support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use support::{Host, TOKEN, plugin_wasm, ticket, workspace_root, zendesk_config};

/// A host with a notification channel that saw traffic, a good reload and a
/// refused one: every metric has a sample.
fn scraped() -> (Host, String) {
    // Nothing listens on port 9: the channel is only there to be counted.
    let channel = format!(
        "\n[[channels]]\nname = \"ops-webhook\"\nplugin = \"{}\"\nurl = \"http://127.0.0.1:9/inbound\"\nsigning_secret = \"webhook-secret-0123456789abcdef\"\n",
        plugin_wasm("notify_webhook").display()
    );
    let host = Host::start(&zendesk_config(&channel));
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202);
    assert_eq!(host.zendesk(&ticket(1, "Solved")).0, 202);
    assert_eq!(host.zendesk(&ticket(2, "Exploded")).0, 400);
    assert_eq!(host.post_json("/api/v1/admin/reload", &Value::Null).0, 200);
    let config = host.dir.path().join("config.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, "this is = = not toml").unwrap();
    assert_eq!(host.post_json("/api/v1/admin/reload", &Value::Null).0, 422);
    std::fs::write(&config, good).unwrap();
    let (status, text) = host.get_text("/metrics", Some(TOKEN));
    assert_eq!(status, 200, "{text}");
    (host, text)
}

fn promtool() -> Option<Command> {
    match Command::new("promtool").arg("--version").output() {
        Ok(output) if output.status.success() => Some(Command::new("promtool")),
        _ => {
            support::cannot_check(
                "promtool",
                "promtool is not installed",
                "install Debian's prometheus package (`make test-deps` does)",
            );
            None
        }
    }
}

/// The value of the sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[test]
fn metrics_carry_latency_build_config_reloads_storage_and_process() {
    let (host, text) = scraped();
    let latency = sample(
        &text,
        "inbound_webhook_seconds_count",
        &[r#"source="support""#, r#"outcome="created""#],
    );
    assert_eq!(latency, Some(1.0), "{text}");
    assert!(sample(&text, "inbound_webhook_seconds_bucket", &[r#"le="+Inf""#]).is_some());
    let version = format!(r#"version="{}""#, env!("CARGO_PKG_VERSION"));
    assert_eq!(sample(&text, "inbound_build_info", &[&version]), Some(1.0), "{text}");
    let file = std::fs::read(host.dir.path().join("config.toml")).unwrap();
    let hash: String = sha256(&file);
    assert_eq!(
        sample(&text, "inbound_config_info", &[&format!(r#"sha256="{hash}""#)]),
        Some(1.0),
        "the config in effect is named by its hash: {text}"
    );
    assert_eq!(sample(&text, "inbound_config_reloads_total", &[r#"result="success""#]), Some(1.0));
    assert_eq!(sample(&text, "inbound_config_reloads_total", &[r#"result="failure""#]), Some(1.0));
    assert_eq!(sample(&text, "inbound_config_last_reload_successful", &[]), Some(0.0));
    assert_eq!(sample(&text, "inbound_storage_available", &[]), Some(1.0));
    // A channel's counters are there before its first delivery, so an alert
    // on their increase sees the first failure too.
    for counter in [
        "inbound_notifications_sent_total",
        "inbound_notifications_failed_total",
        "inbound_notification_retries_total",
    ] {
        let channel = sample(&text, counter, &[r#"channel="ops-webhook""#]);
        assert!(channel.is_some(), "{counter} of the channel in:\n{text}");
    }
    for process in
        ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds"]
    {
        assert!(sample(&text, process, &[]).is_some(), "{process} in:\n{text}");
    }

    let Some(mut promtool) = promtool() else { return };
    let mut check = promtool
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&checked.stdout) + String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success() && said.trim().is_empty(), "promtool check metrics:\n{said}");
}

#[test]
fn alert_rules_and_the_dashboard_use_only_metrics_the_host_exports() {
    let rules = workspace_root().join("contrib/prometheus/alerts.yml");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("contrib/grafana/inbound.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    let (_host, text) = scraped();
    let exported: BTreeSet<String> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.split(['{', ' ']).next().unwrap().to_string())
        .collect();

    let mut expressions: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap().clone())
        .map(|target| target["expr"].as_str().unwrap().to_string())
        .collect();
    let rules_text = std::fs::read_to_string(&rules).unwrap();
    expressions.extend(
        rules_text.lines().filter_map(|line| line.trim().strip_prefix("expr: ")).map(String::from),
    );
    assert!(expressions.len() > 10, "{expressions:?}");
    // Exported only by a host that serves HTTPS itself; tests/e2e/tls.rs scrapes it.
    const ONLY_WITH_TLS: &str = "inbound_tls_certificate_expiry_timestamp_seconds";
    for expression in &expressions {
        for name in metric_names(expression) {
            if name == ONLY_WITH_TLS {
                continue;
            }
            assert!(exported.contains(&name), "{name} (in {expression}) is not exported");
        }
    }

    let Some(mut promtool) = promtool() else { return };
    let checked = promtool.args(["check", "rules"]).arg(&rules).output().unwrap();
    let said = String::from_utf8_lossy(&checked.stdout) + String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "promtool check rules:\n{said}");
    let rules_in_file =
        rules_text.lines().filter(|line| line.trim().starts_with("- alert:")).count();
    assert!(said.contains(&format!("SUCCESS: {rules_in_file} rules found")), "{said}");
}

#[test]
fn the_alert_rules_unit_tests_pass() {
    let tests = workspace_root().join("contrib/prometheus/alerts.test.yml");
    let text = std::fs::read_to_string(&tests).unwrap();
    for alert in ["InboundNotificationsFailed", "InboundNotificationsStuck"] {
        assert!(text.contains(&format!("alertname: {alert}")), "{alert} has no unit test");
    }
    let Some(mut promtool) = promtool() else { return };
    // promtool reads rule_files relative to the test file's folder.
    let checked = promtool.args(["test", "rules"]).arg(&tests).output().unwrap();
    let said = String::from_utf8_lossy(&checked.stdout) + String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success() && said.contains("SUCCESS"), "promtool test rules:\n{said}");
}

/// The `inbound_*` and `process_*` names an expression reads.
fn metric_names(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find(|c: char| c.is_ascii_lowercase()) {
        rest = &rest[at..];
        let end =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let word = &rest[..end];
        if word.starts_with("inbound_") || word.starts_with("process_") {
            names.push(word.to_string());
        }
        rest = &rest[end..];
    }
    names
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}
