//! The configuration file as typed structs, with each default and why.

use crate::roles::Role;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

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
    pub ui: super::UiConfig,
    #[serde(default)]
    pub integrations: BTreeMap<String, IntegrationConfig>,
    #[serde(default)]
    pub escalation_policies: Vec<EscalationPolicy>,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub notifications: super::notify::NotificationsConfig,
    #[serde(default)]
    pub channels: Vec<super::notify::ChannelConfig>,
    #[serde(default)]
    pub people: Vec<super::notify::PersonConfig>,
    #[serde(default)]
    pub schedules: Vec<super::notify::ScheduleConfig>,
    /// Planned windows in which nobody is paged (`noise.rs`).
    #[serde(default)]
    pub maintenance: Vec<super::noise::MaintenanceConfig>,
    /// Senders that must check in; a missed ping opens an incident.
    #[serde(default)]
    pub heartbeats: Vec<super::noise::HeartbeatConfig>,
    /// `schedules`, checked and with time zones resolved (set by validation).
    #[serde(skip)]
    pub resolved_schedules: Vec<super::oncall::Schedule>,
    /// Where the file was read from; relative paths are resolved against it.
    #[serde(skip)]
    pub file: PathBuf,
    /// SHA-256 of the file's text, hex: which version of the config is in
    /// effect (`inbound_config_info` in `/metrics`).
    #[serde(skip)]
    pub file_sha256: String,
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
    /// Serve HTTPS with this certificate and key (PEM files); re-read on
    /// reload, so a renewed certificate needs no restart.
    pub tls: Option<TlsConfig>,
    /// Reverse proxies (addresses or networks, e.g. "10.0.0.0/8") whose
    /// `X-Forwarded-For` names the client. From anyone else the header is
    /// ignored: a client could write any address into it.
    pub trusted_proxies: Vec<String>,
    /// Sustained webhook requests per second from one client address (the
    /// forwarded one behind trusted proxies), across all sources; 0 (the
    /// default) turns the limit off. Over it: 429 with Retry-After.
    pub client_rate_limit_per_second: u32,
    /// Requests one client may send at once above its sustained rate.
    pub client_rate_limit_burst: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, PEM: the host's certificate first, then any
    /// intermediates.
    pub cert: PathBuf,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl ServerConfig {
    /// "https" when the host serves TLS itself, else "http".
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
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
            tls: None,
            trusted_proxies: Vec::new(),
            client_rate_limit_per_second: 0,
            client_rate_limit_burst: 200,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Redb,
    Postgres,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `redb` (the default: one embedded file, one host) or `postgres`
    /// (several hosts on one PostgreSQL database).
    pub backend: StorageBackend,
    /// The redb database file, relative to the config file.
    pub path: PathBuf,
    /// The PostgreSQL connection string or URL, for `backend = "postgres"`
    /// (resolved from `url_env` after loading: it may hold a password).
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// PEM certificates that may sign the PostgreSQL server's certificate,
    /// for `sslmode=require` in the URL; relative to the config file.
    /// Without it the public web roots are trusted.
    pub ca_file: Option<PathBuf>,
    /// How much of each received body the incident log keeps.
    pub event_body_cap_bytes: usize,
    /// Webhooks are refused (`503 storage-full`, `Retry-After`) while the
    /// database's filesystem has less free space than this: a full disk
    /// fails commits, and a little room keeps people's actions, failed
    /// deliveries and the database's own recovery working. 0 turns it off.
    pub min_free_mib: u64,
    /// redb's page cache in MiB (redb's own default, 1 GiB, lets the
    /// host's memory grow with the database). Read at start-up.
    pub cache_mib: usize,
    /// An event whose body and action repeat the last entry of its
    /// incident's log (Alertmanager re-sends a firing group every
    /// `repeat_interval`) adds one to that entry's repeat count instead of a
    /// new entry.
    pub count_repeated_events: bool,
    pub retention: RetentionConfig,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: StorageBackend::Redb,
            path: "data/inbound.redb".into(),
            url: None,
            url_env: None,
            ca_file: None,
            event_body_cap_bytes: 64 << 10,
            min_free_mib: 64,
            cache_mib: 32,
            count_repeated_events: true,
            retention: RetentionConfig::default(),
        }
    }
}

/// `[storage.retention]`: what the host deletes in the background, and
/// when. 0 keeps forever (the default for incidents and failed deliveries:
/// nothing is deleted unless asked). Expired console sessions always go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Resolved incidents, with their log, escalation and notifications,
    /// this many days after their last change.
    pub resolved_incidents_days: u32,
    /// Failed deliveries (and their bodies) this many days after receipt.
    pub failed_deliveries_days: u32,
    /// Audit entries this many days after they were written.
    pub audit_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig { resolved_incidents_days: 0, failed_deliveries_days: 0, audit_days: 365 }
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
    /// Bytes one call may ask the host to store (texts, links, state
    /// values). A Zendesk event stores a few KiB; 1 MiB leaves room for
    /// an Alertmanager group of hundreds of alerts.
    pub stored_bytes_per_call: usize,
    /// Bytes one source may store per minute, the received events'
    /// logged bodies included: bounds how fast a sender or a plugin can
    /// fill the disk. 0 turns it off.
    pub stored_mib_per_minute: u32,
}

impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig {
            timeout_ms: 100,
            memory_limit_mib: 32,
            max_concurrent_calls: 128,
            state_limit_bytes: 16 << 20,
            stored_bytes_per_call: 1 << 20,
            stored_mib_per_minute: 256,
        }
    }
}

