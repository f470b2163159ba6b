//! End to end: the plugin API grew (0.2.0 added links, 0.3.0 `about`, 0.4.0
//! `incidents.update`, 0.5.0 `outbound`) and plugins built against the
//! frozen 0.1.0 ... 0.4.0 still load and work, next to a 0.5.0 plugin on the
//! same host; a plugin of an unknown version is refused by name. The old
//! plugins are tests/plugins/api-v0-1-0 ... api-v0-4-0 (raw bindings of
//! host/wit/v0.1.0 ... v0.4.0, no SDK).

use crate::support;

use serde_json::json;
use support::{Host, plugin_wasm, plugins_config, serve_expecting_failure};

const OLD_KEY: &str = "old-plugin-key-0123456789abcdef";
const NEW_KEY: &str = "alertmanager-key-0123456789abcd";
const V0_2_0_KEY: &str = "v020-plugin-key-0123456789abcdef";
const V0_3_0_KEY: &str = "v030-plugin-key-0123456789abcdef";
const V0_4_0_KEY: &str = "v040-plugin-key-0123456789abcdef";
const HOSTILE_KEY: &str = "hostile-key-0123456789abcdef0123";

#[test]
fn plugins_of_every_supported_version_work_side_by_side() {
    let host = Host::start(&plugins_config(&[
        ("old", "test_api_v0_1_0", OLD_KEY),
        ("v020", "test_api_v0_2_0", V0_2_0_KEY),
        ("v030", "test_api_v0_3_0", V0_3_0_KEY),
        ("v040", "test_api_v0_4_0", V0_4_0_KEY),
        ("alertmanager", "alertmanager", NEW_KEY),
    ]));
    let old = |body: &str| {
        host.post_raw(&format!("/api/v1/events/old/{OLD_KEY}"), "text/plain", body.to_string())
    };

    let (status, created) = old("open web");
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["action"], "created");
    assert_eq!(created["incident"]["url"], "https://status.example/web");
    assert_eq!(created["incident"]["links"], json!([]), "a 0.1.0 plugin cannot add links");
    assert_eq!(old("open web").1["action"], "unchanged", "0.1.0 reads see stored incidents");
    assert_eq!(old("resolve web").1["action"], "resolved");

    let (status, created) = host.post_raw(
        &format!("/api/v1/events/v020/{V0_2_0_KEY}"),
        "text/plain",
        "open db".to_string(),
    );
    assert_eq!(status, 202, "{created}");
    assert_eq!(
        created["incident"]["links"],
        json!([{"label": "Status page", "url": "https://status.example/db"}]),
        "a 0.2.0 plugin adds links through the shared newest host API"
    );
    let (status, created) = host.post_raw(
        &format!("/api/v1/events/v030/{V0_3_0_KEY}"),
        "text/plain",
        "open cache".to_string(),
    );
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["incident"]["summary"], "cache is down", "a 0.3.0 plugin works");
    let v040 = |body: &str| {
        host.post_raw(&format!("/api/v1/events/v040/{V0_4_0_KEY}"), "text/plain", body.to_string())
    };
    let (status, created) = v040("open queue");
    assert_eq!(status, 202, "{created}");
    let (status, updated) = v040("update queue queue is backed up");
    assert_eq!((status, updated["action"].as_str()), (202, Some("commented")), "{updated}");
    assert_eq!(
        updated["incident"]["summary"], "queue is backed up",
        "a 0.4.0 plugin's update is forwarded to the newest host API"
    );
    // A 0.4.0 plugin has no `outbound`: a person's accept asks it nothing.
    let id = updated["incident"]["id"].clone();
    let (status, _) = host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({}));
    assert_eq!(status, 200);

    let alert = json!({"version": "4", "alerts": [{"status": "firing", "fingerprint": "f1",
        "labels": {"alertname": "Up"}, "generatorURL": "http://prometheus.example/graph"}]});
    let (status, new) = host.post_raw(
        &format!("/api/v1/events/alertmanager/{NEW_KEY}"),
        "application/json",
        alert.to_string(),
    );
    assert_eq!(status, 202, "{new}");
    assert_eq!(
        new["incident"]["links"],
        json!([{"label": "Alert source", "url": "http://prometheus.example/graph"}])
    );

    // The log is read from a pipe, so a line may arrive just after the answer.
    for (line, what) in [
        ("0.1.0 plugin: open web", "0.1.0"),
        ("0.2.0 plugin: open db", "0.2.0"),
        ("0.3.0 plugin: open cache", "0.3.0"),
        ("0.4.0 plugin: update queue", "0.4.0"),
    ] {
        let logged = host.wait_for_log(line, std::time::Duration::from_secs(10));
        assert!(logged, "the {what} log import works:\n{}", host.logs());
    }
}

