//! End to end: running the host — metrics, logs, health, graceful shutdown
//! under traffic, and reloading good and bad configs without dropping
//! requests.

use crate::support;

use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Host, KEY, TOKEN, inbound, poll, ticket, zendesk_config};

const DEADLINE: Duration = Duration::from_secs(30);

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let matches =
            metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

#[test]
fn metrics_count_events_plugin_calls_commits_and_incidents() {
    let host = Host::start(&zendesk_config(""));
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202);
    assert_eq!(host.zendesk(&ticket(2, "New")).0, 202);
    assert_eq!(host.zendesk(&ticket(2, "Solved")).0, 202);
    assert_eq!(host.zendesk(&ticket(3, "Exploded")).0, 400);
    let (status, _) = host.post_raw(
        "/api/v1/events/zendesk/wrong-key-0123456789abcdef",
        "application/json",
        "{}",
    );
    assert_eq!(status, 404);

    assert_eq!(host.get_text("/metrics", None).0, 401, "metrics need the token");
    let (status, text) = host.get_text("/metrics", Some(TOKEN));
    assert_eq!(status, 200, "{text}");
    let events = |outcome| {
        sample(&text, "inbound_events_total", &[("source", "support"), ("outcome", outcome)])
    };
    assert_eq!(events("created"), Some(2.0), "{text}");
    assert_eq!(events("resolved"), Some(1.0), "{text}");
    assert_eq!(events("rejected"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "inbound_events_total", &[("outcome", "unknown_source")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "inbound_plugin_call_seconds_count", &[("integration", "zendesk")]),
        Some(3.0),
        "{text}"
    );
    assert!(
        sample(&text, "inbound_plugin_call_seconds_bucket", &[("le", "+Inf")]).is_some(),
        "{text}"
    );
    assert!(sample(&text, "inbound_commit_seconds_count", &[]).is_some_and(|n| n >= 3.0), "{text}");
    assert!(
        sample(&text, "inbound_commit_batch_size_sum", &[]).is_some_and(|n| n >= 3.0),
        "{text}"
    );
    assert_eq!(sample(&text, "inbound_incidents", &[("status", "pending")]), Some(1.0), "{text}");
    assert_eq!(sample(&text, "inbound_incidents", &[("status", "resolved")]), Some(1.0), "{text}");
    assert_eq!(sample(&text, "inbound_incidents", &[("status", "accepted")]), Some(0.0), "{text}");
    assert!(!text.contains(KEY), "no secret in metrics");
}

#[test]
fn health_and_readiness() {
    let host = Host::start(&zendesk_config(""));
    assert_eq!(host.get_as("/healthz", None), (200, json!({"status": "ok"})));
    let (status, body) = host.get_as("/readyz", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
}

#[test]
fn json_logs_have_one_line_per_webhook_and_no_secrets_or_payloads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), zendesk_config("")).unwrap();
    let host = Host::start_with(dir, &["--log-format", "json"], &[]);
    let (_, created) = host.zendesk(&ticket(5, "New"));
    assert_eq!(host.zendesk(&ticket(6, "Exploded")).0, 400);
    assert_eq!(host.get("/api/v1/incidents").0, 200);
    assert!(host.wait_for_log("\"request refused\"", DEADLINE), "{}", host.logs());
    let logs = host.logs();
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"))
        })
        .collect();
    let webhooks: Vec<&Value> = lines.iter().filter(|line| line["message"] == "webhook").collect();
    assert_eq!(webhooks.len(), 1, "{logs}");
    assert_eq!(webhooks[0]["source"], "support");
    assert_eq!(webhooks[0]["action"], "created");
    assert_eq!(webhooks[0]["incident"], created["incident"]["id"]);
    assert!(webhooks[0]["latency_us"].is_u64(), "{logs}");
    for secret in [KEY, TOKEN, "Printer on fire", "Ada Lovelace"] {
        assert!(!logs.contains(secret), "{secret:?} must not be logged:\n{logs}");
    }
}

