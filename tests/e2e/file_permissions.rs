//! End to end: what inbound creates is its owner's alone, and what it
//! rewrites keeps the operator's mode, owner and symlinks.
#![cfg(unix)]

use crate::support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use support::{Host, TOKEN, inbound, zendesk_config};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).mode() & 0o777
}

#[test]
fn the_database_its_folder_and_the_plugin_cache_are_created_owner_only() {
    let host = Host::start(&zendesk_config(""));
    let data = host.dir.path().join("data");
    assert_eq!(mode(&data), 0o700, "the data folder");
    assert_eq!(mode(&data.join("inbound.redb")), 0o600, "the database");
    let cache = data.join("plugin-cache");
    assert_eq!(mode(&cache), 0o700, "the plugin cache");
    let artifacts: Vec<_> = fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!artifacts.is_empty(), "the compiled plugin is cached");
    for artifact in artifacts {
        assert_eq!(mode(&artifact), 0o600, "{}", artifact.display());
    }
}

#[test]
fn sources_add_keeps_the_mode_owner_and_symlink_of_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("etc");
    fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("inbound.toml");
    fs::write(&real, zendesk_config("")).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
    // Root can show the owner is kept: the file belongs to someone else.
    let as_root = fs::metadata(dir.path()).unwrap().uid() == 0;
    if as_root {
        std::os::unix::fs::chown(&real, Some(65534), Some(65534)).unwrap();
    } else {
        support::cannot_check(
            "root",
            "not root: the owner is the current user, so keeping it cannot be shown",
            "run the tests as root (as CI does)",
        );
    }
    let owner = (fs::metadata(&real).unwrap().uid(), fs::metadata(&real).unwrap().gid());
    let link = dir.path().join("config.toml");
    symlink(&real, &link).unwrap();

    let (code, stdout, stderr) = inbound(
        &[
            "sources",
            "add",
            "--name",
            "billing",
            "--integration",
            "zendesk",
            "--escalation-policy",
            "support-oncall",
            "--config",
            link.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(fs::read_to_string(&real).unwrap().contains("name = \"billing\""));
    assert_eq!(mode(&real), 0o600, "keys and tokens must stay unreadable to others");
    let after = (fs::metadata(&real).unwrap().uid(), fs::metadata(&real).unwrap().gid());
    assert_eq!(after, owner, "the owner changed");
    let left: Vec<_> = fs::read_dir(&real_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["inbound.toml"], "a staged file was left behind");
}

#[test]
fn a_backup_and_a_restored_database_are_owner_only() {
    let host = Host::start(&zendesk_config(""));
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("copy.redb");
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let (code, stdout, stderr) =
        inbound(&[&["backup", backup.to_str().unwrap()][..], &remote].concat(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(mode(&backup), 0o600, "the backup");
    // Restored into a fresh folder, from a copy anyone may read.
    fs::set_permissions(&backup, fs::Permissions::from_mode(0o644)).unwrap();
    let target = tempfile::tempdir().unwrap();
    let config = target.path().join("config.toml");
    fs::write(&config, zendesk_config("")).unwrap();
    let (code, stdout, stderr) =
        inbound(&["restore", backup.to_str().unwrap(), "--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(mode(&target.path().join("data")), 0o700, "the data folder");
    assert_eq!(mode(&target.path().join("data/inbound.redb")), 0o600, "the restored database");
}
