//! The running application: the store, and everything one version of the
//! config decides (the [`Live`] state), built once from a [`Config`] and
//! swapped whole on reload.
//!
//! HTTP handlers read the live state; nothing here knows about HTTP.

pub mod audit;
mod authenticate;
pub mod calendar;
mod clients;
mod failed_auth;
mod limits;
pub mod maintenance;
pub mod oidc;
pub mod oncall;
pub mod passwords;
mod reload;
pub mod replies;
pub mod signature;
pub mod source_settings;
pub mod tls;
mod tokens;
mod webhook_source;

pub use authenticate::Refused;
pub use clients::{ClientRateLimit, ClientRateLimited, TrustedProxies};
pub use failed_auth::{FailedAuth, TooManyFailedAttempts};
pub use limits::{OVERLOADED_RETRY_AFTER, Overloaded, RateLimit, RateLimited, WebhookGate};
pub use reload::{ReloadReport, Requester, reload};
pub use tokens::{Caller, CallerKind, Tokens, digest_hex};
pub use webhook_source::{UnknownSource, WebhookSource, WebhookSources};

use crate::config::{Config, OnPluginFailure};
use crate::ingest::{EventLogOptions, FailurePolicy, Ingest, Shadow, Source, StorageBudget};
use crate::plugin::{CallLimits, EngineSettings, PluginHost};
use crate::store::Store;
use anyhow::Context;
use arc_swap::ArcSwap;
use signature::Signing;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach.
pub struct AppState {
    /// Opened once; a new storage path needs a restart.
    pub store: Arc<Store>,
    /// Everything the config decides, swapped whole on reload. A request
    /// keeps the version it started with until it is answered.
    pub live: ArcSwap<Live>,
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<&'static metrics_exporter_prometheus::PrometheusHandle>,
    /// Serializes reloads (SIGHUP and the admin route).
    pub reloading: tokio::sync::Mutex<()>,
    /// Escalations and the notification outbox; lives across reloads.
    pub notify: Arc<crate::notify::Notify>,
    /// Set to true when shutdown begins: ends the web console's live
    /// streams, which graceful shutdown would otherwise wait for.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// The certificate new TLS connections are offered, replaced on reload;
    /// `None` when the host serves plain HTTP.
    pub certificates: Option<Arc<tls::Certificates>>,
}

/// The state built from one version of the config.
pub struct Live {
    pub config: Config,
    pub ingest: Ingest,
    pub sources: WebhookSources,
    pub gate: WebhookGate,
    pub tokens: Tokens,
    pub body_limit: usize,
    pub body_read_timeout: Duration,
    pub request_timeout: Duration,
    /// Webhooks are refused below this much free space (`storage.min_free_mib`).
    pub min_free_bytes: u64,
    /// Whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Webhooks per client address (`server.client_rate_limit_per_second`).
    pub client_rate: Option<ClientRateLimit>,
    /// `[server.tls]`'s certificate and key as read for this version.
    pub tls_key: Option<Arc<rustls::sign::CertifiedKey>>,
    /// Failed token attempts per client (`api.failed_auth_per_minute`);
    /// counted afresh after a reload. Read through [`Live::authenticate`].
    pub failed_auth: Option<FailedAuth>,
    /// Sign-in through `[ui.oidc]`'s provider, when configured.
    pub oidc: Option<oidc::Oidc>,
}

/// The database's filesystem has less free space than `storage.min_free_mib`.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "the database's disk has {free_mib} MiB free, under the {floor_mib} MiB floor (storage.min_free_mib); nothing was stored, retry"
)]
pub struct StorageFull {
    pub free_mib: u64,
    pub floor_mib: u64,
}

impl Live {
    /// `Err` while the database's filesystem is under the free-space floor.
    pub fn check_free_space(&self) -> Result<(), StorageFull> {
        let store = &self.ingest.store;
        match store.free_bytes() {
            Some(free) if free < self.min_free_bytes => {
                Err(StorageFull { free_mib: free >> 20, floor_mib: self.min_free_bytes >> 20 })
            }
            _ => Ok(()),
        }
    }