/// Who may use the incidents API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub tokens: Vec<ApiToken>,
    /// Failed token attempts (API bearer tokens and console sign-ins) one
    /// client may make per minute before all its attempts are refused with
    /// 429 until the quota refills; 0 turns it off.
    pub failed_auth_per_minute: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { tokens: Vec::new(), failed_auth_per_minute: 10 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// Recorded in the incident log as `user <name>` for changes made with it.
    pub name: String,
    /// The bearer token itself (resolved from `token_env` after loading).
    pub token: Option<String>,
    pub token_env: Option<String>,
    /// What the token may do. A token without one keeps full access for
    /// this release, with a warning at start (docs/people.md).
    #[serde(default)]
    pub role: Option<Role>,
}

impl ApiToken {
    /// The role the token acts with: `admin` while none is written.
    pub fn effective_role(&self) -> Role {
        self.role.unwrap_or(Role::Admin)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationConfig {
    /// The plugin component (`.wasm`), relative to the config file.
    pub plugin: PathBuf,
    /// Overrides [plugins] timeout_ms for this integration's sources (a
    /// source's own timeout_ms wins): an interpreter-based plugin (Python)
    /// needs more per call than a Rust one.
    pub timeout_ms: Option<u64>,
    /// Overrides [plugins] memory_limit_mib for this integration's sources
    /// (a source's own memory_limit_mib wins).
    pub memory_limit_mib: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "PolicyInFile")]
pub struct EscalationPolicy {
    pub name: String,
    pub levels: Vec<EscalationLevel>,
    /// The file says `levels = ...` (`levels = []` too). A policy without
    /// levels pages nobody: refused unless written down on purpose.
    pub levels_written: bool,
    /// Further runs through the levels while nobody accepts (0: run once).
    pub repeat: u32,
    /// Minutes after the last level before a repeat starts again at level 0.
    pub repeat_after_minutes: u32,
    /// When low-urgency incidents page; without it they never do.
    pub working_hours: Option<super::noise::WorkingHours>,
}

/// A policy as written: `levels` absent and `levels = []` differ.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyInFile {
    name: String,
    levels: Option<Vec<EscalationLevel>>,
    #[serde(default)]
    repeat: u32,
    #[serde(default = "default_repeat_after")]
    repeat_after_minutes: u32,
    working_hours: Option<super::noise::WorkingHours>,
}

impl From<PolicyInFile> for EscalationPolicy {
    fn from(policy: PolicyInFile) -> Self {
        EscalationPolicy {
            name: policy.name,
            levels_written: policy.levels.is_some(),
            levels: policy.levels.unwrap_or_default(),
            repeat: policy.repeat,
            repeat_after_minutes: policy.repeat_after_minutes,
            working_hours: policy.working_hours,
        }
    }
}

/// Most repeats a policy may ask for: each pages everyone again.
pub const MAX_REPEAT: u32 = 100;

fn default_repeat_after() -> u32 {
    30
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    /// Minutes after the incident opens (or the previous level) to escalate.
    #[serde(default)]
    pub delay_minutes: u32,
    /// Targets: `person:NAME`, `schedule:NAME` or `channel:NAME`.
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
    /// Priorities whose incidents are low urgency: recorded, and paged
    /// only in the policy's `working_hours` (never without them). Every
    /// other incident is high urgency and pages at once.
    #[serde(default)]
    pub low_urgency: Vec<String>,
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
    /// Where the plugin's requests back to the sender go, and with which
    /// credentials (two-way integrations, `docs/two-way.md`). Without it
    /// the plugin is never asked to act back.
    pub outbound: Option<SourceOutbound>,
    /// A candidate plugin run beside the live one on every event, compared
    /// and never applied (`docs/plugin-guide.md`, "Upgrading a plugin
    /// safely").
    pub shadow: Option<SourceShadow>,
}

/// `[sources.shadow]`: the candidate and what it may use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceShadow {
    /// The candidate component, relative to the config file.
    pub plugin: PathBuf,
    /// The candidate's settings; the source's own when absent.
    pub settings: Option<toml::Table>,
    /// The shadow's time limit per call; the source's when absent.
    pub timeout_ms: Option<u64>,
    /// The shadow's memory limit per call; the source's when absent.
    pub memory_limit_mib: Option<usize>,
}

/// `[sources.outbound]`: the sender's API, as the operator allows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOutbound {
    /// The sender's API origin, e.g. `https://acme.zendesk.com`: every
    /// request goes there and nowhere else (validated to scheme, host and
    /// port only).
    pub url: String,
    #[serde(default)]
    pub auth: OutboundAuth,
    /// `basic`: the user name (Zendesk API tokens: `agent@example.com/token`).
    pub user: Option<String>,
    pub user_env: Option<String>,
    /// `basic` and `bearer`: the secret (resolved from `token_env`).
    pub token: Option<String>,
    pub token_env: Option<String>,
    /// One attempt's time limit, all its requests together.
    #[serde(default = "default_outbound_timeout")]
    pub timeout_ms: u64,
}

/// How the host authenticates to the sender's API: the plugin never sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboundAuth {
    #[default]
    None,
    Basic,
    Bearer,
}

fn default_outbound_timeout() -> u64 {
    10_000
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

/// An address ("10.1.2.3", "::1") or a network ("10.0.0.0/8") of
/// `server.trusted_proxies`; an address is a network of one.
pub fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| text.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}
