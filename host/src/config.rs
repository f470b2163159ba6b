//! `config.toml`: parsed into typed structs, then validated as a whole.
//!
//! Every error names the file and the key, and says how to fix it. Nothing
//! starts listening on an invalid config.

use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub plugins: PluginConfig,
    #[serde(default)]
    pub integrations: BTreeMap<String, IntegrationConfig>,
    #[serde(default)]
    pub escalation_policies: Vec<EscalationPolicy>,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Where the file was read from; relative paths are resolved against it.
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// The base URL senders use to reach this host; webhook URLs are printed
    /// with it. Defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Largest accepted webhook body. Zendesk sends up to 256 KB.
    pub body_limit_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: "127.0.0.1:8080".into(), public_url: None, body_limit_bytes: 1 << 20 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The redb database file, relative to the config file.
    pub path: PathBuf,
    /// How much of each received body the incident log keeps.
    pub event_body_cap_bytes: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { path: "data/inbound.redb".into(), event_body_cap_bytes: 64 << 10 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginConfig {
    /// Default per-call deadline; a source may override it.
    pub timeout_ms: u64,
    /// Default linear memory cap per instance; a source may override it.
    pub memory_limit_mib: usize,
    /// Plugin calls running at once; sizes the instance pool.
    pub max_concurrent_calls: u32,
    /// Plugin state (keys + values) one source may hold.
    pub state_limit_bytes: u64,
}

impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig { timeout_ms: 100, memory_limit_mib: 32, max_concurrent_calls: 128, state_limit_bytes: 16 << 20 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationConfig {
    /// The plugin component (`.wasm`), relative to the config file.
    pub plugin: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    pub name: String,
    #[serde(default)]
    pub levels: Vec<EscalationLevel>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    /// Minutes after the incident opens (or the previous level) to escalate.
    #[serde(default)]
    pub delay_minutes: u32,
    /// People or schedules to notify.
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub integration: String,
    pub escalation_policy: String,
    /// The secret part of the webhook URL.
    pub key: String,
    /// Handed to the plugin as JSON, e.g. Zendesk status translations.
    #[serde(default)]
    pub settings: toml::Table,
    /// What the sender hears when the plugin fails: "retry" (503 with
    /// Retry-After) or "accept" (202 and a fallback incident).
    #[serde(default)]
    pub on_plugin_failure: OnPluginFailure,
    /// Retry-After of the "retry" answer. Zendesk only honours values under 60.
    #[serde(default = "default_retry_after")]
    pub retry_after_seconds: u32,
    /// Overrides [plugins] timeout_ms for this source.
    pub timeout_ms: Option<u64>,
    /// Overrides [plugins] memory_limit_mib for this source.
    pub memory_limit_mib: Option<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnPluginFailure {
    #[default]
    Retry,
    Accept,
}

fn default_retry_after() -> u32 {
    30
}

/// Shortest accepted integration key: 22 URL-safe characters carry 128 bits.
pub const MIN_KEY_CHARS: usize = 22;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {file}: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    Invalid { file: String, key: String, message: String },
}

impl Config {
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let shown = file.display().to_string();
        let text = std::fs::read_to_string(file)
            .map_err(|source| ConfigError::Read { file: shown.clone(), source })?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|error| ConfigError::Parse { file: shown.clone(), message: error.to_string() })?;
        config.file = file.to_path_buf();
        config.validate()?;
        Ok(config)
    }

    /// Resolves a path from the config against the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            return path.to_path_buf();
        }
        self.file.parent().unwrap_or(Path::new(".")).join(path)
    }

    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.server.listen))
            .trim_end_matches('/')
            .to_string()
    }

    pub fn webhook_url(&self, source: &SourceConfig) -> String {
        format!("{}/api/v1/events/{}/{}", self.public_url(), source.integration, source.key)
    }

    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.display().to_string(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(self.invalid(
                "server.listen",
                format!("{:?} is not an address and port, e.g. \"127.0.0.1:8080\"", self.server.listen),
            ));
        }
        for (name, integration) in &self.integrations {
            let path = self.resolve(&integration.plugin);
            if !path.is_file() {
                return Err(self.invalid(
                    format!("integrations.{name}.plugin"),
                    format!(
                        "the plugin file {} does not exist; build it (make plugins) or fix the path, which is relative to the config file",
                        path.display()
                    ),
                ));
            }
        }
        let mut policies = HashSet::new();
        for (index, policy) in self.escalation_policies.iter().enumerate() {
            if !policies.insert(policy.name.as_str()) {
                return Err(self.invalid(
                    format!("escalation_policies[{index}].name"),
                    format!("the escalation policy {:?} is declared twice; names must be unique", policy.name),
                ));
            }
        }
        let mut names = HashSet::new();
        let mut keys = HashSet::new();
        for (index, source) in self.sources.iter().enumerate() {
            let at = |field: &str| format!("sources[{index}].{field} (source {:?})", source.name);
            if source.name.trim().is_empty() {
                return Err(self.invalid(format!("sources[{index}].name"), "a source needs a name"));
            }
            if !names.insert(source.name.as_str()) {
                return Err(self.invalid(at("name"), "two sources have this name; names must be unique"));
            }
            if !self.integrations.contains_key(&source.integration) {
                let known: Vec<_> = self.integrations.keys().map(String::as_str).collect();
                return Err(self.invalid(
                    at("integration"),
                    format!(
                        "unknown integration {:?}; declare it under [integrations.{}] (known: {})",
                        source.integration,
                        source.integration,
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                ));
            }
            if !policies.contains(source.escalation_policy.as_str()) {
                return Err(self.invalid(
                    at("escalation_policy"),
                    format!(
                        "unknown escalation policy {:?}; declare it in [[escalation_policies]]",
                        source.escalation_policy
                    ),
                ));
            }
            if source.key.chars().count() < MIN_KEY_CHARS
                || !source.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(self.invalid(
                    at("key"),
                    format!(
                        "the key must be at least {MIN_KEY_CHARS} characters of A-Z, a-z, 0-9, '-' or '_' (128 bits); generate one with `openssl rand -hex 16`"
                    ),
                ));
            }
            if !keys.insert(source.key.as_str()) {
                return Err(self.invalid(at("key"), "another source has the same key; keys must be unique"));
            }
        }
        Ok(())
    }
}
