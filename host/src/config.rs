//! `config.toml`: parsed into typed structs, then validated as a whole.
//!
//! Every error names the file, the line and the key, and says how to fix it.
//! Nothing starts listening on an invalid config. Secrets may come from the
//! environment (`key_env`, `signing_secret_env`, `token_env`) so the file can
//! be committed; after [`Config::load`] they are resolved into their
//! plain-value fields.

pub mod edit;
mod locate;
mod ui;

pub use ui::UiConfig;

use locate::KeyIndex;
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
    pub api: ApiConfig,
    #[serde(default)]
    pub ui: UiConfig,
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
    /// Longest a request may take before it is answered 503; a webhook's
    /// plugin call and commit normally take milliseconds.
    pub request_timeout_ms: u64,
    /// Largest request head (request line + headers); larger gets 431.
    /// hyper's read buffer, so at least 8192.
    pub header_limit_bytes: usize,
    /// A client must send its whole request head within this time, or the
    /// connection is closed (slow-loris protection).
    pub header_read_timeout_ms: u64,
    /// A webhook body must arrive within this time, or 408.
    pub body_read_timeout_ms: u64,
    /// Webhook requests handled at once; more get 503 with Retry-After
    /// instead of waiting in an unbounded queue.
    pub max_concurrent_webhooks: usize,
}

/// hyper refuses a smaller read buffer.
pub const MIN_HEADER_LIMIT_BYTES: usize = 8192;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            body_limit_bytes: 1 << 20,
            request_timeout_ms: 10_000,
            header_limit_bytes: 16 << 10,
            header_read_timeout_ms: 5_000,
            body_read_timeout_ms: 5_000,
            max_concurrent_webhooks: 512,
        }
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
        PluginConfig {
            timeout_ms: 100,
            memory_limit_mib: 32,
            max_concurrent_calls: 128,
            state_limit_bytes: 16 << 20,
        }
    }
}

/// Who may use the incidents API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub tokens: Vec<ApiToken>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// Recorded in the incident log as `user <name>` for changes made with it.
    pub name: String,
    /// The bearer token itself (resolved from `token_env` after loading).
    pub token: Option<String>,
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationConfig {
    /// The plugin component (`.wasm`), relative to the config file.
    pub plugin: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    pub name: String,
    #[serde(default)]
    pub levels: Vec<EscalationLevel>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// The secret part of the webhook URL (resolved from `key_env` after loading).
    pub key: Option<String>,
    pub key_env: Option<String>,
    /// Zendesk's webhook signing secret (resolved from `signing_secret_env`).
    pub signing_secret: Option<String>,
    pub signing_secret_env: Option<String>,
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
    /// How far a signature's timestamp may be from now (either way); older
    /// requests are refused as replays.
    #[serde(default = "default_signature_window")]
    pub signature_window_seconds: u64,
    /// Sustained webhook requests per second for this source; 0 turns the
    /// limit off. Over it: 429 with Retry-After.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_second: u32,
    /// Requests allowed at once above the sustained rate (a bulk update in
    /// Zendesk fires one webhook per ticket).
    #[serde(default = "default_rate_burst")]
    pub rate_limit_burst: u32,
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

fn default_signature_window() -> u64 {
    300
}

fn default_rate_limit() -> u32 {
    100
}

fn default_rate_burst() -> u32 {
    1000
}

impl SourceConfig {
    /// The webhook key; always set once the config is loaded.
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }
}

/// Shortest accepted key or token: 22 URL-safe characters carry 128 bits.
pub const MIN_KEY_CHARS: usize = 22;

/// Webhook keys sit in a URL path.
const URL_SAFE: (&str, fn(char) -> bool) =
    ("of A-Z, a-z, 0-9, '-' or '_'", |c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
/// API tokens travel in a header.
const NO_SPACES: (&str, fn(char) -> bool) =
    ("without spaces", |c| !(c.is_whitespace() || c.is_control()));

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The io error is the source, printed once by the error chain.
    #[error("cannot read {file} (choose the file with --config or INBOUND_CONFIG)")]
    Read { file: String, source: std::io::Error },
    /// `file:line: key: message`, each part when known.
    #[error("{}", render(.file, *.line, .key.as_deref(), .message))]
    Invalid { file: String, line: Option<usize>, key: Option<String>, message: String },
}

