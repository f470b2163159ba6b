//! Wiring: config -> storage, plugins, sources -> a running HTTP server;
//! signals: SIGTERM/SIGINT stop it cleanly, SIGHUP reloads the config.

mod connections;

use crate::config::Config;
use crate::config::OnPluginFailure;
use crate::http::{self, AppState, Live};
use crate::ingest::{FailurePolicy, Ingest, Source};
use crate::plugin::{CallLimits, EngineSettings, PluginHost};
use crate::store::{Store, WriterOptions};
use crate::telemetry;
use anyhow::Context;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Opens storage, loads every plugin, and serves until SIGINT or SIGTERM.
/// In-flight requests finish and their commits complete before it returns.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let metrics = telemetry::install().context("cannot start the metrics recorder")?;
    let path = config.resolve(&config.storage.path);
    let store = Arc::new(Store::open(&path, WriterOptions::default(), telemetry::batch)?);
    let live = build_live(config, store.clone())?;
    let listen = live.config.server.listen.clone();
    // Connection limits apply to the listener, so a reload cannot change them.
    let limits = connections::ConnectionLimits {
        header_limit_bytes: live.config.server.header_limit_bytes,
        header_read_timeout: Duration::from_millis(live.config.server.header_read_timeout_ms),
    };
    log_sources(&live);
    let app = Arc::new(AppState {
        store,
        live: ArcSwap::from_pointee(live),
        metrics: Some(metrics),
        reloading: tokio::sync::Mutex::new(()),
        stopping: tokio::sync::watch::Sender::new(false),
    });
    // Before "listening" is logged: from then on a SIGHUP must reload, not
    // end the process (the default action).
    let reloader = tokio::spawn(reload_on_hangup(app.clone(), hangup_signal()?));
    let shutdown = shutdown_signal()?;
    let stopping = app.stopping.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.send_replace(true);
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (server.listen)"))?;
    let address = listener.local_addr()?;
    tracing::info!("listening on http://{address}");
    connections::serve(listener, http::router(app.clone()), limits, shutdown).await;
    reloader.abort();
    let _ = reloader.await;
    tracing::info!("stopped accepting requests; finishing storage writes");
    // Every request has been answered, so each commit it waited for is on
    // disk already; closing only waits for the writer thread to end.
    if let Ok(app) = Arc::try_unwrap(app) {
        let AppState { store, live, .. } = app;
        drop(live);
        if let Ok(store) = Arc::try_unwrap(store) {
            store.close();
        }
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Loads every plugin and builds the sources of `config`. Blocking: plugins
/// are compiled here, never on the request path.
pub fn build_live(config: Config, store: Arc<Store>) -> anyhow::Result<Live> {
    let largest_memory_mib = config
        .sources
        .iter()
        .filter_map(|source| source.memory_limit_mib)
        .chain([config.plugins.memory_limit_mib])
        .max()
        .unwrap_or(config.plugins.memory_limit_mib);
    let engine_settings = EngineSettings {
        max_concurrent_calls: config.plugins.max_concurrent_calls,
        max_memory_bytes: largest_memory_mib << 20,
    };
    let mut plugins = PluginHost::new(&engine_settings)?;
    tracing::info!(allocator = ?plugins.allocator, "WebAssembly engine ready");
    let cache_dir = plugin_cache_dir(&config);
    for (name, integration) in &config.integrations {
        let started = std::time::Instant::now();
        let outcome = plugins.load(name, &config.resolve(&integration.plugin), Some(&cache_dir))?;
        tracing::info!(integration = %name, cache = ?outcome, ms = started.elapsed().as_millis() as u64, "plugin loaded");
    }
    let mut sources: HashMap<String, Vec<Arc<Source>>> = HashMap::new();
    for source in &config.sources {
        let settings_json = serde_json::to_string(&source.settings).with_context(|| {
            format!("the settings of source {:?} cannot be turned into JSON", source.name)
        })?;
        sources.entry(source.integration.clone()).or_default().push(Arc::new(Source {
            name: source.name.clone(),
            integration: source.integration.clone(),
            escalation_policy: source.escalation_policy.clone(),
            key: source.key().to_string(),
            settings_json,
            limits: CallLimits {
                timeout: Duration::from_millis(
                    source.timeout_ms.unwrap_or(config.plugins.timeout_ms),
                ),
                memory_bytes: source.memory_limit_mib.unwrap_or(config.plugins.memory_limit_mib)
                    << 20,
                max_state_bytes_per_source: config.plugins.state_limit_bytes,
                ..CallLimits::default()
            },
            on_failure: match source.on_plugin_failure {
                OnPluginFailure::Retry => {
                    FailurePolicy::Retry { after_seconds: source.retry_after_seconds }
                }
                OnPluginFailure::Accept => FailurePolicy::Accept,
            },
        }));
    }
    let ingest = Ingest::new(
        store,
        Arc::new(plugins),
        config.storage.event_body_cap_bytes,
        config.plugins.max_concurrent_calls as usize,
    );
    Ok(Live::new(config, ingest, sources))
}

fn log_sources(live: &Live) {
    for source in &live.config.sources {
        tracing::info!(source = %source.name, integration = %source.integration, "webhook ready");
        if source.key().contains("change-me") {
            tracing::warn!(source = %source.name, "this source still has the example key; replace it (`openssl rand -hex 16`) before exposing the host");
        }
    }
    for token in &live.config.api.tokens {
        if token.token.as_deref().is_some_and(|t| t.contains("change-me")) {
            tracing::warn!(token = %token.name, "this API token is still the example one; replace it before exposing the host");
        }
    }
    if live.tokens.is_empty() {
        tracing::warn!(
            "no [[api.tokens]] configured: the incidents API, /metrics and reload answer 401 to everyone; add a token (docs/configuration.md)"
        );
    }
}

/// What a successful reload changed, and what it could not.
pub struct ReloadReport {
    pub sources: usize,
    /// Settings that only take effect after a restart.
    pub warnings: Vec<String>,
}

/// Re-reads the config file and its plugins and swaps them in. Requests in
/// flight finish with the version they started with; new ones get the new
/// one. On any error nothing changes.
pub async fn reload(app: &Arc<AppState>) -> anyhow::Result<ReloadReport> {
    let _one_at_a_time = app.reloading.lock().await;
    let current = app.live.load_full();
    let file = current.config.file.clone();
    let store = app.store.clone();
    let live = tokio::task::spawn_blocking(move || -> anyhow::Result<Live> {
        let config = Config::load(&file)?;
        build_live(config, store)
    })
    .await
    .context("the reload task failed")??;
    let mut warnings = Vec::new();
    let (old, new) = (&current.config, &live.config);
    if old.resolve(&old.storage.path) != new.resolve(&new.storage.path) {
        warnings.push(
            "storage.path changed: the host keeps the database it opened until it is restarted"
                .to_string(),
        );
    }
    if old.server.listen != new.server.listen {
        warnings.push(
            "server.listen changed: the host keeps listening where it is until it is restarted"
                .to_string(),
        );
    }
    let (old_server, new_server) = (&old.server, &new.server);
    if (old_server.header_limit_bytes, old_server.header_read_timeout_ms)
        != (new_server.header_limit_bytes, new_server.header_read_timeout_ms)
    {
        warnings.push(
            "server.header_limit_bytes or server.header_read_timeout_ms changed: they apply to the listener and take effect after a restart"
                .to_string(),
        );
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let report = ReloadReport { sources: live.config.sources.len(), warnings };
    log_sources(&live);
    app.live.store(Arc::new(live));
    tracing::info!(sources = report.sources, "configuration reloaded");
    Ok(report)
}

#[cfg(unix)]
type Hangup = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangup = ();

fn hangup_signal() -> anyhow::Result<Hangup> {
    #[cfg(unix)]
    return tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot listen for SIGHUP");
    #[cfg(not(unix))]
    Ok(())
}

async fn reload_on_hangup(app: Arc<AppState>, mut hangup: Hangup) {
    #[cfg(unix)]
    while hangup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the configuration");
        if let Err(error) = reload(&app).await {
            tracing::error!("configuration refused, the previous one keeps serving: {error:#}");
        }
    }
    #[cfg(not(unix))]
    let _ = (app, &mut hangup);
}

/// Compiled plugins are cached next to the database: same owner, same backups.
fn plugin_cache_dir(config: &Config) -> std::path::PathBuf {
    let database = config.resolve(&config.storage.path);
    database.parent().unwrap_or(std::path::Path::new(".")).join("plugin-cache")
}

/// Registers the SIGINT and SIGTERM handlers now and returns a future that
/// completes on either. Registered before "listening" is logged: a signal
/// sent as soon as the host is up must stop it cleanly, not kill it.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutdown requested");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested");
    })
}