#[test]
fn sigterm_under_traffic_loses_no_acknowledged_event() {
    let host = Host::start(&zendesk_config(""));
    let acknowledged = Arc::new(Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..8u64)
        .map(|thread| {
            let (url, acknowledged, stop) = (
                host.url(&format!("/api/v1/events/zendesk/{KEY}")),
                acknowledged.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                for n in 0..400 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let id = 1 + thread * 1000 + n;
                    match client.post(&url).json(&ticket(id, "New")).send() {
                        Ok(response) if response.status().as_u16() == 202 => {
                            acknowledged.lock().unwrap().push(id)
                        }
                        // Refused or cut off by the shutdown: not acknowledged, may or may not be stored.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    assert!(poll(DEADLINE, || acknowledged.lock().unwrap().len() >= 100), "traffic did not flow");
    host.signal("TERM");
    let mut host = host;
    host.stop_after_signal();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() < 8 * 400,
        "the shutdown came after all traffic; it must come mid-way"
    );

    let host = host.restart();
    let stored: std::collections::HashSet<String> = host
        .all_incidents()
        .iter()
        .map(|incident| incident["key"].as_str().unwrap().to_string())
        .collect();
    let lost: Vec<&u64> =
        acknowledged.iter().filter(|id| !stored.contains(&id.to_string())).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged tickets were lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
}

/// Appends a second source with `inbound sources add` and returns its webhook path.
fn add_billing_source(host: &Host) -> String {
    let config = host.config_path();
    let args = [
        "sources",
        "add",
        "--name",
        "billing",
        "--integration",
        "zendesk",
        "--escalation-policy",
        "support-oncall",
        "--config",
        config.to_str().unwrap(),
    ];
    let (code, stdout, stderr) = inbound(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    let url =
        stdout.lines().find_map(|line| line.strip_prefix("webhook URL: ")).unwrap().to_string();
    url[url.find("/api/").unwrap()..].to_string()
}

/// Posts tickets to `support` from a thread until `stop` is set; the
/// statuses it got so far are in the returned list.
struct Traffic {
    stop: Arc<AtomicBool>,
    statuses: Arc<Mutex<Vec<u16>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Traffic {
    fn start(host: &Host) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let (url, flag, seen) =
            (host.url(&format!("/api/v1/events/zendesk/{KEY}")), stop.clone(), statuses.clone());
        let thread = std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            let mut id = 10_000;
            while !flag.load(Ordering::Relaxed) {
                id += 1;
                let status = client
                    .post(&url)
                    .json(&ticket(id, "New"))
                    .send()
                    .map_or(0, |r| r.status().as_u16());
                seen.lock().unwrap().push(status);
            }
        });
        assert!(poll(DEADLINE, || statuses.lock().unwrap().len() >= 5), "traffic did not flow");
        Traffic { stop, statuses, thread }
    }

    fn finish(self) -> Vec<u16> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.statuses.lock().unwrap().clone()
    }
}

#[test]
fn sighup_reloads_a_good_config_without_dropping_requests() {
    let host = Host::start(&zendesk_config(""));
    let billing = add_billing_source(&host);
    let (status, body) = host.post_raw(&billing, "application/json", ticket(1, "New").to_string());
    assert_eq!(status, 404, "not before the reload: {body}");

    let traffic = Traffic::start(&host);
    host.signal("HUP");
    assert!(host.wait_for_log("configuration reloaded", DEADLINE), "{}", host.logs());
    let (status, body) = host.post_raw(&billing, "application/json", ticket(1, "New").to_string());
    let statuses = traffic.finish();
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["incident"]["source"], "billing");
    assert!(statuses.iter().all(|s| *s == 202), "requests during the reload: {statuses:?}");
}

#[test]
fn a_bad_config_is_refused_on_reload_and_the_old_one_keeps_serving() {
    let host = Host::start(&zendesk_config(""));
    let good = std::fs::read_to_string(host.config_path()).unwrap();
    let bad =
        good.replace("escalation_policy = \"support-oncall\"", "escalation_policy = \"nobody\"");
    std::fs::write(host.config_path(), &bad).unwrap();

    host.signal("HUP");
    assert!(host.wait_for_log("configuration refused", DEADLINE), "{}", host.logs());
    assert!(host.logs().contains("sources[0].escalation_policy"), "{}", host.logs());
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202, "the old config keeps serving");

    // The same through the API, which answers with the reason.
    let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid-config");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("unknown escalation policy \"nobody\""),
        "{body}"
    );

    std::fs::write(host.config_path(), &good).unwrap();
    let remote = ["reload", "--url", host.base.as_str(), "--token", TOKEN];
    let (code, stdout, stderr) = inbound(&remote, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("reloaded: 1 sources"), "{stdout}");
    assert_eq!(host.zendesk(&ticket(2, "New")).0, 202);
}

