//! The files an operator installs with the binary: the systemd unit is
//! checked by `systemd-analyze verify` (Debian's systemd package; without it
//! the test fails unless `INBOUND_TEST_ALLOW_SKIP` names `systemd`), the
//! container image ships every plugin
//! `make run` serves, shell completions and the man page are generated from
//! the command-line definition.

use crate::support;

use std::collections::BTreeSet;
use std::process::Command;
use support::{inbound, workspace_root};

#[test]
fn the_systemd_unit_is_sandboxed_reloads_on_hup_and_verifies() {
    let unit = std::fs::read_to_string(workspace_root().join("contrib/systemd/inbound.service"))
        .expect("contrib/systemd/inbound.service");
    for line in [
        "DynamicUser=yes",
        "StateDirectory=inbound",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(unit.contains(line), "the unit sets {line:?}");
    }
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        support::cannot_check(
            "systemd",
            "systemd-analyze is not installed, so the unit cannot be verified",
            "install Debian's systemd package (`make test-deps` does)",
        );
        return;
    }
    // verify checks that ExecStart exists: point it at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbound.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/inbound", env!("CARGO_BIN_EXE_inbound")))
        .unwrap();
    let verified = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output();
    let verified = verified.expect("run systemd-analyze");
    let stderr = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "{stderr}");
    // systemd warns about unknown or misspelt keys but still exits 0.
    assert!(stderr.trim().is_empty(), "systemd-analyze has remarks:\n{stderr}");
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, stderr) = inbound(&["completions", shell], &[]);
        assert_eq!(code, 0, "{stderr}");
        for command in ["serve", "check", "incidents", "failed", "plugin"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
    let (code, _, stderr) = inbound(&["completions", "tcsh"], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("bash"), "the error lists the shells: {stderr}");
}

#[test]
fn the_man_page_describes_every_command() {
    let (code, page, stderr) = inbound(&["man"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "roff: {:.80}", page);
    for command in ["serve", "check", "reload", "sources", "incidents", "failed", "plugin"] {
        assert!(page.contains(command), "the man page names {command}");
    }
}

/// The image cannot be built here (no container engine), so this reads the
/// Dockerfile: it ships every plugin of the Makefile's `SERVED_PLUGINS` and
/// every one `config.toml` names (a container without its notifiers pages
/// nobody).
#[test]
fn the_container_image_ships_every_plugin_make_run_serves() {
    let read = |path: &str| {
        std::fs::read_to_string(workspace_root().join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let served = served_plugins(&read("Makefile"));
    assert!(served.len() >= 6, "SERVED_PLUGINS in the Makefile: {served:?}");
    let dockerfile = joined_lines(&read("contrib/Dockerfile"));
    assert!(
        dockerfile.lines().any(|line| line.starts_with("RUN make served-plugins")),
        "the Dockerfile builds the served plugins with `make served-plugins`"
    );
    assert!(
        dockerfile.contains("COPY --from=build /out/plugins/ /usr/lib/inbound/plugins/"),
        "the runtime image gets the plugins"
    );
    let shipped = shipped_plugins(&dockerfile);
    let missing: Vec<_> = served.difference(&shipped).collect();
    assert!(missing.is_empty(), "contrib/Dockerfile does not ship {missing:?} (SERVED_PLUGINS)");
    let named = config_plugins(&read("config.toml"));
    assert!(named.contains("inbound_notify_email.wasm"), "{named:?}");
    let missing: Vec<_> = named.difference(&shipped).collect();
    assert!(missing.is_empty(), "config.toml names {missing:?}, which the image does not ship");
    let unserved: Vec<_> = named.difference(&served).collect();
    assert!(unserved.is_empty(), "config.toml names {unserved:?}, which `make run` does not build");
}

/// A Makefile or Dockerfile with its `\`-continued lines joined.
fn joined_lines(text: &str) -> String {
    text.replace("\\\n", " ")
}

/// The component file of each `-p crate` in `SERVED_PLUGINS`.
fn served_plugins(makefile: &str) -> BTreeSet<String> {
    let makefile = joined_lines(makefile);
    let list = makefile
        .lines()
        .find_map(|line| line.strip_prefix("SERVED_PLUGINS :="))
        .expect("SERVED_PLUGINS := in the Makefile");
    let words: Vec<&str> = list.split_whitespace().collect();
    words
        .windows(2)
        .filter(|pair| pair[0] == "-p")
        .map(|pair| format!("{}.wasm", pair[1].replace('-', "_")))
        .collect()
}

/// The `.wasm` files the Dockerfile's build stage copies out.
fn shipped_plugins(dockerfile: &str) -> BTreeSet<String> {
    dockerfile
        .lines()
        .filter(|line| line.starts_with("RUN ") && line.contains("/out/plugins/"))
        .flat_map(|line| line.split_whitespace())
        .filter(|word| word.starts_with("target/wasm32-wasip2/release/") && word.ends_with(".wasm"))
        .map(file_name)
        .collect()
}

/// Every `plugin = "..."` of the config, also the commented-out examples.
fn config_plugins(config: &str) -> BTreeSet<String> {
    config
        .lines()
        .map(|line| line.trim_start_matches(|c: char| c == '#' || c.is_whitespace()))
        .filter_map(|line| line.strip_prefix("plugin = \""))
        .filter_map(|rest| rest.split('"').next())
        .map(file_name)
        .collect()
}

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}