fn render(file: &str, line: Option<usize>, key: Option<&str>, message: &str) -> String {
    let mut text = file.to_string();
    if let Some(line) = line {
        text.push_str(&format!(":{line}"));
    }
    if let Some(key) = key {
        text.push_str(&format!(": {key}"));
    }
    format!("{text}: {message}")
}

impl Config {
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|source| ConfigError::Read { file: file.display().to_string(), source })?;
        Config::parse(file, &text)
    }

    /// Parses and validates `text` as if read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let index = KeyIndex::new(text);
        let errors = Errors { file: file.display().to_string(), index: &index };
        let mut config: Config = toml::from_str(text).map_err(|error| errors.from_toml(&error))?;
        config.file = file.to_path_buf();
        config.validate(&errors)?;
        Ok(config)
    }

    /// Reads only the `[server]` table, unvalidated: enough for commands that
    /// talk to a running host and need its public URL.
    pub fn public_url_of(file: &Path) -> Option<String> {
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
        let server = table.get("server").and_then(toml::Value::as_table);
        let text = |key: &str| {
            server.and_then(|s| s.get(key)).and_then(toml::Value::as_str).map(str::to_string)
        };
        let defaults = ServerConfig::default();
        Some(public_url(&ServerConfig {
            listen: text("listen").unwrap_or(defaults.listen),
            public_url: text("public_url"),
            ..defaults
        }))
    }

    /// Resolves a path from the config against the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            return path.to_path_buf();
        }
        self.file.parent().unwrap_or(Path::new(".")).join(path)
    }

    pub fn public_url(&self) -> String {
        public_url(&self.server)
    }

    pub fn webhook_url(&self, source: &SourceConfig) -> String {
        format!("{}/api/v1/events/{}/{}", self.public_url(), source.integration, source.key())
    }

    pub fn escalation_policy(&self, name: &str) -> Option<&EscalationPolicy> {
        self.escalation_policies.iter().find(|policy| policy.name == name)
    }

    fn validate(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        self.validate_server(errors)?;
        for (name, integration) in &self.integrations {
            let path = self.resolve(&integration.plugin);
            if !path.is_file() {
                return Err(errors.at(
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
            let at = |field: &str| format!("escalation_policies[{index}].{field}");
            if policy.name.trim().is_empty() {
                return Err(
                    errors.at(at("name"), "an escalation policy needs a name; set name = \"...\"")
                );
            }
            if !policies.insert(policy.name.clone()) {
                return Err(errors.at(
                    at("name"),
                    format!(
                        "the escalation policy {:?} is declared twice; rename or remove one",
                        policy.name
                    ),
                ));
            }
            for (level, step) in policy.levels.iter().enumerate() {
                if step.notify.is_empty() {
                    return Err(errors.at(
                        format!("escalation_policies[{index}].levels[{level}].notify"),
                        "a level must notify someone, e.g. notify = [\"person:alice\"]; remove the level or add a recipient",
                    ));
                }
            }
        }
        self.validate_sources(errors, &policies)?;
        self.validate_tokens(errors)
    }

    fn validate_server(&self, errors: &Errors) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(errors.at(
                "server.listen",
                format!(
                    "{:?} is not an address and port; write e.g. \"127.0.0.1:8080\"",
                    server.listen
                ),
            ));
        }
        if let Some(url) = &server.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(errors.at(
                    "server.public_url",
                    format!("{url:?} is not an http:// or https:// URL; write e.g. \"https://inbound.example.com\""),
                ));
            }
        }
        let positive = [
            ("server.body_limit_bytes", server.body_limit_bytes as u64),
            ("server.request_timeout_ms", server.request_timeout_ms),
            ("server.header_read_timeout_ms", server.header_read_timeout_ms),
            ("server.body_read_timeout_ms", server.body_read_timeout_ms),
            ("server.max_concurrent_webhooks", server.max_concurrent_webhooks as u64),
            ("storage.event_body_cap_bytes", self.storage.event_body_cap_bytes as u64),
            ("plugins.timeout_ms", self.plugins.timeout_ms),
            ("plugins.memory_limit_mib", self.plugins.memory_limit_mib as u64),
            ("ui.session_minutes", self.ui.session_minutes),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(
                    errors.at(key, "must be greater than 0; remove the key to use its default")
                );
            }
        }
        if server.header_limit_bytes < MIN_HEADER_LIMIT_BYTES {
            return Err(errors.at(
                "server.header_limit_bytes",
                format!("must be at least {MIN_HEADER_LIMIT_BYTES}; remove the key to use its default (16384)"),
            ));
        }
        Ok(())
    }

    fn validate_sources(
        &mut self,
        errors: &Errors,
        policies: &HashSet<String>,
    ) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        let mut keys = HashSet::new();
        for (index, source) in self.sources.iter_mut().enumerate() {
            let at = |field: &str| format!("sources[{index}].{field}");
            let named =
                |field: &str| format!("sources[{index}].{field} (source {:?})", source.name);
            if source.name.trim().is_empty() {
                return Err(errors.at(at("name"), "a source needs a name; set name = \"...\""));
            }
            if !names.insert(source.name.clone()) {
                return Err(errors.at_key(
                    at("name"),
                    named("name"),
                    "another source has this name; names must be unique, rename one",
                ));
            }
            if !self.integrations.contains_key(&source.integration) {
                let known: Vec<_> = self.integrations.keys().map(String::as_str).collect();
                return Err(errors.at_key(
                    at("integration"),
                    named("integration"),
                    format!(
                        "unknown integration {:?}; declare it under [integrations.{}] or use one of: {}",
                        source.integration,
                        source.integration,
                        if known.is_empty() { "none declared".to_string() } else { known.join(", ") }
                    ),
                ));
            }
            if !policies.contains(&source.escalation_policy) {
                let mut known: Vec<_> = policies.iter().map(String::as_str).collect();
                known.sort();
                return Err(errors.at_key(
                    at("escalation_policy"),
                    named("escalation_policy"),
                    format!(
                        "unknown escalation policy {:?}; declare it in [[escalation_policies]] or use one of: {}",
                        source.escalation_policy,
                        if known.is_empty() { "none declared".to_string() } else { known.join(", ") }
                    ),
                ));
            }
            if source.signature_window_seconds == 0 {
                return Err(errors.at_key(
                    at("signature_window_seconds"),
                    named("signature_window_seconds"),
                    "must be greater than 0; remove the key to use its default (300)",
                ));
            }
            if source.rate_limit_per_second > 0 && source.rate_limit_burst == 0 {
                return Err(errors.at_key(
                    at("rate_limit_burst"),
                    named("rate_limit_burst"),
                    "must be greater than 0 while rate_limit_per_second is set; remove the key to use its default (1000)",
                ));
            }
            let secret = Secret {
                errors,
                table: &format!("sources[{index}]"),
                label: &format!(" (source {:?})", source.name),
                hint: "generate one with `openssl rand -hex 16`",
            };
            let key = secret.strong(
                "key",
                source.key.as_deref(),
                source.key_env.as_deref(),
                "source",
                &mut keys,
                URL_SAFE,
            )?;
            source.key = Some(key);
            let signing =
                Secret { hint: "copy it from Zendesk's webhook page (Reveal secret)", ..secret };
            source.signing_secret = signing.optional(
                "signing_secret",
                source.signing_secret.as_deref(),
                source.signing_secret_env.as_deref(),
            )?;
        }
        Ok(())
    }

    fn validate_tokens(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        let mut values = HashSet::new();
        for (index, token) in self.api.tokens.iter_mut().enumerate() {
            let at = |field: &str| format!("api.tokens[{index}].{field}");
            if token.name.trim().is_empty() {
                return Err(errors.at(
                    at("name"),
                    "a token needs a name (it is recorded as who acted); set name = \"...\"",
                ));
            }
            if !names.insert(token.name.clone()) {
                return Err(errors.at(
                    at("name"),
                    "another token has this name; names must be unique, rename one",
                ));
            }
            let secret = Secret {
                errors,
                table: &format!("api.tokens[{index}]"),
                label: &format!(" (token {:?})", token.name),
                hint: "generate one with `openssl rand -hex 16`",
            };
            let value = secret.strong(
                "token",
                token.token.as_deref(),
                token.token_env.as_deref(),
                "token",
                &mut values,
                NO_SPACES,
            )?;
            token.token = Some(value);
        }
        Ok(())
    }
}

