//! Fixture tests: Zendesk trigger bodies through the real inbound runtime
//! and a temporary database (`inbound::harness`). The full lifecycle tables
//! are covered over HTTP in tests/e2e/zendesk_lifecycle.rs; these show the
//! plugin as an author tests it.

use inbound::harness::{Harness, RunResult, TestRequest, plugin_wasm};
use inbound::store::{Action, Priority, Status};
use serde_json::json;

fn harness() -> Harness {
    Harness::new(plugin_wasm(env!("CARGO_MANIFEST_DIR"), "inbound_zendesk"))
        .expect("the plugin loads")
}

fn send(harness: &Harness, fixture: &str) -> RunResult {
    harness.send(
        TestRequest::fixture(format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR")))
            .unwrap(),
    )
}

#[test]
fn a_ticket_lives_from_new_to_solved() {
    let harness = harness();
    let created = send(&harness, "ticket-new.json");
    assert_eq!(created.actions(), [Action::Created], "{created}");
    let incident = created.incidents()[0];
    assert_eq!(
        (incident.key.as_str(), incident.summary.as_str()),
        ("35436", "VPN down for the Oslo office")
    );
    assert_eq!(incident.priority, Some(Priority::High));
    assert_eq!(incident.url.as_deref(), Some("https://example.zendesk.com/agent/tickets/35436"));
    assert_eq!(send(&harness, "ticket-pending.json").actions(), [Action::Accepted]);
    assert_eq!(send(&harness, "ticket-solved.json").actions(), [Action::Resolved]);
    assert_eq!(
        send(&harness, "ticket-solved.json").actions(),
        [Action::Unchanged],
        "duplicates are harmless"
    );
    assert_eq!(harness.incidents()[0].status, Status::Resolved);
}

#[test]
fn raw_newlines_inside_strings_are_accepted() {
    let harness = harness();
    let run = send(&harness, "ticket-open-raw-newline.json");
    assert_eq!(run.status, 202, "{run}");
    let (_, log) = harness.incident(run.incidents()[0].id).unwrap();
    assert!(serde_json::to_string(&log).unwrap().contains("line one\\nline two"), "{log:?}");
}

#[test]
fn an_unknown_status_is_a_400_that_lists_what_is_accepted() {
    let harness = harness();
    let run = send(&harness, "ticket-escalated.json");
    assert_eq!(run.status, 400, "{run}");
    assert_eq!(run.error_code(), Some("invalid-status"));
    assert!(run.error_message().unwrap().contains("Escalated"), "{run}");
    assert!(harness.incidents().is_empty());
}

#[test]
fn translated_status_words_come_from_the_settings() {
    let harness = harness().with_settings(json!({"status_aliases": {"løst": "solved"}})).unwrap();
    send(&harness, "ticket-new.json");
    assert_eq!(send(&harness, "ticket-lost.json").actions(), [Action::Resolved]);
    let untranslated = self::harness();
    send(&untranslated, "ticket-new.json");
    assert_eq!(
        send(&untranslated, "ticket-lost.json").status,
        400,
        "without the alias Løst is unknown"
    );
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
