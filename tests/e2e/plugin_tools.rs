//! End to end: the plugin author's commands, run as the real binary:
//! `inbound plugin check`, `inbound plugin run`, and `inbound plugin new`
//! whose generated crate must build and pass its own tests.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
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
        text(&output.stdout).contains("implements inbound:plugin@0.5.0"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn check_shows_what_a_plugin_says_about_itself_and_judges_settings() {
    let zendesk = plugin_wasm("zendesk");
    let zendesk = zendesk.to_str().unwrap();
    let output = inbound(&["plugin", "check", zendesk]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("  plugin:   zendesk "), "{stdout}");
    // One line per setting, the descriptions in a column.
    let line = |name: &str, kind: &str| {
        stdout.lines().any(|line| {
            line.starts_with(&format!("    {name} "))
                && line.contains(&format!("  {kind}, optional: "))
        })
    };
    assert!(line("status_aliases", "a table of strings"), "{stdout}");
    assert!(line("on_hold", "a string"), "{stdout}");
    assert!(line("on_resolve_status", "a string"), "{stdout}");

    let output = inbound(&["plugin", "check", zendesk, "--json"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["about"]["settings"][0]["name"], "status_aliases");
    assert_eq!(report["about"]["settings"][0]["kind"], "text-map");

    // --settings: the judgement `inbound serve` makes at start-up.
    let output = inbound(&["plugin", "check", zendesk, "--settings", r#"{"on_hold": "pending"}"#]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("settings given: accepted"));
    let output = inbound(&["plugin", "check", zendesk, "--settings", r#"{"onhold": "pending"}"#]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr)
            .contains("onhold: no such setting; this plugin takes status_aliases, on_hold"),
        "{}",
        text(&output.stderr)
    );

    // A plugin built before 0.3.0 cannot say.
    let output = inbound(&["plugin", "check", plugin_wasm("test_api_v0_2_0").to_str().unwrap()]);
    assert!(text(&output.stdout).contains("about: not said (built against 0.2.0"));
}

#[test]
fn check_refuses_what_serve_would_refuse() {
    let output = inbound(&["plugin", "check", plugin_wasm("test_wrong_world").to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("imports evil:plugin/network@0.1.0")
            && stderr.contains("supported: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0"),
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
        // Actions read as words in the plugin's own log lines too.
        "log debug: alert 5d1c3b1a2f8e9a01 firing: created incident 1",
    ] {
        assert!(stdout.contains(expected), "expected {expected:?} in:\n{stdout}");
    }
    // Each plugin log line once: in the report, not again on stderr.
    assert_eq!(stdout.matches("resolved, but no incident is open for it").count(), 1, "{stdout}");
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("resolved, but no incident is open"), "{stderr}");
}

#[test]
fn run_shows_details_and_a_trap_with_its_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let panic = dir.path().join("panic.txt");
    std::fs::write(&panic, "panic").unwrap();
    let ok = dir.path().join("escape.txt");
    std::fs::write(&ok, "escape").unwrap();
    let wasm = plugin_wasm("test_hostile");
    let output = inbound(&[
        "plugin",
        "run",
        wasm.to_str().unwrap(),
        ok.to_str().unwrap(),
        panic.to_str().unwrap(),
    ]);
    assert!(!output.status.success(), "a trap is a failed run");
    let stdout = text(&output.stdout);
    // The incident's details, as the plugin wrote them, line by line.
    assert!(stdout.contains("  details:\n    file: Err("), "{stdout}");
    assert!(stdout.contains("answer: 503"), "{stdout}");
    assert!(stdout.contains("hostile plugin panicked on purpose"), "{stdout}");
    // Where it happened, by the plugin's own function names.
    let backtrace = stdout.split("wasm backtrace: ").nth(1).unwrap_or_default();
    assert!(backtrace.contains("inbound_test_hostile"), "no plugin frame in:\n{stdout}");
    assert!(!backtrace.starts_with("std::") && !backtrace.starts_with("core::"), "{stdout}");
}

#[test]
fn check_explains_a_core_module() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("my_alerts.wasm");
    // The smallest valid core module: what wasm32-unknown-unknown or
    // wasm32-wasip1 builds are, a module and not a component.
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let output = inbound(&["plugin", "check", module.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "a core WebAssembly module, not a component: build with `--target wasm32-wasip2`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("\"my_alerts\""), "names the plugin by its file: {stderr}");
    assert!(!stderr.contains("component parser"), "{stderr}");
}

#[test]
fn check_explains_a_plugin_that_was_never_registered() {
    let output = inbound(&["plugin", "check", plugin_wasm("test_unregistered").to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("did you call `register_plugin!`?"), "{stderr}");
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
    assert_eq!(report["api_version"], "0.5.0");
}

/// Runs cargo for the generated crate with the workspace's target folder,
/// so the SDK's compiled dependencies are reused.
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

/// `cargo package -p inbound-sdk`, unpacked into `into`: the crate a
/// registry would serve.
fn packaged_sdk(into: &Path) -> std::path::PathBuf {
    cargo(
        &workspace_root(),
        &["package", "-p", "inbound-sdk", "--allow-dirty", "--offline", "--no-verify"],
    );
    let version = env!("CARGO_PKG_VERSION");
    let file = workspace_root().join(format!("target/package/inbound-sdk-{version}.crate"));
    let unpacked = Command::new("tar")
        .args(["xzf", file.to_str().unwrap(), "-C", into.to_str().unwrap()])
        .status()
        .expect("run tar");
    assert!(unpacked.success());
    let sdk = into.join(format!("inbound-sdk-{version}"));
    assert!(sdk.join("wit/plugin.wit").is_file(), "the SDK carries its WIT");
    assert!(sdk.join("LICENSE").is_file() && sdk.join("README.md").is_file());
    sdk
}

#[test]
fn new_scaffolds_a_crate_whose_fixtures_pass_with_plugin_test() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("scaffold-check");
    // The SDK as it would be published, unpacked outside the repository:
    // it must build with nothing from the workspace (its WIT included).
    let sdk = packaged_sdk(dir.path());
    let output = inbound(&[
        "plugin",
        "new",
        "scaffold-check",
        "--path",
        crate_dir.to_str().unwrap(),
        "--sdk-path",
        sdk.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!(
            "inbound-sdk = {{ version = \"{}\", path = ",
            env!("CARGO_PKG_VERSION")
        )),
        "{manifest}"
    );
    assert!(!manifest.contains("[dev-dependencies]"), "no host to compile for tests: {manifest}");
    assert!(
        !manifest.contains("path = \"/"),
        "a relative path, so the project can move: {manifest}"
    );
    cargo(&crate_dir, &["build", "--offline", "--release", "--target", "wasm32-wasip2"]);
    // The project's own tests, found from its folder, as an author runs them.
    let tested = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args(["plugin", "test"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .output()
        .unwrap();
    let stdout = text(&tested.stdout);
    assert!(tested.status.success(), "{stdout}\n{}", text(&tested.stderr));
    assert!(stdout.contains("test result: ok. 3 passed; 0 failed"), "{stdout}");

    // A changed source with a stale build is refused, not tested.
    let lib = crate_dir.join("src/lib.rs");
    std::fs::write(&lib, std::fs::read_to_string(&lib).unwrap() + "\n").unwrap();
    let stale = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args(["plugin", "test", crate_dir.to_str().unwrap()])
        .env("CARGO_TARGET_DIR", workspace_root().join("target"))
        .output()
        .unwrap();
    assert!(!stale.status.success());
    assert!(text(&stale.stderr).contains("is older than"), "{}", text(&stale.stderr));

    let again =
        inbound(&["plugin", "new", "scaffold-check", "--path", crate_dir.to_str().unwrap()]);
    assert!(
        !again.status.success() && text(&again.stderr).contains("already exists"),
        "never overwrite an author's work"
    );
}

#[test]
fn new_depends_on_the_sdk_by_version_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("by-version");
    let output = inbound(&["plugin", "new", "by-version", "--path", crate_dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("\ninbound-sdk = \"{}\"\n", env!("CARGO_PKG_VERSION"))),
        "{manifest}"
    );
    assert!(manifest.contains("#   inbound-sdk = { git = "), "{manifest}");
    let note = text(&output.stderr);
    assert!(note.contains("--sdk-path") && note.contains("git line"), "says how to build: {note}");
    let readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    assert!(!readme.contains("example.invalid"), "{readme}");
}

/// `inbound plugin test DIR --plugin WASM`: (exit code, stdout, stderr).
fn plugin_test(dir: &Path, wasm: &Path, extra: &[&str]) -> (i32, String, String) {
    let args = ["plugin", "test", dir.to_str().unwrap(), "--plugin", wasm.to_str().unwrap()];
    let output = inbound(&[&args[..], extra].concat());
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

/// The limits docs/plugin-guide.md recommends for a Python integration.
const PYTHON_LIMITS: &[&str] = &["--timeout-ms", "1000", "--memory-limit-mib", "64"];

#[test]
fn plugin_test_passes_the_fixtures_shipped_with_each_plugin() {
    for (plugin, dir, limits) in [
        ("zendesk", "plugins/zendesk", &[][..]),
        ("alertmanager", "plugins/alertmanager", &[]),
        // Python, built by componentize-py (make plugins).
        ("grafana", "plugins/grafana", PYTHON_LIMITS),
    ] {
        let dir = workspace_root().join(dir);
        let fixtures = std::fs::read_dir(dir.join("tests"))
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().path().extension().is_some_and(|e| e == "toml"))
            .count();
        assert!(fixtures >= 5, "{plugin} ships its fixtures");
        let (code, stdout, stderr) = plugin_test(&dir, &plugin_wasm(plugin), limits);
        assert_eq!(code, 0, "{plugin}:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!("running {fixtures} tests"))
                && stdout.contains(&format!("test result: ok. {fixtures} passed; 0 failed")),
            "{stdout}"
        );
        assert_eq!(stdout.matches(" ... ok").count(), fixtures, "{stdout}");
    }
}

/// The same plugin written with the Python and the JavaScript SDK
/// (tests/plugins/outbound-py, outbound-js) passes the same fixtures of
/// changes (`on-change`): the requests, answers played back, refusals.
#[test]
fn plugin_test_runs_changes_the_same_for_the_python_and_javascript_sdks() {
    let dir = workspace_root().join("tests/sdk/fixtures");
    let fixtures = std::fs::read_dir(&dir).unwrap().count();
    assert!(fixtures >= 5, "{fixtures}");
    for (plugin, limits) in [("test_outbound_py", PYTHON_LIMITS), ("test_outbound_js", &[][..])] {
        let (code, stdout, stderr) = plugin_test(&dir, &plugin_wasm(plugin), limits);
        assert_eq!(code, 0, "{plugin}:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!("test result: ok. {fixtures} passed; 0 failed")),
            "{plugin}: {stdout}"
        );
    }
}

#[test]
fn plugin_test_fails_a_wrong_expectation_with_a_diff_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let firing = workspace_root().join("plugins/alertmanager/tests/fixtures/firing-two.json");
    let request = format!("[[request]]\nbody_file = {:?}\n", firing.display().to_string());
    std::fs::write(
        dir.path().join("right.toml"),
        format!("{request}expect = {{ actions = [\"created\", \"created\"] }}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("wrong.toml"),
        format!(
            "description = \"expects what the plugin does not do\"\n{request}[request.expect]\nactions = [\"resolved\"]\nlogs = [\"no such line\"]\n[[request.expect.incidents]]\nsummary = \"Something else\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.toml"), "[[request]]\nexpect = { stauts = 202 }\n")
        .unwrap();
    // Alertmanager takes only incident_per: another is refused, and a
    // fixture that expects a refusal of none fails.
    std::fs::write(
        dir.path().join("refused.toml"),
        "settings = { team = \"db\" }\nsettings_refused = \"team: no such setting\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("not-refused.toml"), "settings_refused = \"anything\"\n")
        .unwrap();
    let (code, stdout, stderr) = plugin_test(dir.path(), &plugin_wasm("alertmanager"), &[]);
    assert_ne!(code, 0, "{stdout}");
    for expected in [
        "running 5 tests",
        "test refused ... ok",
        "test not-refused ... FAILED",
        "expected the settings to be refused with \"anything\"; the plugin accepted them",
        "test broken ... FAILED",
        "test right ... ok",
        "test wrong ... FAILED",
        "---- wrong ----",
        "expects what the plugin does not do",
        "  actions: expected [\"resolved\"], got [\"created\", \"created\"]",
        "  logs: expected a line containing \"no such line\"",
        "  incidents: expected 1, got 2",
        "  incidents[0].summary: expected \"Something else\", got \"Disk 95% full on db1\"",
        "unknown field `stauts`",
        "test result: FAILED. 2 passed; 3 failed",
    ] {
        assert!(stdout.contains(expected), "expected {expected:?} in:\n{stdout}");
    }
    assert!(stderr.contains("3 of 5 plugin tests failed"), "{stderr}");
}

#[test]
fn new_python_scaffolds_a_project_that_componentize_py_builds_and_plugin_test_passes() {
    let componentize_py = workspace_root().join("target/componentize-py/bin/componentize-py");
    assert!(
        componentize_py.is_file(),
        "{} is missing: `make plugins` installs it",
        componentize_py.display()
    );
    let (_dir, project) = scaffold("python", "py-check");
    // The project pins the componentize-py release `make plugins` uses.
    let makefile = std::fs::read_to_string(project.join("Makefile")).unwrap();
    let root = std::fs::read_to_string(workspace_root().join("Makefile")).unwrap();
    let version = root
        .lines()
        .find_map(|line| line.strip_prefix("COMPONENTIZE_PY_VERSION := "))
        .expect("the Makefile pins componentize-py");
    assert!(makefile.contains(&format!("componentize-py=={version}")), "{makefile}");

    let built = Command::new("make")
        .arg(format!("COMPONENTIZE_PY={}", componentize_py.display()))
        .current_dir(&project)
        .output()
        .expect("run make");
    assert!(built.status.success(), "{}\n{}", text(&built.stdout), text(&built.stderr));
    let tested = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args([&["plugin", "test"][..], PYTHON_LIMITS].concat())
        .current_dir(&project)
        .output()
        .unwrap();
    let stdout = text(&tested.stdout);
    assert!(tested.status.success(), "{stdout}\n{}", text(&tested.stderr));
    assert!(stdout.contains("test result: ok. 3 passed; 0 failed"), "{stdout}");

    says_what_it_is_and_refuses_a_stale_build(&project, "py-check", "app.py", PYTHON_LIMITS);
}

#[test]
fn new_javascript_scaffolds_a_project_that_componentize_js_builds_and_plugin_test_passes() {
    let componentize_js =
        workspace_root().join("target/componentize-js/node_modules/.bin/componentize-js");
    assert!(
        componentize_js.is_file(),
        "{} is missing: `make js-toolchain` (part of `make test`) installs it",
        componentize_js.display()
    );
    let (_dir, project) = scaffold("javascript", "js-check");
    // The project pins the releases the Makefile installs.
    let package = std::fs::read_to_string(project.join("package.json")).unwrap();
    let root = std::fs::read_to_string(workspace_root().join("Makefile")).unwrap();
    for (variable, name) in
        [("COMPONENTIZE_JS_VERSION", "componentize-js"), ("PREVIEW2_SHIM_VERSION", "preview2-shim")]
    {
        let version = root
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{variable} := ")))
            .unwrap_or_else(|| panic!("the Makefile pins {name}"));
        let pin = format!("\"@bytecodealliance/{name}\": \"{version}\"");
        assert!(package.contains(&pin), "{pin} in:\n{package}");
    }

    let built = Command::new("make")
        .arg(format!("COMPONENTIZE_JS={}", componentize_js.display()))
        .current_dir(&project)
        .output()
        .expect("run make");
    assert!(built.status.success(), "{}\n{}", text(&built.stdout), text(&built.stderr));
    // With the host's default limits: the component fits them. (It also
    // links: no wasi:http, which the host does not provide.)
    let tested = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args(["plugin", "test"])
        .current_dir(&project)
        .output()
        .unwrap();
    let stdout = text(&tested.stdout);
    assert!(tested.status.success(), "{stdout}\n{}", text(&tested.stderr));
    assert!(stdout.contains("test result: ok. 3 passed; 0 failed"), "{stdout}");
    says_what_it_is_and_refuses_a_stale_build(&project, "js-check", "app.js", &[]);
}

/// `inbound plugin new NAME --lang LANG` in a temporary folder (dropped with
/// the first value).
fn scaffold(lang: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join(name);
    let output =
        inbound(&["plugin", "new", name, "--lang", lang, "--path", project.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (dir, project)
}

/// A scaffold built as generated says what it is (API 0.3.0's `about`), and
/// once `source` changes, `plugin test` refuses the stale component.
fn says_what_it_is_and_refuses_a_stale_build(
    project: &Path,
    name: &str,
    source: &str,
    limits: &[&str],
) {
    let wasm = project.join(format!("{}.wasm", name.replace('-', "_")));
    let checked = inbound(&[&["plugin", "check", wasm.to_str().unwrap()][..], limits].concat());
    let stdout = text(&checked.stdout);
    assert!(stdout.contains(&format!("  plugin:   {name} 0.1.0")), "{stdout}");
    assert!(stdout.contains("settings: none (a source with settings is refused)"), "{stdout}");

    let source = project.join(source);
    std::fs::write(&source, std::fs::read_to_string(&source).unwrap() + "\n").unwrap();
    let stale = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args([&["plugin", "test"][..], limits].concat())
        .current_dir(project)
        .output()
        .unwrap();
    assert!(!stale.status.success());
    assert!(text(&stale.stderr).contains("is older than"), "{}", text(&stale.stderr));
}
