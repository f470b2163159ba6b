//! Re-reading the config file and its plugins while serving (SIGHUP or the
//! admin route).

use super::{AppState, Live};
use crate::config::Config;
use crate::telemetry;
use anyhow::Context;
use std::sync::Arc;

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
    let built = tokio::task::spawn_blocking(move || -> anyhow::Result<Live> {
        Live::build(Config::load(&file)?, store)
    })
    .await
    .context("the reload task failed")
    .and_then(|built| built);
    let previous = &current.config.file_sha256;
    let live = match built {
        Ok(live) => live,
        Err(error) => {
            telemetry::reloaded(previous, None);
            return Err(error);
        }
    };
    telemetry::reloaded(previous, Some(&live.config.file_sha256));
    let warnings = restart_only_changes(&current.config, &live.config);
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let report = ReloadReport { sources: live.config.sources.len(), warnings };
    live.log_sources();
    app.live.store(Arc::new(live));
    tracing::info!(sources = report.sources, "configuration reloaded");
    Ok(report)
}

/// Settings that changed but apply only after a restart.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
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
    warnings
}