fn public_url(server: &ServerConfig) -> String {
    server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", server.listen))
        .trim_end_matches('/')
        .to_string()
}

/// Builds errors that point at a key's line.
struct Errors<'a> {
    file: String,
    index: &'a KeyIndex,
}

impl Errors<'_> {
    fn at(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        let key = key.into();
        self.at_key(key.clone(), key, message)
    }

    /// `path` finds the line; `shown` is how the key is named in the message.
    fn at_key(
        &self,
        path: impl Into<String>,
        shown: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            line: self.index.line_of(&path.into()),
            key: Some(shown.into()),
            message: message.into(),
        }
    }

    fn from_toml(&self, error: &toml::de::Error) -> ConfigError {
        let offset = error.span().map(|span| span.start);
        let key = offset.and_then(|offset| self.index.path_at(offset)).map(str::to_string);
        let message = error.message().trim().replace('\n', " ");
        let hint = if message.starts_with("unknown field") {
            "check the spelling; docs/configuration.md lists every key"
        } else if message.starts_with("missing field") {
            "add it; docs/configuration.md lists every key"
        } else if key.is_none() {
            "this is not valid TOML; fix the syntax at that line"
        } else {
            "fix the value; docs/configuration.md gives each key's type and an example"
        };
        ConfigError::Invalid {
            file: self.file.clone(),
            line: offset.map(|offset| self.index.line_at(offset)),
            key,
            message: format!("{message}; {hint}"),
        }
    }
}

