//! End to end: a full disk. The database lives on a small tmpfs the test
//! mounts; a filler file takes the space. Storage errors are answered
//! `503` with `Retry-After` (Zendesk retries those), the host reopens the
//! database by itself once there is room again, nothing acknowledged is
//! lost, and a free-space floor refuses webhooks before the disk is full.
//!
//! Mounting needs root (CI runs the tests as root); where the test may not
//! mount it fails, saying so, unless `INBOUND_TEST_ALLOW_SKIP` names
//! `storage-failures` (docs/testing.md).

use crate::support;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{Host, poll, ticket, zendesk_config};

/// A tmpfs of `mib` MiB, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u64) -> Result<SmallDisk, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = parent.path().join("disk");
        std::fs::create_dir(&path).map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=700"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
        }
        Ok(SmallDisk { path, _parent: parent })
    }

    /// Writes a filler file until the disk is full (or `leave` bytes remain).
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![7u8; 64 << 10];
        loop {
            let free = free_bytes(&self.path);
            if free <= leave {
                break;
            }
            let size = (free - leave).min(chunk.len() as u64) as usize;
            if file.write_all(&chunk[..size]).and_then(|_| file.sync_all()).is_err() {
                break;
            }
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let output = Command::new("df").args(["--output=avail", "-B1"]).arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().nth(1).unwrap().trim().parse().unwrap()
}

fn mount_or_skip(mib: u64) -> Option<SmallDisk> {
    match SmallDisk::mount(mib) {
        Ok(disk) => Some(disk),
        Err(why) => {
            support::cannot_check(
                "storage-failures",
                &format!("cannot mount a small tmpfs here ({why}); the full-disk tests need one"),
                "run them as root on a machine that lets root mount (as CI does)",
            );
            None
        }
    }
}

fn start_on(disk: &SmallDisk, min_free_mib: u64) -> Host {
    let database = disk.path.join("inbound.redb");
    let config = zendesk_config("").replace(
        "path = \"data/inbound.redb\"",
        &format!("path = \"{}\"\nmin_free_mib = {min_free_mib}", database.display()),
    );
    Host::start(&config)
}

/// A ticket whose body is padded to about `bytes`, so each event stores a lot.
fn big_ticket(id: u64, bytes: usize) -> Value {
    let mut body = ticket(id, "Open");
    body["description"] = Value::String("x".repeat(bytes));
    body
}

#[test]
fn a_full_disk_answers_503_and_the_host_recovers_by_itself() {
    let Some(disk) = mount_or_skip(24) else { return };
    let host = start_on(&disk, 0);
    let mut acknowledged = Vec::new();
    for id in 1..=3 {
        let (status, answer) = host.zendesk(&ticket(id, "Open"));
        assert_eq!(status, 202, "{answer}");
        acknowledged.push(answer["incident"]["id"].clone());
    }

    let filler = disk.fill(0);
    let mut refused = None;
    for id in 100..400 {
        let (status, answer) = host.zendesk(&big_ticket(id, 60_000));
        match status {
            202 => acknowledged.push(answer["incident"]["id"].clone()),
            _ => {
                refused = Some((status, answer));
                break;
            }
        }
    }
    let (status, answer) = refused.expect("a full disk refuses a webhook at last");
    assert_eq!(status, 503, "a full disk is retried later, not a 500: {answer}");
    assert_eq!(answer["error"]["code"], "storage-unavailable", "{answer}");
    let (_, headers, _) = host.post_full(
        &format!("/api/v1/events/zendesk/{}", support::KEY),
        "application/json",
        big_ticket(999, 60_000).to_string(),
    );
    let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..60).contains(&retry), "Zendesk retries only under 60 s: {retry}");

    // Room again: the host reopens the database by itself, no restart.
    std::fs::remove_file(filler).unwrap();
    let recovered = poll(Duration::from_secs(20), || host.zendesk(&ticket(500, "Open")).0 == 202);
    assert!(recovered, "webhooks are accepted again once there is room:\n{}", host.logs());
    assert_eq!(host.get_as("/readyz", None).0, 200);
    for id in &acknowledged {
        assert_eq!(host.incident(id)["incident"]["id"], *id, "acknowledged incidents are kept");
    }
}

#[test]
fn under_the_free_space_floor_webhooks_are_refused_before_the_disk_is_full() {
    let Some(disk) = mount_or_skip(32) else { return };
    let host = start_on(&disk, 16);
    let (status, answer) = host.zendesk(&ticket(1, "Open"));
    assert_eq!(status, 202, "{answer}");

    let filler = disk.fill(8 << 20);
    // The free-space reading is at most a second old.
    let refused = poll(Duration::from_secs(5), || host.zendesk(&ticket(2, "Open")).0 == 503);
    assert!(refused, "under the floor webhooks are refused");
    let stored = host.incidents().len();
    let (status, headers, answer) = host.post_full(
        &format!("/api/v1/events/zendesk/{}", support::KEY),
        "application/json",
        ticket(3, "Open").to_string(),
    );
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "storage-full", "{answer}");
    assert!(headers.contains_key("retry-after"));
    let (status, ready) = host.get_as("/readyz", None);
    assert_eq!((status, &ready["disk_full"]), (503, &Value::Bool(true)), "{ready}");
    assert_eq!(host.incidents().len(), stored, "nothing stored while refused");

    std::fs::remove_file(filler).unwrap();
    let accepted = poll(Duration::from_secs(5), || host.zendesk(&ticket(4, "Open")).0 == 202);
    assert!(accepted, "webhooks are accepted again above the floor");
    assert_eq!(host.get_as("/readyz", None).0, 200);
}