#[test]
fn the_harness_reports_the_version_a_plugin_was_built_against() {
    let old = inbound::harness::Harness::new(plugin_wasm("test_api_v0_1_0")).unwrap();
    assert_eq!(old.api_version().as_str(), "0.1.0");
    assert!(old.about().unwrap().is_none(), "a 0.1.0 plugin cannot say what it is");
    let v020 = inbound::harness::Harness::new(plugin_wasm("test_api_v0_2_0")).unwrap();
    assert_eq!(v020.api_version().as_str(), "0.2.0");
    let v030 = inbound::harness::Harness::new(plugin_wasm("test_api_v0_3_0")).unwrap();
    assert_eq!(v030.api_version().as_str(), "0.3.0");
    let about = v030.about().unwrap().expect("a 0.3.0 plugin says what it is");
    assert_eq!((about.name.as_str(), about.settings), ("api-v0-3-0", Some(vec![])));
    let v040 = inbound::harness::Harness::new(plugin_wasm("test_api_v0_4_0")).unwrap();
    assert_eq!(v040.api_version().as_str(), "0.4.0");
    assert_eq!(v040.send(inbound::harness::TestRequest::body("open x")).status, 202);
    let run = v040
        .change(&inbound::harness::TestChange::new(inbound::store::ChangeKind::Accepted))
        .unwrap();
    let refused = run.requests.unwrap_err();
    assert!(refused.contains("on-change exists from 0.5.0"), "{refused}");
    let new = inbound::harness::Harness::new(plugin_wasm("alertmanager")).unwrap();
    assert_eq!(new.api_version().as_str(), "0.5.0");
    let about = new.about().unwrap().expect("a 0.5.0 plugin says what it is");
    assert_eq!(about.name, "alertmanager");
    let settings: Vec<String> = about.settings.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(settings, ["incident_per", "silence_on_accept", "silence_hours"]);
}

#[test]
fn a_plugin_of_an_unsupported_version_is_refused_naming_both() {
    let (code, stderr) =
        serve_expecting_failure(&plugins_config(&[("future", "test_future_api", OLD_KEY)]));
    assert_ne!(code, 0);
    assert!(stderr.contains("supported: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0"), "{stderr}");
    assert!(stderr.contains("it was built against inbound:plugin@9.0.0"), "{stderr}");
    assert!(stderr.contains("it imports inbound:plugin/log@9.0.0"), "{stderr}");
}

/// API 0.4.0's `incidents.update`: a real change is logged once and
/// reported as `commented`; the same update again changes and logs nothing;
/// a resolved incident is refused with `invalid`.
#[test]
fn an_update_changes_an_open_incident_once_and_never_a_resolved_one() {
    let host = Host::start(&plugins_config(&[("hostile", "test_hostile", HOSTILE_KEY)]));
    let send = |body: &str| {
        host.post_raw(
            &format!("/api/v1/events/hostile/{HOSTILE_KEY}"),
            "text/plain",
            body.to_string(),
        )
    };
    let (status, created) = send("ok disk");
    assert_eq!(status, 202, "{created}");
    let id = created["incident"]["id"].as_u64().unwrap();
    let log = || {
        let (_, log) = host.get(&format!("/api/v1/incidents/{id}/log"));
        log["entries"].as_array().cloned().unwrap_or_default()
    };
    let updates = || log().into_iter().filter(|e| e["type"] == "updated").collect::<Vec<_>>();

    let (status, updated) = send("update disk disk 91% full");
    assert_eq!((status, updated["action"].as_str()), (202, Some("commented")), "{updated}");
    assert_eq!(updated["incident"]["summary"], "disk 91% full");
    let logged = updates();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["fields"], json!(["summary"]));
    assert!(logged[0]["by"].as_str().unwrap().starts_with("plugin "), "{logged:?}");
    let entries = log().len();

    let (status, again) = send("update disk disk 91% full");
    assert_eq!((status, again["action"].as_str()), (202, Some("unchanged")), "{again}");
    assert_eq!(again["incident"]["updated_at"], updated["incident"]["updated_at"]);
    assert_eq!(updates().len(), 1, "a no-op update logs nothing");
    assert_eq!(log().len(), entries + 1, "only the event itself is logged: {:?}", log());

    let (status, report) = send("update-resolved web");
    assert_eq!(status, 202, "{report}");
    let details = report["incident"]["details"].as_str().unwrap();
    assert!(
        details.starts_with("Err(ApiError::Invalid(") || details.starts_with("Err(Invalid("),
        "{details}"
    );
    assert!(details.contains("is resolved"), "{details}");
    let resolved = host.all_incidents();
    assert!(
        resolved.iter().all(|i| i["summary"] != "changed after resolving"),
        "a resolved incident was updated: {resolved:?}"
    );
}
