//! `inbound plugin check`: the start-up load, and nothing else.

use anyhow::Context;
use inbound::plugin::{EngineSettings, PluginHost};
use std::path::Path;
use std::time::Instant;

pub fn check(plugin: &Path) -> anyhow::Result<()> {
    let mut host = PluginHost::new(&EngineSettings::default())?;
    let started = Instant::now();
    let integration = inbound::harness::integration_name(plugin);
    // The same call `inbound serve` makes for each integration.
    if let Err(error) = host.load(&integration, plugin, None) {
        // Not an integration: it may be a notifier, loaded as `serve` loads a channel's.
        let mut notifiers = inbound::notify::render::NotifierHost::new()?;
        if notifiers.load(&integration, plugin, None).is_ok() {
            let size = std::fs::metadata(plugin).map(|m| m.len()).unwrap_or(0);
            println!(
                "ok: {} implements inbound:notifier@{} ({} KiB, compiled and linked in {} ms)",
                plugin.display(),
                inbound::notify::render::SUPPORTED_VERSIONS.join(", "),
                size / 1024,
                started.elapsed().as_millis()
            );
            return Ok(());
        }
        return Err(error);
    }
    let loaded = host.plugin(&integration).context("the plugin vanished after loading")?;
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
