//! `inbound plugin check`: the start-up load, what the plugin says about
//! itself, and (with `--settings`) the start-up judgement of a source's
//! settings.

use anyhow::Context;
use inbound::plugin::{CallLimits, EngineSettings, LoadedPlugin, PluginHost, PluginInfo};
use std::path::Path;
use std::time::Instant;

pub fn check(
    plugin: &Path,
    settings: Option<&str>,
    limits: &CallLimits,
    json: bool,
) -> anyhow::Result<()> {
    let engine = EngineSettings { max_memory_bytes: limits.memory_bytes, ..Default::default() };
    let mut host = PluginHost::new(&engine)?;
    let started = Instant::now();
    let integration = inbound::harness::integration_name(plugin);
    // The same call `inbound serve` makes for each integration.
    let cache = inbound::plugin::cache::user_cache_dir();
    if let Err(error) = host.load(&integration, plugin, cache.as_deref()) {
        // Not an integration: it may be a notifier, loaded as `serve` loads a channel's.
        let mut notifiers = inbound::notify::render::NotifierHost::new()?;
        if notifiers.load(&integration, plugin, cache.as_deref()).is_ok() {
            let size = std::fs::metadata(plugin).map(|m| m.len()).unwrap_or(0);
            println!(
                "ok: {} implements inbound:notifier@{} ({} KiB, compiled and linked in {} ms)",
                plugin.display(),
                notifiers.version(&integration).unwrap_or("?"),
                size / 1024,
                started.elapsed().as_millis()
            );
            return Ok(());
        }
        return Err(error);
    }
    let loaded = host.plugin(&integration).context("the plugin vanished after loading")?;
    let linked_ms = started.elapsed().as_millis();
    let info = host
        .describe(&loaded, limits)
        .context("the plugin's `describe` failed; `inbound serve` would not start with it")?;
    if let Some(settings) = settings {
        judge_settings(&host, &loaded, settings, limits)?;
    }
    let size = std::fs::metadata(plugin).map(|m| m.len()).unwrap_or(0);
    if json {
        let report = serde_json::json!({
            "plugin": plugin.display().to_string(),
            "api_version": loaded.api_version().as_str(),
            "size_bytes": size,
            "about": info,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "ok: {} implements inbound:plugin@{} ({} KiB, compiled and linked in {linked_ms} ms)",
        plugin.display(),
        loaded.api_version(),
        size / 1024,
    );
    match info {
        Some(info) => print_about(&info),
        None => println!(
            "  about: not said (built against {}; plugins say their name, version and settings from API 0.3.0)",
            loaded.api_version()
        ),
    }
    if settings.is_some() {
        println!("  settings given: accepted");
    }
    Ok(())
}

fn judge_settings(
    host: &PluginHost,
    plugin: &LoadedPlugin,
    settings: &str,
    limits: &CallLimits,
) -> anyhow::Result<()> {
    let value = super::run::settings_value(settings)?;
    let serde_json::Value::Object(table) = value else {
        anyhow::bail!("--settings must be a JSON object or a settings file; got {value}");
    };
    host.check_settings(plugin, &table, limits)
        .map_err(|refused| anyhow::anyhow!("the plugin refuses these settings: {refused}"))
}

fn print_about(info: &PluginInfo) {
    println!("  plugin:   {} {}", info.name, info.version);
    if !info.description.is_empty() {
        println!("  about:    {}", info.description);
    }
    let Some(settings) = &info.settings else {
        println!("  settings: not listed (any settings reach the plugin, which judges them)");
        return;
    };
    if settings.is_empty() {
        println!("  settings: none (a source with settings is refused)");
        return;
    }
    println!("  settings:");
    let width = settings.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for setting in settings {
        let required = if setting.required { "required" } else { "optional" };
        println!(
            "    {:width$}  {}, {required}: {}",
            setting.name,
            setting.kind.describe(),
            setting.description
        );
    }
}
