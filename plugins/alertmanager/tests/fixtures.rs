//! Fixture tests: Alertmanager webhook bodies through the real inbound
//! runtime and a temporary database (`inbound::harness`).
//!
//! `make plugins` (or `cargo build --release --target wasm32-wasip2 -p
//! inbound-alertmanager`) builds the component first.

use inbound::harness::{Harness, RunResult, TestRequest, plugin_wasm};
use inbound::store::{Action, LogKind, Priority, Status};

const DISK: &str = "5d1c3b1a2f8e9a01";
const LATENCY: &str = "9e8f7a6b5c4d3e02";

fn harness() -> Harness {
    Harness::new(plugin_wasm(env!("CARGO_MANIFEST_DIR"), "inbound_alertmanager"))
        .expect("the plugin loads")
}

fn send(harness: &Harness, fixture: &str) -> RunResult {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let run = harness.send(TestRequest::fixture(path).unwrap());
    assert!(run.status == 202 || run.status == 400, "{fixture}: {run}");
    run
}

fn status_of(harness: &Harness, key: &str) -> Vec<Status> {
    harness.incidents().iter().filter(|i| i.key == key).map(|i| i.status).collect()
}

#[test]
fn a_firing_group_opens_one_incident_per_alert() {
    let harness = harness();
    let run = send(&harness, "firing-two.json");
    assert_eq!(run.status, 202, "{run}");
    assert_eq!(run.actions(), [Action::Created, Action::Created]);
    let (disk, latency) = (run.incidents()[0], run.incidents()[1]);
    assert_eq!((disk.key.as_str(), latency.key.as_str()), (DISK, LATENCY));
    assert_eq!(disk.summary, "Disk 95% full on db1", "summary from annotations.summary");
    assert_eq!(latency.summary, "HighLatency", "no summary annotation: the alert name");
    assert!(
        disk.details.starts_with("Only 5% of /var/lib/postgresql is left.\n\nLabels:\n"),
        "{}",
        disk.details
    );
    assert!(
        disk.details.contains("  instance: db1:9100\n")
            && disk.details.contains("  runbook_url: https://runbooks.example/disk-full")
    );
    assert_eq!(disk.priority, Some(Priority::Urgent));
    assert_eq!(latency.priority, Some(Priority::Normal));
    assert_eq!(disk.url.as_deref(), Some("http://alertmanager.example:9093"));
    let links: Vec<(&str, &str)> =
        disk.links.iter().map(|l| (l.label.as_str(), l.url.as_str())).collect();
    assert_eq!(
        links,
        [
            ("Alert source", "http://prometheus.example:9090/graph?g0.expr=DiskFull&g0.tab=1"),
            ("Runbook", "https://runbooks.example/disk-full")
        ]
    );
    assert_eq!(run.answer["outcomes"].as_array().unwrap().len(), 2, "one outcome per alert: {run}");
}

#[test]
fn a_repeated_firing_notification_changes_nothing() {
    let harness = harness();
    send(&harness, "firing-two.json");
    let run = send(&harness, "firing-two.json");
    assert_eq!(run.actions(), [Action::Unchanged, Action::Unchanged], "{run}");
    assert_eq!(harness.incidents().len(), 2);
}

#[test]
fn a_resolved_alert_resolves_only_its_incident() {
    let harness = harness();
    send(&harness, "firing-two.json");
    let run = send(&harness, "resolved-one.json");
    assert_eq!(run.actions(), [Action::Resolved, Action::Unchanged], "{run}");
    assert_eq!(status_of(&harness, DISK), [Status::Resolved]);
    assert_eq!(status_of(&harness, LATENCY), [Status::Pending]);
    let (_, log) = harness.incident(run.incidents()[0].id).unwrap();
    let log = serde_json::to_string(&log).unwrap();
    assert!(log.contains("resolved in Alertmanager (ends at 2024-05-01T10:30:00.000Z)"), "{log}");
}

#[test]
fn repeated_resolved_notices_are_unchanged_not_errors() {
    let harness = harness();
    send(&harness, "firing-two.json");
    assert_eq!(send(&harness, "resolved-all.json").actions(), [Action::Resolved, Action::Resolved]);
    let again = send(&harness, "resolved-all.json");
    assert_eq!(again.status, 202, "{again}");
    assert_eq!(again.actions(), [Action::Unchanged, Action::Unchanged]);
}

#[test]
fn a_resolved_alert_never_seen_firing_is_unchanged() {
    let harness = harness();
    let run = send(&harness, "resolved-unknown.json");
    assert_eq!(run.status, 202, "{run}");
    assert_eq!(run.answer["action"], "unchanged");
    assert!(run.outcomes.is_empty() && harness.incidents().is_empty());
    assert!(run.logged("alert 0000aaaa1111bbbb resolved, but no incident is open for it"), "{run}");
}

#[test]
fn an_alert_firing_again_after_resolution_opens_a_new_incident() {
    let harness = harness();
    send(&harness, "firing-two.json");
    send(&harness, "resolved-all.json");
    let run = send(&harness, "firing-two.json");
    assert_eq!(run.actions(), [Action::Created, Action::Created], "{run}");
    assert_eq!(status_of(&harness, DISK), [Status::Resolved, Status::Pending]);
}

