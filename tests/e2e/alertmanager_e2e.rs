//! End to end against a real sender: Debian's `prometheus-alertmanager`
//! (installed by `make test-deps`) delivers to a running inbound through its
//! webhook receiver. Alerts are pushed to Alertmanager's API firing, then
//! resolved; the incidents must follow, one per alert or, with
//! `incident_per = "group"`, one per group.

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
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Alertmanager::start_on(port, webhook)
    }

    /// On `port`, chosen before inbound starts: inbound's config names it.
    fn start_on(port: u16, webhook: &str) -> Alertmanager {
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

/// A `DiskFull` alert per (instance, severity): one group under the
/// `group_by: ['alertname']` route; ended at `ends_at` when given.
fn disk_alerts(instances: &[(&str, &str)], ends_at: Option<SystemTime>) -> Value {
    let alerts: Vec<Value> = instances
        .iter()
        .map(|(instance, severity)| {
            let mut alert = json!({
                "labels": {"alertname": "DiskFull", "instance": instance, "severity": severity},
                "annotations": {"summary": format!("Disk full on {instance}")},
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=DiskFull",
            });
            if let Some(ends_at) = ends_at {
                alert["endsAt"] = json!(rfc3339(ends_at));
            }
            alert
        })
        .collect();
    Value::Array(alerts)
}

/// The incident's log entries of type `kind`.
fn entries(host: &Host, id: &Value, kind: &str) -> Vec<Value> {
    let log = host.incident(id)["log"].clone();
    log.as_array().unwrap().iter().filter(|entry| entry["type"] == kind).cloned().collect()
}

#[test]
fn alertmanager_group_mode_keeps_one_incident_per_group_until_every_alert_resolves() {
    let mut config = plugins_config(&[("alertmanager", "alertmanager", KEY)]);
    config.push_str("\n[sources.settings]\nincident_per = \"group\"\n");
    let host = Host::start(&config);
    let alertmanager =
        Alertmanager::start(&host.url(&format!("/api/v1/events/alertmanager/{KEY}")));
    let (db1, db2, db3) =
        (("db1:9100", "critical"), ("db2:9100", "warning"), ("db3:9100", "warning"));

    alertmanager.push(&disk_alerts(&[db1, db2, db3], None));
    let opened = poll("one incident for the group", || {
        Some(alertmanager_incidents(&host)).filter(|list| !list.is_empty())
    });
    assert_eq!(opened.len(), 1, "one incident for three alerts: {opened:?}");
    let incident = &opened[0];
    assert_eq!(incident["key"], "{}:{alertname=\"DiskFull\"}", "Alertmanager's groupKey");
    assert_eq!(incident["summary"], "DiskFull: 3 of 3 alerts firing");
    assert_eq!(incident["priority"], "urgent", "the highest severity firing");
    let details = incident["details"].as_str().unwrap();
    assert!(details.starts_with("3 of 3 alerts firing.\n"), "{details}");
    for (instance, severity) in [db1, db2, db3] {
        let entry = format!("- firing: instance=\"{instance}\", severity=\"{severity}\" (since ");
        assert!(details.contains(&entry), "{entry} in {details}");
        assert!(details.contains(&format!("  Disk full on {instance}")), "{details}");
    }

    // One alert ends: the group still fires, and its incident is updated:
    // summary and details rebuilt, the change logged, no comment.
    alertmanager.push(&disk_alerts(&[db2], Some(SystemTime::now() - Duration::from_secs(1))));
    let id = &incident["id"];
    let updated = poll("the group's change on its incident", || {
        Some(host.incident(id)["incident"].clone())
            .filter(|incident| incident["summary"] == "DiskFull: 2 of 3 alerts firing")
    });
    let details = updated["details"].as_str().unwrap();
    assert!(details.starts_with("2 of 3 alerts firing.\n"), "{details}");
    assert!(details.contains("- resolved: instance=\"db2:9100\""), "{details}");
    assert!(details.contains("- firing: instance=\"db3:9100\""), "{details}");
    assert_eq!(updated["status"], "pending", "two alerts still fire");
    assert_eq!(updated["priority"], "urgent", "db1 (critical) still fires");
    let updates = entries(&host, id, "updated");
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["fields"], json!(["summary", "details"]));
    assert!(entries(&host, id, "comment").is_empty(), "an update, not a comment");

    // The last two end: Alertmanager sends the group resolved.
    alertmanager.push(&disk_alerts(&[db1, db3], Some(SystemTime::now() - Duration::from_secs(1))));
    let resolved = poll("the group's incident resolved", || {
        Some(host.incident(id)).filter(|incident| incident["incident"]["status"] == "resolved")
    });
    let incidents = alertmanager_incidents(&host);
    assert_eq!(incidents.len(), 1, "no incident per alert, none new: {incidents:?}");
    assert!(
        resolved["log"].to_string().contains("resolved in Alertmanager: every alert of the group"),
        "{resolved}"
    );
}