    /// Loads every plugin and builds the sources of `config`. Blocking:
    /// plugins are compiled here, never on the request path.
    pub fn build(config: Config, store: Arc<Store>) -> anyhow::Result<Live> {
        let plugins = load_plugins(&config)?;
        source_settings::check(&config, &plugins)?;
        let mut sources = WebhookSources::default();
        for source in &config.sources {
            sources.add(WebhookSource {
                source: Arc::new(ingest_source(&config, source)?),
                signing: source.signing_secret.as_deref().map(|secret| {
                    Signing::new(secret, Duration::from_secs(source.signature_window_seconds))
                }),
                rate: RateLimit::for_source(source),
            });
        }
        let ingest = Ingest::new(
            store,
            Arc::new(plugins),
            EventLogOptions {
                body_cap: config.storage.event_body_cap_bytes,
                count_repeats: config.storage.count_repeated_events,
            },
            config.plugins.max_concurrent_calls as usize,
        );
        let server = &config.server;
        let trusted_proxies = server
            .trusted_proxies
            .iter()
            .map(|proxy| {
                crate::config::parse_network(proxy)
                    .with_context(|| format!("server.trusted_proxies: {proxy:?} is not a network"))
            })
            .collect::<anyhow::Result<_>>()?;
        let tls_key = tls::load(&config)?;
        let oidc = match &config.ui.oidc {
            Some(settings) => Some(oidc::Oidc::new(settings.clone(), &config.public_url())?),
            None => None,
        };
        Ok(Live {
            oidc,
            trusted_proxies: TrustedProxies::new(trusted_proxies),
            client_rate: ClientRateLimit::new(
                server.client_rate_limit_per_second,
                server.client_rate_limit_burst,
            ),
            tls_key,
            failed_auth: FailedAuth::new(config.api.failed_auth_per_minute),
            gate: WebhookGate::new(server.max_concurrent_webhooks),
            tokens: Tokens::new(&config.api.tokens),
            body_limit: server.body_limit_bytes,
            body_read_timeout: Duration::from_millis(server.body_read_timeout_ms),
            request_timeout: Duration::from_millis(server.request_timeout_ms),
            min_free_bytes: config.storage.min_free_mib << 20,
            ingest,
            sources,
            config,
        })
    }

    /// What the notify service needs to act back on senders: this
    /// version's plugins and sources.
    pub fn senders(&self) -> crate::notify::senders::Senders {
        crate::notify::senders::Senders::new(
            &self.config,
            self.ingest.plugins.clone(),
            self.ingest.calls.clone(),
            self.sources.all(),
        )
    }

    /// Warns about example secrets (on loopback; elsewhere they are
    /// refused), policies that page nobody and a missing API token.
    pub fn log_sources(&self) {
        for source in &self.config.sources {
            tracing::info!(source = %source.name, integration = %source.integration, "webhook ready");
        }
        for warning in self.config.warnings() {
            tracing::warn!("{warning}");
        }
        for source in self.config.sources.iter().filter(|source| source.outbound.is_some()) {
            let version = self.ingest.plugins.plugin(&source.integration).map(|p| p.api_version());
            if let Some(version) = version.filter(|v| *v < crate::plugin::ApiVersion::V0_5_0) {
                tracing::warn!(
                    source = %source.name,
                    "the source has [sources.outbound], but its plugin is built against inbound:plugin@{version}, before the outbound export: nothing will be sent back; rebuild it against plugin API 0.5.0 or remove the table"
                );
            }
        }
        if self.tokens.is_empty() {
            tracing::warn!(
                "no [[api.tokens]] configured: the incidents API, /metrics and reload answer 401 to everyone; add a token (docs/configuration.md)"
            );
        }
    }
}

/// The engine, sized for the most demanding source, with every integration's
/// plugin compiled (or loaded from the cache).
fn load_plugins(config: &Config) -> anyhow::Result<PluginHost> {
    let engine_settings = EngineSettings {
        max_concurrent_calls: config.plugins.max_concurrent_calls,
        max_memory_bytes: config.largest_memory_limit_mib() << 20,
    };
    let mut plugins = PluginHost::new(&engine_settings)?;
    tracing::info!(allocator = ?plugins.allocator, "WebAssembly engine ready");
    let cache_dir = plugin_cache_dir(config);
    for (name, integration) in &config.integrations {
        let started = std::time::Instant::now();
        let outcome = plugins.load(name, &config.resolve(&integration.plugin), Some(&cache_dir))?;
        let ms = started.elapsed().as_millis() as u64;
        tracing::info!(integration = %name, cache = ?outcome, ms, "plugin loaded");
    }
    Ok(plugins)
}

