//! End to end: an online backup taken under write load (webhooks keep being
//! committed while it copies) holds every incident acknowledged before it
//! began, opens, and restores into a host that serves it; restore refuses a
//! file that is not a database and a database a running host holds.

use crate::support;

use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Host, StopOnDrop, TOKEN, inbound, ticket, zendesk_config};

/// Tickets 1 to `count`, each logged with a 60 KB body: tens of MB, so a
/// backup takes long enough for webhooks to be committed while it runs.
fn fill(host: &Host, count: u64) {
    std::thread::scope(|scope| {
        for worker in 0..4 {
            scope.spawn(move || {
                for id in (1..=count).filter(|id| id % 4 == worker) {
                    let mut big = ticket(id, "Open");
                    big["description"] = Value::String(format!("{id} ").repeat(15_000));
                    let (status, answer) = host.zendesk(&big);
                    assert_eq!(status, 202, "{answer}");
                }
            });
        }
    });
}

#[test]
fn a_backup_under_load_holds_everything_acknowledged_before_it_and_restores() {
    let host = Host::start(&zendesk_config(""));
    fill(&host, 400);
    let before: Vec<Value> = host.all_incidents().iter().map(|i| i["id"].clone()).collect();
    assert_eq!(before.len(), 400);
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("inbound-backup.redb");
    let (started, done) = (AtomicBool::new(false), AtomicBool::new(false));
    // Every webhook of the load: its ticket, whether it was acknowledged
    // before the backup command started, and whether the host had logged
    // the copy as taken by then.
    let (acknowledged, (code, stdout, stderr)) = std::thread::scope(|scope| {
        let _stop = StopOnDrop(&done);
        let load = scope.spawn(|| {
            let mut acknowledged = Vec::new();
            for id in 1000.. {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let before_backup = !started.load(Ordering::Relaxed);
                let (status, answer) = host.zendesk(&ticket(id, "Open"));
                assert_eq!(status, 202, "{answer}");
                let copy_taken = host.logs().contains("backup taken");
                acknowledged.push((id, before_backup, copy_taken));
            }
            acknowledged
        });
        let remote = ["--url", host.base.as_str(), "--token", TOKEN];
        started.store(true, Ordering::Relaxed);
        let backup = inbound(&[&["backup", file.to_str().unwrap()][..], &remote].concat(), &[]);
        done.store(true, Ordering::Relaxed);
        (load.join().unwrap(), backup)
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
    let copied: HashSet<String> =
        copy.all_incidents().iter().map(|i| i["key"].as_str().unwrap().to_string()).collect();
    for (id, before_backup, _) in &acknowledged {
        if *before_backup {
            assert!(
                copied.contains(&id.to_string()),
                "ticket {id}, acknowledged before the backup"
            );
        }
    }
    // The live database kept taking commits while the copy was made: webhooks
    // acknowledged before the host had taken it, and not in it. (A backup
    // that held commits back until it was done would let one slip through.)
    let meanwhile: Vec<&u64> = acknowledged
        .iter()
        .filter(|(id, _, copy_taken)| !copy_taken && !copied.contains(&id.to_string()))
        .map(|(id, _, _)| id)
        .collect();
    assert!(
        meanwhile.len() >= 3,
        "webhooks committed while the copy was made: {meanwhile:?} (of {} during the load)",
        acknowledged.len()
    );
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