/// A channel URL may carry a password (or be a Slack webhook, whose path is
/// the secret): a reload refusing it says what is wrong with the scheme,
/// host and port only, in the `422` answer and in the log.
#[test]
fn a_refused_channel_url_is_not_echoed_by_a_reload_or_the_log() {
    let host = Host::start(&zendesk_config(""));
    let good = std::fs::read_to_string(host.config_path()).unwrap();
    let channel = format!(
        "\n[[channels]]\nname = \"hook\"\nplugin = \"{}\"\nurl = \"https://hook-user:s3cret-pass@hooks.example.com/services/T0/B0/XyZ?token=abc\"\nsigning_secret = \"webhook-secret-0123456789abcdef\"\n",
        support::plugin_wasm("notify_webhook").display()
    );
    std::fs::write(host.config_path(), format!("{good}{channel}")).unwrap();
    let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("channels[0].url (channel \"hook\"): https://hooks.example.com:443 (the rest not shown) has credentials in it"),
        "{message}"
    );
    host.signal("HUP");
    assert!(
        poll(DEADLINE, || host.logs().matches("configuration refused").count() >= 2),
        "{}",
        host.logs()
    );
    let logs = host.logs();
    assert!(logs.contains("https://hooks.example.com:443"), "{logs}");
    for secret in ["s3cret-pass", "hook-user", "/services", "XyZ", "token=abc"] {
        assert!(!message.contains(secret), "{secret} in the answer: {message}");
        assert!(!logs.contains(secret), "{secret} in the log:\n{logs}");
    }
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202, "the old config keeps serving");
}

#[test]
fn a_storage_path_change_waits_for_a_restart() {
    let host = Host::start(&zendesk_config(""));
    let config = std::fs::read_to_string(host.config_path())
        .unwrap()
        .replace("data/inbound.redb", "data/other.redb");
    std::fs::write(host.config_path(), config).unwrap();
    let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 200, "{body}");
    assert!(body["warnings"][0].as_str().unwrap().contains("storage.path changed"), "{body}");
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202);
    assert!(host.dir.path().join("data/inbound.redb").exists());
    assert!(!host.dir.path().join("data/other.redb").exists());
}

#[test]
fn sigterm_right_after_start_is_a_clean_shutdown() {
    // The handlers are registered before "listening" is logged; a signal in
    // between would otherwise kill the process (exit by signal, not 0).
    // Several hosts at once, so start-up competes for the CPU and the window
    // (if there were one) would be wide.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..4 {
                    let mut host = Host::start(&zendesk_config(""));
                    host.stop();
                }
            });
        }
    });
}

#[test]
fn reverting_a_restart_only_setting_before_restarting_warns_no_more() {
    let host = Host::start(&zendesk_config(""));
    let original = std::fs::read_to_string(host.config_path()).unwrap();
    let moved = original
        .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\"")
        .replace("data/inbound.redb", "data/other.redb");
    assert_ne!(moved, original);
    std::fs::write(host.config_path(), &moved).unwrap();
    let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 200, "{body}");
    let warnings = body["warnings"].to_string();
    assert!(warnings.contains("server.listen changed"), "{body}");
    assert!(warnings.contains("storage.path changed"), "{body}");
    // Back to what the host is running with: nothing waits for a restart.
    std::fs::write(host.config_path(), &original).unwrap();
    let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["warnings"], json!([]), "{body}");
    // The same change twice warns each time: it still waits for a restart.
    std::fs::write(host.config_path(), &moved).unwrap();
    host.post_json("/api/v1/admin/reload", &json!({}));
    let (_, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert!(body["warnings"].to_string().contains("server.listen changed"), "{body}");
}

#[test]
fn a_second_host_on_the_same_database_says_another_inbound_holds_it() {
    let host = Host::start(&zendesk_config(""));
    let path = host.config_path();
    let (code, _, stderr) = inbound(&["serve", "--config", path.to_str().unwrap()], &[]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("already open in another process"), "{stderr}");
    assert!(stderr.contains("probably another inbound"), "{stderr}");
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202, "the first host keeps serving");
}