/// Alertmanager's silences, as its API lists them.
fn silences(alertmanager: &Alertmanager) -> Vec<Value> {
    reqwest::blocking::get(format!("{}/api/v2/silences", alertmanager.base))
        .unwrap()
        .json::<Value>()
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Two-way: accepting an incident silences its alert in the real
/// Alertmanager (its API shows the silence, the alert suppressed by it);
/// resolving the incident expires the silence.
#[test]
fn accepting_silences_the_alert_in_alertmanager_until_the_incident_is_resolved() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = plugins_config(&[("alertmanager", "alertmanager", KEY)]);
    config.push_str(&format!(
        "\n[sources.outbound]\nurl = \"http://127.0.0.1:{port}\"\n\n[notifications]\nretry_initial_ms = 200\n"
    ));
    let host = Host::start(&config);
    let alertmanager =
        Alertmanager::start_on(port, &host.url(&format!("/api/v1/events/alertmanager/{KEY}")));
    alertmanager.push(&disk_alerts(&[("db1:9100", "critical")], None));
    let incident =
        poll("the alert's incident", || alertmanager_incidents(&host).into_iter().next());
    let id = incident["id"].clone();

    let (code, answer) =
        host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({"note": "looking"}));
    assert_eq!(code, 200, "{answer}");
    let silence = poll("a silence for the alert", || {
        silences(&alertmanager).into_iter().find(|s| s["status"]["state"] == "active")
    });
    let matchers = silence["matchers"].as_array().unwrap();
    let matcher =
        |name: &str| matchers.iter().find(|m| m["name"] == name).map(|m| m["value"].clone());
    assert_eq!(matcher("alertname"), Some(json!("DiskFull")), "{silence}");
    assert_eq!(matcher("instance"), Some(json!("db1:9100")), "{silence}");
    assert!(silence["createdBy"].as_str().unwrap().contains("ops"), "{silence}");
    assert!(silence["comment"].as_str().unwrap().contains(&format!("inbound-{id}-")), "{silence}");
    let silence_id = silence["id"].as_str().unwrap().to_string();
    poll("the alert silenced by it", || {
        let alerts: Value = reqwest::blocking::get(format!("{}/api/v2/alerts", alertmanager.base))
            .ok()?
            .json()
            .ok()?;
        alerts
            .as_array()?
            .iter()
            .find(|a| {
                a["status"]["state"] == "suppressed"
                    && a["status"]["silencedBy"]
                        .as_array()
                        .is_some_and(|by| by.contains(&json!(silence_id)))
            })
            .cloned()
    });
    // The host records the attempt once Alertmanager has answered, so a
    // moment after the silence exists.
    poll("the silence's attempt on the incident's log", || {
        entries(&host, &id, "notification_attempt").into_iter().find(|e| e["outcome"] == "sent")
    });

    let (code, answer) = host.post_json(&format!("/api/v1/incidents/{id}/resolve"), &json!({}));
    assert_eq!(code, 200, "{answer}");
    poll("the silence expired", || {
        silences(&alertmanager)
            .into_iter()
            .find(|s| s["id"] == silence_id.as_str() && s["status"]["state"] == "expired")
    });
    assert_eq!(
        silences(&alertmanager).iter().filter(|s| s["status"]["state"] == "active").count(),
        0,
        "no other silence was made"
    );
}
