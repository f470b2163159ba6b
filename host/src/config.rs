//! `config.toml`: parsed into typed structs, then validated as a whole.
//!
//! Every error names the file, the line and the key, and says how to fix it.
//! Nothing starts listening on an invalid config. Secrets may come from the
//! environment (`key_env`, `signing_secret_env`, `token_env`) so the file can
//! be committed; after [`Config::load`] they are resolved into their
//! plain-value fields.
//!
//! The file's types:
//! - [`schema`]: the typed file, with each default.
//! - [`notify`]: channels, people, schedules and escalation targets.
//! - [`noise`]: maintenance windows, working hours and heartbeats.
//! - `ui`: the web console's `[ui]` table.
//!
//! Its checks, beneath the types:
//! - `errors`: [`ConfigError`], and errors that point at a key's line.
//! - `locate`: where each key is (the line an error names).
//! - `validate`: the checks across keys; `validate_notify` those of the
//!   notification tables and escalation targets; `validate_noise` those of
//!   maintenance, urgency and heartbeats.
//! - `checks`: what several tables share (unique names, positive numbers).
//! - `secrets`: keys and tokens from the file or the environment, and how
//!   random they look.
//! - `addresses`: channel URLs (shown by origin only) and email addresses.
//! - `examples`: the published example secrets, refused on a reachable host.
//!
//! And what uses them:
//! - [`oncall`]: a checked schedule, who is on call at a time and until when.
//! - [`edit`]: changes to the file that keep its comments (`sources add`).

mod addresses;
mod checks;
pub mod edit;
mod errors;
mod examples;
mod locate;
pub mod noise;
pub mod notify;
pub mod oncall;
pub mod schema;
mod secrets;
mod ui;
mod validate;
mod validate_noise;
mod validate_notify;

pub use errors::ConfigError;
pub use examples::{ExampleSecret, is_example};
pub use schema::*;
pub use secrets::MIN_KEY_CHARS;
pub use ui::{OidcConfig, UiConfig};

