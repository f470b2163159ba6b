//! End to end: the plugin author's commands, run as the real binary:
//! `inbound plugin check`, `inbound plugin run`, and `inbound plugin new`
//! whose generated crate must build and pass its own tests.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::{plugin_wasm, workspace_root};

fn inbound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inbound")).args(args).output().expect("run the inbound binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> String {
    workspace_root().join("plugins/alertmanager/tests/fixtures").join(name).display().to_string()
}

#[test]
fn check_accepts_a_plugin_and_names_its_api_version() {
    let output = inbound(&["plugin", "check", plugin_wasm("alertmanager").to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("implements inbound:plugin@0.2.0"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn check_refuses_what_serve_would_refuse() {
    let output = inbound(&["plugin", "check", plugin_wasm("test_wrong_world").to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("imports evil:plugin/network@0.1.0")
            && stderr.contains("supported: 0.1.0, 0.2.0"),
        "{stderr}"
    );
}

#[test]
fn run_prints_answer_actions_logs_time_and_memory() {
    let wasm = plugin_wasm("alertmanager");
    let output = inbound(&[
        "plugin",
        "run",
        wasm.to_str().unwrap(),
        &fixture("firing-two.json"),
        &fixture("resolved-unknown.json"),
    ]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", text(&output.stderr));
    for expected in [
        "answer: 202",
        "action: created incident 1 key \"5d1c3b1a2f8e9a01\" (pending) \"Disk 95% full on db1\"",
        "  link: Alert source <http://prometheus.example:9090/graph?g0.expr=DiskFull&g0.tab=1>",
        "log info: alert 0000aaaa1111bbbb resolved, but no incident is open for it",
        "time: ",
        "memory: ",
    ] {
        assert!(stdout.contains(expected), "expected {expected:?} in:\n{stdout}");
    }
}

#[test]
fn run_as_json_and_fails_on_a_non_2xx_answer() {
    let wasm = plugin_wasm("alertmanager");
    let output = inbound(&[
        "plugin",
        "run",
        "--json",
        wasm.to_str().unwrap(),
        &fixture("invalid-second-alert.json"),
    ]);
    assert!(!output.status.success(), "a 400 answer is a failed run");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let run = &report["runs"][0];
    assert_eq!(run["status"], 400);
    assert_eq!(run["answer"]["error"]["code"], "invalid-field");
    assert!(
        run["time_us"].as_u64().is_some() && run["memory_bytes"].as_u64().unwrap() > 0,
        "{run}"
    );
    assert_eq!(report["api_version"], "0.2.0");
}

/// Runs cargo for the generated crate with the workspace's target folder,
/// so the host's compiled dependencies are reused.
fn cargo(crate_dir: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn new_scaffolds_a_crate_that_builds_and_passes_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("scaffold-check");
    let output = inbound(&[
        "plugin",
        "new",
        "scaffold-check",
        "--path",
        crate_dir.to_str().unwrap(),
        "--inbound-repo",
        workspace_root().to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    cargo(&crate_dir, &["build", "--offline", "--release", "--target", "wasm32-wasip2"]);
    cargo(&crate_dir, &["test", "--offline", "--release"]);
    let again =
        inbound(&["plugin", "new", "scaffold-check", "--path", crate_dir.to_str().unwrap()]);
    assert!(
        !again.status.success() && text(&again.stderr).contains("already exists"),
        "never overwrite an author's work"
    );
}
