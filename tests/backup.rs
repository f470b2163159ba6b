//! End to end: an online backup taken under write load holds every incident
//! acknowledged before it began, opens, and restores into a host that
//! serves it; restore refuses a file that is not a database and a database
//! a running host holds.

mod support;

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Host, TOKEN, inbound, ticket, zendesk_config};

#[test]
fn a_backup_under_load_holds_everything_acknowledged_before_it_and_restores() {
    let host = Host::start(&zendesk_config(""));
    let mut before: Vec<Value> = Vec::new();
    for id in 1..=30 {
        let (status, answer) = host.zendesk(&ticket(id, "Open"));
        assert_eq!(status, 202, "{answer}");
        before.push(answer["incident"]["id"].clone());
    }
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("inbound-backup.redb");
    let writing = AtomicBool::new(true);
    let (code, stdout, stderr) = std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let mut id = 1000;
            while writing.load(Ordering::Relaxed) {
                let (status, answer) = host.zendesk(&ticket(id, "Open"));
                assert_eq!(status, 202, "{answer}");
                id += 1;
            }
            id - 1000
        });
        let remote = ["--url", host.base.as_str(), "--token", TOKEN];
        let backup = inbound(&[&["backup", file.to_str().unwrap()][..], &remote].concat(), &[]);
        writing.store(false, Ordering::Relaxed);
        let written = load.join().unwrap();
        assert!(written > 0, "webhooks were committed while the backup ran");
        backup
    });
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("backup written to"), "{stdout}");
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let (code, _, stderr) =
        inbound(&[&["backup", file.to_str().unwrap()][..], &remote].concat(), &[]);
    assert_ne!(code, 0, "an existing file is never overwritten");
    assert!(stderr.contains("already exists"), "{stderr}");

    // Restore into a new host's folder and serve it.
    let restored = tempfile::tempdir().unwrap();
    let config = restored.path().join("config.toml");
    std::fs::write(&config, zendesk_config("")).unwrap();
    let (code, stdout, stderr) =
        inbound(&["restore", file.to_str().unwrap(), "--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("restored"), "{stdout}");
    let copy = Host::start_in(restored);
    for id in &before {
        assert_eq!(copy.incident(id)["incident"]["id"], *id, "acknowledged before the backup");
    }
}

#[test]
fn restore_refuses_a_file_that_is_not_a_database_and_a_running_hosts_database() {
    let host = Host::start(&zendesk_config(""));
    let junk = host.dir.path().join("junk.redb");
    std::fs::write(&junk, b"not a database").unwrap();
    let config = host.dir.path().join("config.toml");
    let (code, _, stderr) =
        inbound(&["restore", junk.to_str().unwrap(), "--config", config.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("does not open as an inbound database"), "{stderr}");

    let backup = host.dir.path().join("good.redb");
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let (code, _, stderr) =
        inbound(&[&["backup", backup.to_str().unwrap()][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) =
        inbound(&["restore", backup.to_str().unwrap(), "--config", config.to_str().unwrap()], &[]);
    assert_ne!(code, 0, "the host is running");
    assert!(stderr.contains("stop the host before restoring"), "{stderr}");
}
