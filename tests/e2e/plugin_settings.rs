//! End to end: a source's settings are judged by its plugin (API 0.3.0's
//! `about` export) when `inbound serve` starts and when it reloads, so a
//! bad setting stops the start, or is refused by the reload with the running
//! config kept, instead of turning every webhook into a 400. The judging
//! runs in the sandbox under the source's limits.

use crate::support;

use serde_json::json;
use support::{Host, plugins_config, serve_expecting_failure, ticket, zendesk_config};

const HOSTILE_KEY: &str = "hostile-key-0123456789abcdef0123";

#[test]
fn serve_refuses_to_start_with_a_setting_the_plugin_does_not_take() {
    let config = zendesk_config("\n[sources.settings]\nonhold = \"pending\"\n");
    let (code, stderr) = serve_expecting_failure(&config);
    assert_ne!(code, 0, "{stderr}");
    let line = config.lines().position(|l| l.starts_with("onhold")).unwrap() + 1;
    let place = format!("config.toml:{line}: sources[0].settings.onhold (source \"support\")");
    assert!(stderr.contains(&place), "expected {place:?} in:\n{stderr}");
    assert!(
        stderr.contains("onhold: no such setting; this plugin takes status_aliases, on_hold"),
        "{stderr}"
    );
}

#[test]
fn a_reload_with_bad_settings_is_refused_and_the_running_config_kept() {
    let host = Host::start(&zendesk_config("\n[sources.settings]\non_hold = \"pending\"\n"));
    let config = host.config_path();
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, good.replace("on_hold = \"pending\"", "on_hold = \"later\"")).unwrap();

    let (status, answer) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 422, "{answer}");
    let text = answer.to_string();
    assert!(text.contains("sources[0].settings.on_hold"), "{text}");
    assert!(text.contains("expected \\\"open\\\" (the default) or \\\"pending\\\""), "{text}");

    // The running config still holds: On-hold means pending (accepted).
    assert_eq!(host.zendesk(&ticket(7, "Open")).1["action"], "created");
    let (status, answer) = host.zendesk(&ticket(7, "On-hold"));
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["action"], "accepted", "on_hold = pending still applies: {answer}");

    std::fs::write(&config, &good).unwrap();
    assert_eq!(host.post_json("/api/v1/admin/reload", &json!({})).0, 200);
}

/// `inbound serve` with the hostile plugin judging `settings`: its stderr.
fn start_hostile_with(settings: &str) -> String {
    let config = plugins_config(&[("hostile", "test_hostile", HOSTILE_KEY)])
        + &format!("\n[sources.settings]\n{settings}\n");
    let (code, stderr) = serve_expecting_failure(&config);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("sources[0].settings"), "{stderr}");
    stderr
}

#[test]
fn judging_settings_runs_under_the_sources_limits_and_without_the_host_api() {
    let stderr = start_hostile_with("judge = \"loop\"");
    assert!(stderr.contains("could not judge them: the plugin ran longer than its"), "{stderr}");
    let stderr = start_hostile_with("judge = \"alloc\"");
    assert!(stderr.contains("could not judge them: the plugin needed more than its"), "{stderr}");
    let stderr = start_hostile_with("judge = \"host-api\"");
    assert!(stderr.contains("is not available in `describe` or `validate-settings`"), "{stderr}");
    // An answer that would be 64 MiB once copied from 1 MiB of the plugin:
    // the host lifts no more than the call's memory cap (32 MiB) and traps
    // the call; with wasmtime's default (128 MiB) it would be copied whole
    // and read as a refusal instead.
    let stderr = start_hostile_with("judge = \"aliased\"");
    assert!(stderr.contains("could not judge them"), "{stderr}");
    let stderr = start_hostile_with("judge = \"refuse\"");
    assert!(stderr.contains("sources[0].settings.judge"), "{stderr}");
    assert!(stderr.contains("judge: refused on purpose"), "{stderr}");
}

#[test]
fn a_plugin_that_lists_no_settings_passes_any_to_its_own_judgement() {
    // The hostile plugin keeps the SDK's default (`settings()` says nothing),
    // so an unknown key reaches `validate-settings`, which accepts it.
    let host = Host::start(
        &(plugins_config(&[("hostile", "test_hostile", HOSTILE_KEY)])
            + "\n[sources.settings]\nanything = [1, 2]\n"),
    );
    let (status, answer) = host.post_raw(
        &format!("/api/v1/events/hostile/{HOSTILE_KEY}"),
        "text/plain",
        "ok settings".to_string(),
    );
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn an_older_plugin_cannot_be_asked_so_its_settings_reach_the_webhook() {
    // A 0.2.0 plugin has no `about`: serve starts, and the plugin's own
    // answer to a webhook is the only judgement (`inbound check` probes it).
    let key = "old-plugin-key-0123456789abcdef";
    let host = Host::start(
        &(plugins_config(&[("old", "test_api_v0_2_0", key)])
            + "\n[sources.settings]\ncolour = \"blue\"\n"),
    );
    let (status, answer) =
        host.post_raw(&format!("/api/v1/events/old/{key}"), "text/plain", "open web".to_string());
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid-settings", "{answer}");
}