/// A secret that is written in the file (`field`) or named by an
/// environment variable (`field_env`): exactly one of the two.
#[derive(Clone, Copy)]
struct Secret<'a> {
    errors: &'a Errors<'a>,
    /// Path of the table, e.g. `sources[0]`.
    table: &'a str,
    /// Said after the key in messages, e.g. ` (source "support")`.
    label: &'a str,
    hint: &'a str,
}

impl Secret<'_> {
    fn required(
        &self,
        field: &str,
        literal: Option<&str>,
        env: Option<&str>,
    ) -> Result<String, ConfigError> {
        self.optional(field, literal, env)?.ok_or_else(|| {
            self.errors.at_key(
                format!("{}.{field}", self.table),
                format!("{}.{field}{}", self.table, self.label),
                format!("missing: set {field} = \"...\" or {field}_env = \"VARIABLE\" (an environment variable holding it); {}", self.hint),
            )
        })
    }

    fn optional(
        &self,
        field: &str,
        literal: Option<&str>,
        env: Option<&str>,
    ) -> Result<Option<String>, ConfigError> {
        match (literal, env) {
            (Some(_), Some(_)) => Err(self.errors.at_key(
                format!("{}.{field}_env", self.table),
                format!("{}.{field}_env{}", self.table, self.label),
                format!("both {field} and {field}_env are set; keep only one of them"),
            )),
            (Some(value), None) => Ok(Some(value.to_string())),
            (None, Some(variable)) => match std::env::var(variable) {
                Ok(value) if !value.is_empty() => Ok(Some(value)),
                _ => Err(self.errors.at_key(
                    format!("{}.{field}_env", self.table),
                    format!("{}.{field}_env{}", self.table, self.label),
                    format!("the environment variable {variable} is not set or empty; export it before starting inbound, or write {field} = \"...\" instead"),
                )),
            },
            (None, None) => Ok(None),
        }
    }

    /// A required secret of at least [`MIN_KEY_CHARS`] characters, each
    /// `allowed`, that no other `owner` in `seen` has.
    fn strong(
        &self,
        field: &str,
        literal: Option<&str>,
        env: Option<&str>,
        owner: &str,
        seen: &mut HashSet<String>,
        (alphabet, allowed): (&str, fn(char) -> bool),
    ) -> Result<String, ConfigError> {
        let value = self.required(field, literal, env)?;
        if value.chars().count() < MIN_KEY_CHARS || !value.chars().all(allowed) {
            return Err(self.error(
                field,
                env,
                format!(
                    "the {field} must be at least {MIN_KEY_CHARS} characters (128 bits) {alphabet}; generate one with `openssl rand -hex 16`"
                ),
            ));
        }
        if !seen.insert(value.clone()) {
            return Err(self.error(
                field,
                env,
                format!("another {owner} has the same {field}; {field}s must be unique, generate a new one with `openssl rand -hex 16`"),
            ));
        }
        Ok(value)
    }

    /// An error about the secret's value, pointing at whichever key gave it.
    fn error(&self, field: &str, env: Option<&str>, message: String) -> ConfigError {
        let field = if env.is_some() { format!("{field}_env") } else { field.to_string() };
        self.errors.at_key(
            format!("{}.{field}", self.table),
            format!("{}.{field}{}", self.table, self.label),
            message,
        )
    }
}
