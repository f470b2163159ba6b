//! `inbound backup DEST` (from a running host), `inbound restore SRC` and
//! `inbound compact` (on a stopped one's storage path).

use super::ConfigArg;
use super::remote::Remote;
use anyhow::{Context, bail};
use inbound::config::Config;
use inbound::store;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// A large database downloads for a while on a slow link.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

/// Downloads a consistent copy from the running host to `destination`,
/// checks that it opens, and only then gives it its name.
pub fn backup(destination: &Path, remote: &Remote) -> anyhow::Result<()> {
    if destination.exists() {
        bail!("{} already exists; choose a new file for the backup", destination.display());
    }
    let partial = destination.with_extension("partial");
    let mut response = remote.fetch(DOWNLOAD_TIMEOUT, |client, base| {
        client.get(format!("{base}/api/v1/admin/backup"))
    })?;
    // A backup holds every event body, like the database: owner-only.
    let mut file = inbound::files::create_private(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let bytes = response.copy_to(&mut file).context("the download was cut off")?;
    file.flush()?;
    file.sync_all().with_context(|| format!("cannot write {}", partial.display()))?;
    drop(file);
    let incidents = store::check_file(&partial).with_context(|| {
        format!("the downloaded copy {} does not open as a database", partial.display())
    })?;
    std::fs::rename(&partial, destination)
        .with_context(|| format!("cannot name the backup {}", destination.display()))?;
    println!("backup written to {}: {incidents} incidents, {bytes} bytes", destination.display());
    Ok(())
}

/// Puts the database file `source` at the config's `storage.path`. The host
/// must be stopped; the database it replaces is kept beside it.
pub fn restore(source: &Path, config: &ConfigArg) -> anyhow::Result<()> {
    let config = Config::load(&config.config)?;
    redb_only(&config, "restore")?;
    let incidents = store::check_file(source)
        .with_context(|| format!("{} does not open as an inbound database", source.display()))?;
    let target = config.resolve(&config.storage.path);
    if target.exists() {
        // Opening fails while a host holds the file.
        store::check_file(&target).with_context(|| {
            format!("cannot open {}: stop the host before restoring", target.display())
        })?;
        let kept = target.with_extension(format!("redb.before-restore-{}", store::now_millis()));
        std::fs::rename(&target, &kept)
            .with_context(|| format!("cannot move {} aside", target.display()))?;
        println!("the database it replaces is kept as {}", kept.display());
    } else if let Some(folder) = target.parent() {
        inbound::files::create_private_dir(folder)?;
    }
    let staged = target.with_extension("redb.restoring");
    // Copied into an owner-only file: `fs::copy` would take the source's mode.
    let mut copy = inbound::files::create_private(&staged)?;
    std::io::copy(&mut std::fs::File::open(source)?, &mut copy)
        .with_context(|| format!("cannot copy {} to {}", source.display(), staged.display()))?;
    copy.sync_all()?;
    drop(copy);
    std::fs::rename(&staged, &target)?;
    println!("restored {} to {}: {incidents} incidents", source.display(), target.display());
    Ok(())
}

/// Compacts the database of a stopped host.
pub fn compact(config: &ConfigArg) -> anyhow::Result<()> {
    let config = Config::load(&config.config)?;
    redb_only(&config, "compact")?;
    let path = config.resolve(&config.storage.path);
    let report = store::compact_file(&path)?;
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    println!(
        "compacted {}: {:.1} MiB -> {:.1} MiB",
        path.display(),
        mib(report.bytes_before),
        mib(report.bytes_after)
    );
    Ok(())
}

/// Restore and compact work on the redb file; PostgreSQL has its own tools.
fn redb_only(config: &Config, command: &str) -> anyhow::Result<()> {
    if config.storage.backend == inbound::config::StorageBackend::Postgres {
        anyhow::bail!(
            "inbound {command} works on the redb file of storage.path, and this config stores in PostgreSQL (storage.backend = \"postgres\"); use PostgreSQL's own tools (pg_dump and pg_restore, or pg_basebackup), see docs/high-availability.md"
        );
    }
    Ok(())
}
