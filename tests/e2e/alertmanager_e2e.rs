//! End to end against a real sender: Debian's `prometheus-alertmanager`
//! (installed by `make test-deps`) delivers to a running inbound through its
//! webhook receiver. Alerts are pushed to Alertmanager's API firing, then
//! resolved; the incidents must follow.

use crate::support;

use serde_json::{Value, json};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use support::{Host, plugins_config};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
const KEY: &str = "alertmanager-e2e-key-0123456789ab";
const DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);

/// A running Alertmanager, killed on drop.
struct Alertmanager {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    fn start(webhook: &str) -> Alertmanager {
        assert!(
            std::path::Path::new(ALERTMANAGER).is_file(),
            "{ALERTMANAGER} is missing: run `make test-deps` (apt-get install prometheus-alertmanager)"
        );
        let dir = tempfile::tempdir().unwrap();
        // Seconds, not Alertmanager's minutes: the test waits for each flush.
        let config = format!(
            "route:\n  receiver: inbound\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: inbound\n    webhook_configs:\n      - url: '{webhook}'\n        send_resolved: true\n"
        );
        std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(ALERTMANAGER)
            .arg(format!("--config.file={}", dir.path().join("alertmanager.yml").display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No gossip: a lone instance must not bind the cluster port.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Alertmanager");
        let alertmanager =
            Alertmanager { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
        poll("Alertmanager to be ready", || {
            reqwest::blocking::get(format!("{}/-/ready", alertmanager.base))
                .ok()
                .filter(|r| r.status().is_success())
        });
        alertmanager
    }

    fn push(&self, alerts: &Value) {
        let response = reqwest::blocking::Client::new()
            .post(format!("{}/api/v2/alerts", self.base))
            .json(alerts)
            .send()
            .expect("POST /api/v2/alerts");
        assert!(response.status().is_success(), "{}", response.text().unwrap_or_default());
    }

    /// Alertmanager's fingerprint for each alert name.
    fn fingerprints(&self) -> Vec<(String, String)> {
        let alerts: Value =
            reqwest::blocking::get(format!("{}/api/v2/alerts", self.base)).unwrap().json().unwrap();
        alerts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap().to_string(),
                    a["fingerprint"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it gives a value; fails after 60 s.
fn poll<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "gave up waiting for {what} after {DEADLINE:?}");
        std::thread::sleep(POLL);
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

fn alerts(ends_at: Option<SystemTime>) -> Value {
    let alert = |name: &str, severity: &str, summary: Option<&str>| {
        let mut alert = json!({
            "labels": {"alertname": name, "instance": "db1:9100", "severity": severity},
            "annotations": {"description": format!("{name} on db1")},
            "generatorURL": format!("http://prometheus.example:9090/graph?g0.expr={name}"),
        });
        if let Some(summary) = summary {
            alert["annotations"]["summary"] = json!(summary);
        }
        if let Some(ends_at) = ends_at {
            alert["endsAt"] = json!(rfc3339(ends_at));
        }
        alert
    };
    json!([
        alert("DiskFull", "critical", Some("Disk 95% full on db1")),
        alert("HighLatency", "warning", None)
    ])
}

fn alertmanager_incidents(host: &Host) -> Vec<Value> {
    host.incidents().into_iter().filter(|i| i["source"] == "alertmanager").collect()
}

#[test]
fn alertmanager_firing_then_resolved_alerts_open_then_resolve_incidents() {
    let host = Host::start(&plugins_config(&[("alertmanager", "alertmanager", KEY)]));
    let alertmanager =
        Alertmanager::start(&host.url(&format!("/api/v1/events/alertmanager/{KEY}")));

    alertmanager.push(&alerts(None));
    let opened = poll("two open incidents", || {
        Some(alertmanager_incidents(&host)).filter(|list| list.len() == 2)
    });
    let fingerprints = alertmanager.fingerprints();
    let mut names: Vec<&str> = fingerprints.iter().map(|(name, _)| name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["DiskFull", "HighLatency"], "Alertmanager holds both: {fingerprints:?}");
    assert_ne!(fingerprints[0].1, fingerprints[1].1, "two fingerprints: {fingerprints:?}");
    for (name, fingerprint) in &fingerprints {
        let incident =
            opened.iter().find(|i| i["key"] == fingerprint.as_str()).unwrap_or_else(|| {
                panic!("no incident keyed by {name}'s fingerprint {fingerprint}: {opened:?}")
            });
        assert_eq!(incident["status"], "pending");
        assert_eq!(
            incident["links"][0]["url"],
            format!("http://prometheus.example:9090/graph?g0.expr={name}")
        );
        assert!(
            incident["details"].as_str().unwrap().contains("  instance: db1:9100"),
            "{incident}"
        );
    }
    let summaries: Vec<&str> = opened.iter().map(|i| i["summary"].as_str().unwrap()).collect();
    assert!(
        summaries.contains(&"Disk 95% full on db1") && summaries.contains(&"HighLatency"),
        "{summaries:?}"
    );

    alertmanager.push(&alerts(Some(SystemTime::now() - Duration::from_secs(1))));
    let resolved = poll("both incidents resolved", || {
        Some(alertmanager_incidents(&host))
            .filter(|list| list.iter().all(|i| i["status"] == "resolved"))
    });
    assert_eq!(resolved.len(), 2, "resolving creates nothing new: {resolved:?}");
    let log = host.incident(&resolved[0]["id"])["log"].clone();
    let received = log.as_array().unwrap().iter().filter(|e| e["type"] == "event_received").count();
    assert!(received >= 2, "the firing and the resolved notification are on the log: {log}");
    assert!(
        log.to_string().contains("\"Alertmanager/"),
        "Alertmanager itself sent the webhooks (user-agent): {log}"
    );
}
