//! End to end: the plugin API grew (0.2.0 added links) and a plugin built
//! against the frozen 0.1.0 still loads and works, next to a 0.2.0 plugin
//! on the same host; a plugin of an unknown version is refused by name.
//! The old plugin is tests/plugins/api-v0-1-0 (raw bindings of host/wit/v0.1.0).

mod support;

use serde_json::json;
use support::{Host, plugin_wasm, plugins_config, serve_expecting_failure};

const OLD_KEY: &str = "old-plugin-key-0123456789abcdef";
const NEW_KEY: &str = "alertmanager-key-0123456789abcd";

#[test]
fn a_0_1_0_plugin_works_next_to_a_0_2_0_plugin() {
    let host = Host::start(&plugins_config(&[
        ("old", "test_api_v0_1_0", OLD_KEY),
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

    let logs = host.logs();
    assert!(logs.contains("0.1.0 plugin: open web"), "the 0.1.0 log import works:\n{logs}");
}

#[test]
fn the_harness_reports_the_version_a_plugin_was_built_against() {
    let old = inbound::harness::Harness::new(plugin_wasm("test_api_v0_1_0")).unwrap();
    assert_eq!(old.api_version().as_str(), "0.1.0");
    let new = inbound::harness::Harness::new(plugin_wasm("alertmanager")).unwrap();
    assert_eq!(new.api_version().as_str(), "0.2.0");
}

#[test]
fn a_plugin_of_an_unsupported_version_is_refused_naming_both() {
    let (code, stderr) =
        serve_expecting_failure(&plugins_config(&[("future", "test_future_api", OLD_KEY)]));
    assert_ne!(code, 0);
    assert!(stderr.contains("supported: 0.1.0, 0.2.0"), "{stderr}");
    assert!(stderr.contains("it was built against inbound:plugin@0.3.0"), "{stderr}");
    assert!(stderr.contains("it imports inbound:plugin/log@0.3.0"), "{stderr}");
}