use errors::Errors;
use locate::KeyIndex;
use notify::{ChannelConfig, PersonConfig};
use oncall::Schedule;
use std::path::{Path, PathBuf};

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
        let mut config: Config = toml::from_str(text).map_err(|error| errors.toml_error(&error))?;
        config.file = file.to_path_buf();
        config.file_sha256 = sha256_hex(text.as_bytes());
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
            tls: server.and_then(|s| s.get("tls")).and_then(|tls| tls.clone().try_into().ok()),
            ..defaults
        }))
    }

    /// An error about the key at `path` (e.g. `sources[0].settings`) of the
    /// file this config was read from, with its line; `shown` names it in
    /// the message. For checks made after loading (`inbound check`).
    pub fn error_at(&self, path: &str, shown: &str, message: impl Into<String>) -> ConfigError {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        ConfigError::Invalid {
            file: self.file.display().to_string(),
            line: KeyIndex::new(&text).line_of(path),
            key: Some(shown.to_string()),
            message: message.into(),
        }
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

    /// A source's per-call deadline: its own, else its integration's, else
    /// `[plugins] timeout_ms`.
    pub fn timeout_ms_of(&self, source: &SourceConfig) -> u64 {
        let integration = self.integrations.get(&source.integration);
        source
            .timeout_ms
            .or(integration.and_then(|integration| integration.timeout_ms))
            .unwrap_or(self.plugins.timeout_ms)
    }

    /// A source's memory cap, resolved like [`Config::timeout_ms_of`].
    pub fn memory_limit_mib_of(&self, source: &SourceConfig) -> usize {
        let integration = self.integrations.get(&source.integration);
        source
            .memory_limit_mib
            .or(integration.and_then(|integration| integration.memory_limit_mib))
            .unwrap_or(self.plugins.memory_limit_mib)
    }

    /// The largest memory cap of any source: what the engine's instance
    /// slots must hold.
    pub fn largest_memory_limit_mib(&self) -> usize {
        self.sources
            .iter()
            .map(|source| self.memory_limit_mib_of(source))
            .chain([self.plugins.memory_limit_mib])
            .max()
            .unwrap_or(self.plugins.memory_limit_mib)
    }

    pub fn escalation_policy(&self, name: &str) -> Option<&EscalationPolicy> {
        self.escalation_policies.iter().find(|policy| policy.name == name)
    }

    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|channel| channel.name == name)
    }

    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|source| source.name == name)
    }

    /// `[sources.outbound]` of the source `name`: set when its plugin may
    /// act back on the sender.
    pub fn outbound(&self, name: &str) -> Option<&SourceOutbound> {
        self.source(name)?.outbound.as_ref()
    }

    /// Whether `name` is in `[[people]]` with contacts: a shift taken
    /// before its person was removed would page nobody, so it is passed
    /// over and the rotation (or an override) stands instead.
    pub fn can_be_paged(&self, name: &str) -> bool {
        self.person(name).is_some_and(|person| !person.contacts.is_empty())
    }

    pub fn person(&self, name: &str) -> Option<&PersonConfig> {
        self.people.iter().find(|person| person.name == name)
    }

    pub fn schedule(&self, name: &str) -> Option<&Schedule> {
        self.resolved_schedules.iter().find(|schedule| schedule.name == name)
    }

    /// What is allowed but worth saying, at start-up, on reload and by
    /// `check`: example secrets on a host only this machine reaches, and
    /// policies written to page nobody (`levels = []`).
    pub fn warnings(&self) -> Vec<String> {
        let examples = self.example_secrets().into_iter().map(|example| {
            format!(
                "{} is the example value from config.toml and the docs: anyone who read them could {}; replace it (`{}`) before other machines can reach this host",
                example.shown, example.grants, example.generate
            )
        });
        let silent = self.escalation_policies.iter().filter(|policy| policy.levels.is_empty()).map(
            |policy| {
                format!(
                    "escalation policy {:?} has levels = []: its incidents notify nobody",
                    policy.name
                )
            },
        );
        let unroled = self.api.tokens.iter().filter(|token| token.role.is_none()).map(|token| {
            format!(
                "API token {:?} has no role, so it keeps full (admin) access for this release only; give it role = \"metrics\", \"viewer\", \"responder\" or \"admin\" (docs/people.md)",
                token.name
            )
        });
        examples.chain(silent).chain(unroled).collect()
    }
}

fn public_url(server: &ServerConfig) -> String {
    server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{}://{}", server.scheme(), server.listen))
        .trim_end_matches('/')
        .to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source's limits: its own, else its integration's, else [plugins]'.
    #[test]
    fn limits_resolve_source_then_integration_then_plugins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.wasm"), b"").unwrap();
        let text = r#"
[plugins]
timeout_ms = 100
memory_limit_mib = 32

[integrations.python]
plugin = "p.wasm"
timeout_ms = 1000
memory_limit_mib = 64

[integrations.rust]
plugin = "p.wasm"

[[escalation_policies]]
name = "oncall"
levels = []

[[sources]]
name = "a"
integration = "python"
escalation_policy = "oncall"
key = "key-a-0123456789abcdefghijklmn"

[[sources]]
name = "b"
integration = "python"
escalation_policy = "oncall"
key = "key-b-0123456789abcdefghijklmn"
memory_limit_mib = 128

[[sources]]
name = "c"
integration = "rust"
escalation_policy = "oncall"
key = "key-c-0123456789abcdefghijklmn"
"#;
        let config = Config::parse(&dir.path().join("config.toml"), text).unwrap();
        let [a, b, c] = &config.sources[..] else { panic!("three sources") };
        assert_eq!((config.timeout_ms_of(a), config.memory_limit_mib_of(a)), (1000, 64));
        assert_eq!((config.timeout_ms_of(b), config.memory_limit_mib_of(b)), (1000, 128));
        assert_eq!((config.timeout_ms_of(c), config.memory_limit_mib_of(c)), (100, 32));
        assert_eq!(config.largest_memory_limit_mib(), 128);
    }
}