#[test]
fn a_bad_alert_rejects_the_whole_notification_and_names_the_field() {
    let harness = harness();
    let run = send(&harness, "invalid-second-alert.json");
    assert_eq!(run.status, 400, "{run}");
    assert_eq!(run.error_code(), Some("invalid-field"));
    assert_eq!(
        run.error_message(),
        Some("the field `alerts[1].status` is \"pending\"; expected \"firing\" or \"resolved\"")
    );
    assert!(harness.incidents().is_empty(), "a rejected notification applies nothing");
}

fn group_harness() -> Harness {
    harness()
        .with_settings(serde_json::json!({"incident_per": "group"}))
        .expect("settings accepted")
}

/// `field` of the incident's log entries of type `kind`.
fn log_texts(harness: &Harness, id: u64, kind: &str, field: &str) -> Vec<String> {
    let (_, log) = harness.incident(id).unwrap();
    let log = serde_json::to_value(&log).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == kind)
        .filter_map(|entry| entry[field].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_group_update_rewrites_the_details_and_the_resolution_lists_the_last() {
    let harness = group_harness();
    let id = send(&harness, "group-firing-three.json").incidents()[0].id;
    let run = send(&harness, "group-one-resolved.json");
    assert_eq!(run.actions(), [Action::Commented], "an update is reported as commented: {run}");
    assert!(log_texts(&harness, id, "comment", "text").is_empty(), "no comment, an update");
    let (incident, log) = harness.incident(id).unwrap();
    let log = serde_json::to_value(&log).unwrap();
    let updates: Vec<&serde_json::Value> =
        log.as_array().unwrap().iter().filter(|entry| entry["type"] == "updated").collect();
    assert_eq!(updates.len(), 1, "{log}");
    assert_eq!(updates[0]["fields"], serde_json::json!(["summary", "details"]));
    assert_eq!(incident.summary, "DiskFull: 2 of 3 alerts firing");
    assert_eq!(
        incident.details,
        r#"2 of 3 alerts firing.
Common labels: alertname="DiskFull", job="node"

- firing: instance="db1:9100", severity="critical" (since 2024-05-01T10:00:00.000Z)
  Disk 95% full on db1
- resolved: instance="db2:9100", severity="warning" (2024-05-01T10:00:00.000Z to 2024-05-01T10:30:00.000Z)
  Disk 91% full on db2
- firing: instance="db3:9100", severity="warning" (since 2024-05-01T10:00:00.000Z)
  Disk 90% full on db3"#
    );
    // Alertmanager repeats the notification: nothing changes, nothing is logged.
    let run = send(&harness, "group-one-resolved.json");
    assert_eq!(run.actions(), [Action::Unchanged], "{run}");
    let (again, log_again) = harness.incident(id).unwrap();
    let updated = log_again.iter().filter(|entry| matches!(entry.kind, LogKind::Updated { .. }));
    assert_eq!((again.version, updated.count()), (incident.version, 1), "a repeat logs nothing");
    let run = send(&harness, "group-all-resolved.json");
    assert_eq!(run.actions(), [Action::Resolved], "{run}");
    let notes = log_texts(&harness, id, "status_changed", "note");
    assert!(
        notes.iter().any(|note| note.starts_with(
            "resolved in Alertmanager: every alert of the group\n\n0 of 2 alerts firing."
        )),
        "{notes:?}"
    );
    assert_eq!(harness.incidents().len(), 1, "one incident for the group throughout");
}

#[test]
fn a_group_firing_again_after_resolution_opens_a_new_incident_from_that_notification() {
    let harness = group_harness();
    send(&harness, "group-firing-three.json");
    send(&harness, "group-all-resolved.json");
    // The group's memory went with its resolution: the next firing creates.
    let run = send(&harness, "group-one-resolved.json");
    assert_eq!(run.actions(), [Action::Created], "{run}");
    assert_eq!(run.incidents()[0].summary, "DiskFull: 2 of 3 alerts firing");
    assert_eq!(run.incidents()[0].priority, Some(Priority::Urgent));
}

#[test]
fn time_and_memory_are_measured() {
    let run = send(&harness(), "firing-two.json");
    assert!(run.time.as_micros() > 0, "{run}");
    assert!(run.memory_bytes > 0 && run.memory_bytes < 32 << 20, "{run}");
}

/// Every `tests/*.toml` fixture, each on an empty database, as `inbound
/// plugin test` runs them: webhooks, and changes made in inbound with the
/// requests the plugin sends back (plugin API 0.5.0 `on-change`).
#[test]
fn every_fixture_file_passes() {
    let loaded = harness();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let failed: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let fixture = inbound::harness::Fixture::load(path).unwrap();
            let outcome = fixture.run(loaded.with_empty_database().unwrap(), &dir).unwrap();
            (!outcome.failures.is_empty())
                .then(|| format!("{}:\n{}", path.display(), outcome.failures.join("\n")))
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
