//! `inbound plugin check`: the start-up load, and nothing else.

use anyhow::Context;
use inbound::plugin::{EngineSettings, PluginHost};
use std::path::Path;
use std::time::Instant;

pub fn check(plugin: &Path) -> anyhow::Result<()> {
    let mut host = PluginHost::new(&EngineSettings::default())?;
    let started = Instant::now();
    // The same call `inbound serve` makes for each integration.
    host.load("plugin", plugin, None)?;
    let loaded = host.plugin("plugin").context("the plugin vanished after loading")?;
    let size = std::fs::metadata(plugin).map(|m| m.len()).unwrap_or(0);
    println!(
        "ok: {} implements inbound:plugin@{} ({} KiB, compiled and linked in {} ms)",
        plugin.display(),
        loaded.api_version(),
        size / 1024,
        started.elapsed().as_millis()
    );
    Ok(())
}
