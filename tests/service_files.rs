//! The files an operator installs with the binary: the systemd unit is
//! checked by `systemd-analyze verify` where systemd is installed (the test
//! says so and passes otherwise), shell completions and the man page are
//! generated from the command-line definition.

mod support;

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
        eprintln!("SKIPPED: systemd-analyze is not installed; the unit was not verified");
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
