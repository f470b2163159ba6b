//! Wiring: config -> storage, plugins, sources -> a running HTTP server.

use crate::config::Config;
use crate::http::{self, AppState};
use crate::config::OnPluginFailure;
use crate::ingest::{FailurePolicy, Ingest, Source};
use crate::plugin::{CallLimits, EngineSettings, PluginHost};
use crate::store::{Store, WriterOptions};
use anyhow::Context;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Opens storage, loads every plugin, and serves until SIGINT or SIGTERM.
/// In-flight requests finish and their commits complete before it returns.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Arc::new(build_state(&config)?);
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {} (server.listen)", config.server.listen))?;
    let address = listener.local_addr()?;
    tracing::info!("listening on http://{address}");
    for source in &config.sources {
        tracing::info!(source = %source.name, integration = %source.integration, "webhook ready");
    }
    axum::serve(listener, http::router(app.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    tracing::info!("stopped accepting requests; finishing storage writes");
    if let Ok(app) = Arc::try_unwrap(app) {
        if let Ok(store) = Arc::try_unwrap(app.ingest.store) {
            store.close();
        }
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

pub fn build_state(config: &Config) -> anyhow::Result<AppState> {
    let store = Store::open(&config.resolve(&config.storage.path), WriterOptions::default(), |_| {})?;
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
    let cache_dir = plugin_cache_dir(config);
    for (name, integration) in &config.integrations {
        let started = std::time::Instant::now();
        let outcome = plugins.load(name, &config.resolve(&integration.plugin), Some(&cache_dir))?;
        tracing::info!(integration = %name, cache = ?outcome, ms = started.elapsed().as_millis() as u64, "plugin loaded");
    }
    let mut sources: HashMap<String, Vec<Arc<Source>>> = HashMap::new();
    for source in &config.sources {
        let settings_json = serde_json::to_string(&source.settings)
            .with_context(|| format!("the settings of source {:?} cannot be turned into JSON", source.name))?;
        sources.entry(source.integration.clone()).or_default().push(Arc::new(Source {
            name: source.name.clone(),
            integration: source.integration.clone(),
            escalation_policy: source.escalation_policy.clone(),
            key: source.key.clone(),
            settings_json,
            limits: CallLimits {
                timeout: Duration::from_millis(source.timeout_ms.unwrap_or(config.plugins.timeout_ms)),
                memory_bytes: source.memory_limit_mib.unwrap_or(config.plugins.memory_limit_mib) << 20,
                max_state_bytes_per_source: config.plugins.state_limit_bytes,
                ..CallLimits::default()
            },
            on_failure: match source.on_plugin_failure {
                OnPluginFailure::Retry => FailurePolicy::Retry { after_seconds: source.retry_after_seconds },
                OnPluginFailure::Accept => FailurePolicy::Accept,
            },
        }));
    }
    Ok(AppState {
        ingest: Ingest::new(
            Arc::new(store),
            Arc::new(plugins),
            config.storage.event_body_cap_bytes,
            config.plugins.max_concurrent_calls as usize,
        ),
        sources,
        body_limit: config.server.body_limit_bytes,
    })
}

/// Compiled plugins are cached next to the database: same owner, same backups.
fn plugin_cache_dir(config: &Config) -> std::path::PathBuf {
    let database = config.resolve(&config.storage.path);
    database.parent().unwrap_or(std::path::Path::new(".")).join("plugin-cache")
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on Unix");
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutdown requested");
}
