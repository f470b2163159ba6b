//! Each source's `settings`, judged by its plugin before the source serves
//! a webhook: at start-up, on reload and by `inbound check`. A bad setting
//! stops the start (or the reload) with the file, line and key, instead of
//! turning every webhook into a 400.

use crate::config::{Config, ConfigError, SourceConfig};
use crate::plugin::{PluginHost, SettingsRefused};

/// Judges every source whose plugin says what it accepts (API 0.3.0 and
/// later); older plugins pass here (`inbound check` probes them).
pub fn check(config: &Config, plugins: &PluginHost) -> Result<(), ConfigError> {
    for (index, source) in config.sources.iter().enumerate() {
        let Some(plugin) = plugins.plugin(&source.integration) else { continue };
        let settings = as_json_object(source);
        let limits = super::call_limits(config, source);
        let refused = match plugins.check_settings(&plugin, &settings, &limits) {
            Ok(()) => continue,
            Err(refused) => refused,
        };
        let key = match &refused {
            SettingsRefused::Problems(problems) => problems
                .iter()
                .filter_map(|problem| problem.setting.as_deref())
                .find(|key| source.settings.contains_key(*key))
                .map(|key| format!("sources[{index}].settings.{key}")),
            SettingsRefused::PluginFailed(_) => None,
        };
        let path = key.unwrap_or_else(|| format!("sources[{index}].settings"));
        let shown = format!("{path} (source {:?})", source.name);
        return Err(config.error_at(
            &path,
            &shown,
            format!("the {} plugin refuses these settings: {refused}", source.integration),
        ));
    }
    Ok(())
}

/// The source's settings table as the JSON object plugins receive.
pub fn as_json_object(source: &SourceConfig) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(&source.settings) {
        Ok(serde_json::Value::Object(table)) => table,
        // A TOML table always converts (dates become strings).
        _ => serde_json::Map::new(),
    }
}