fn ingest_source(config: &Config, source: &crate::config::SourceConfig) -> anyhow::Result<Source> {
    let settings_json = serde_json::to_string(&source.settings).with_context(|| {
        format!("the settings of source {:?} cannot be turned into JSON", source.name)
    })?;
    let plugins = &config.plugins;
    Ok(Source {
        limits: call_limits(config, source),
        name: source.name.clone(),
        integration: source.integration.clone(),
        escalation_policy: source.escalation_policy.clone(),
        key: source.key().to_string(),
        storage_budget: StorageBudget::new(plugins.stored_mib_per_minute).map(Arc::new),
        on_failure: match source.on_plugin_failure {
            OnPluginFailure::Retry => {
                FailurePolicy::Retry { after_seconds: source.retry_after_seconds }
            }
            OnPluginFailure::Accept => FailurePolicy::Accept,
        },
        shadow: load_shadow(config, source, &settings_json, Some(&plugin_cache_dir(config)))?
            .map(Arc::new),
        settings_json,
    })
}

/// The source's `[sources.shadow]` candidate, compiled in its own engine and
/// judged on its settings as the live plugin is: a shadow that cannot load
/// stops the start (or the reload) like a live plugin would; `inbound check`
/// loads it the same way.
pub fn load_shadow(
    config: &Config,
    source: &crate::config::SourceConfig,
    live_settings: &str,
    cache_dir: Option<&std::path::Path>,
) -> anyhow::Result<Option<Shadow>> {
    let Some(shadow) = &source.shadow else { return Ok(None) };
    let settings = match &shadow.settings {
        Some(table) => serde_json::to_string(table)?,
        None => live_settings.to_string(),
    };
    let mut limits = call_limits(config, source);
    if let Some(ms) = shadow.timeout_ms {
        anyhow::ensure!(
            (1..=60_000).contains(&ms),
            "source {:?}: [sources.shadow] timeout_ms must be 1 to 60000",
            source.name
        );
        limits.timeout = Duration::from_millis(ms);
    }
    if let Some(mib) = shadow.memory_limit_mib {
        anyhow::ensure!(
            (1..=4096).contains(&mib),
            "source {:?}: [sources.shadow] memory_limit_mib must be 1 to 4096",
            source.name
        );
        limits.memory_bytes = mib << 20;
    }
    let file = config.resolve(&shadow.plugin);
    let loaded = Shadow::load(&source.name, &file, settings, limits, cache_dir)
        .with_context(|| format!("source {:?}: [sources.shadow] cannot be loaded", source.name))?;
    let (host, plugin, limits) = loaded.loaded();
    let table: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(loaded.settings_json()).unwrap_or_default();
    host.check_settings(plugin, &table, limits).map_err(|refused| {
        anyhow::anyhow!(
            "source {:?}: the shadow plugin {} refuses its settings: {refused}",
            source.name,
            file.display()
        )
    })?;
    tracing::info!(source = %source.name, plugin = %file.display(), "shadow plugin loaded: compared on every event, never applied");
    Ok(Some(loaded))
}

/// What one call of `source`'s plugin may use: its own limits, else its
/// integration's, else `[plugins]`.
pub fn call_limits(config: &Config, source: &crate::config::SourceConfig) -> CallLimits {
    let plugins = &config.plugins;
    CallLimits {
        timeout: Duration::from_millis(config.timeout_ms_of(source)),
        memory_bytes: config.memory_limit_mib_of(source) << 20,
        max_state_bytes_per_source: plugins.state_limit_bytes,
        max_stored_bytes_per_call: plugins.stored_bytes_per_call,
        ..CallLimits::default()
    }
}

/// Compiled plugins are cached next to the database: same owner, same backups.
pub fn plugin_cache_dir(config: &Config) -> PathBuf {
    let database = config.resolve(&config.storage.path);
    database.parent().unwrap_or(std::path::Path::new(".")).join("plugin-cache")
}
