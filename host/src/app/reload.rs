//! Re-reading the config file and its plugins while serving (SIGHUP or the
//! admin route).

use super::audit::{self, Action};
use super::{AppState, Live};
use crate::config::Config;
use crate::store::{ChangeSet, Write};
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
/// `by` is who asked (`token ops`, `signal SIGHUP`), for the audit trail.
pub async fn reload(app: &Arc<AppState>, by: &Requester) -> anyhow::Result<ReloadReport> {
    let _one_at_a_time = app.reloading.lock().await;
    let current = app.live.load_full();
    let file = current.config.file.clone();
    let store = app.store.clone();
    let built = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let config = Config::load(&file)?;
        let cache = super::plugin_cache_dir(&config);
        let notify_setup = crate::notify::Notify::setup(&config, Some(&cache))?;
        Ok((Live::build(config, store)?, notify_setup))
    })
    .await
    .context("the reload task failed")
    .and_then(|built| built);
    let previous = &current.config.file_sha256;
    let (mut live, mut notify_setup) = match built {
        Ok(built) => built,
        Err(error) => {
            telemetry::reloaded(previous, None);
            let detail = format!("refused; config {} keeps serving: {error:#}", short(previous));
            app.audit_now(by.entry(Action::Reload, detail)).await;
            return Err(error);
        }
    };
    telemetry::reloaded(previous, Some(&live.config.file_sha256));
    let warnings = restart_only_changes(&current.config, &live.config);
    keep_restart_only_settings(&current.config, &mut live.config);
    if live.config.server.tls.is_none() || live.tls_key.is_none() {
        // TLS was switched on or off: that waits for a restart.
        live.tls_key = current.tls_key.clone();
    }
    if let (Some(certificates), Some(key)) = (&app.certificates, &live.tls_key) {
        // New connections get the certificate just read (a renewal).
        certificates.replace(key.clone());
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let report = ReloadReport { sources: live.config.sources.len(), warnings };
    live.log_sources();
    let signed_out = people_whose_access_changed(&current.config, &live.config);
    let removed: Vec<String> = current
        .config
        .people
        .iter()
        .filter(|person| live.config.person(&person.name).is_none())
        .map(|person| person.name.clone())
        .collect();
    let detail = format!(
        "config {} -> {}{}",
        short(previous),
        short(&live.config.file_sha256),
        if signed_out.is_empty() {
            String::new()
        } else {
            format!("; signed out (role changed or removed): {}", signed_out.join(", "))
        }
    );
    end_sessions_of(app, &signed_out, &removed).await;
    app.audit_now(by.entry(Action::Reload, detail)).await;
    notify_setup.senders = Some(live.senders());
    app.live.store(Arc::new(live));
    app.notify.reload(notify_setup);
    tracing::info!(sources = report.sources, "configuration reloaded");
    Ok(report)
}

/// Who asked for a reload.
pub struct Requester {
    pub actor: String,
    pub client: Option<std::net::IpAddr>,
}

impl Requester {
    fn entry(&self, action: Action, detail: String) -> audit::Entry {
        audit::Entry::new(self.actor.clone(), action, self.client, detail)
    }
}

/// The first 12 hex digits of a config digest: enough to tell versions apart.
fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

/// People removed from the config or given another role: their sessions
/// end. (Each request checks its session against the live config anyway;
/// deleting them also stops a role changed back from reviving them.)
fn people_whose_access_changed(old: &Config, new: &Config) -> Vec<String> {
    old.people
        .iter()
        .filter(|person| {
            !new.people.iter().any(|now| now.name == person.name && now.role == person.role)
        })
        .map(|person| person.name.clone())
        .collect()
}

/// Ends the sessions of `people`; forgets the `removed` altogether
/// (password, feed key), so a newcomer given a removed name starts afresh.
async fn end_sessions_of(app: &AppState, people: &[String], removed: &[String]) {
    if people.is_empty() {
        return;
    }
    let writes = people
        .iter()
        .map(|person| match removed.contains(person) {
            true => Write::ForgetPerson { person: person.clone() },
            false => Write::DeleteSessionsOf { person: person.clone() },
        })
        .collect();
    if let Err(error) = app.store.commit(ChangeSet { reads: Vec::new(), writes }).await {
        tracing::warn!("could not end the sessions of {}: {error}", people.join(", "));
    }
}

/// Settings that changed but apply only after a restart. `old` holds the
/// values in effect (see [`keep_restart_only_settings`]), so changing one
/// back to what is running warns no more.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    if old.resolve(&old.storage.path) != new.resolve(&new.storage.path) {
        warnings.push(
            "storage.path changed: the host keeps the database it opened until it is restarted"
                .to_string(),
        );
    }
    let ca_file =
        |config: &Config| config.storage.ca_file.as_ref().map(|file| config.resolve(file));
    if (old.storage.backend, &old.storage.url, ca_file(old))
        != (new.storage.backend, &new.storage.url, ca_file(new))
    {
        warnings.push(
            "storage.backend, storage.url or storage.ca_file changed: the host keeps the database it connected to until it is restarted"
                .to_string(),
        );
    }
    if old.storage.cache_mib != new.storage.cache_mib {
        warnings.push(
            "storage.cache_mib changed: the database keeps its cache size until the host is restarted"
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
    if old.server.tls.is_some() != new.server.tls.is_some() {
        warnings.push(
            "server.tls was added or removed: the host keeps serving as it does (HTTP or HTTPS) until it is restarted"
                .to_string(),
        );
    }
    warnings
}

/// The live config says what is in effect: the settings that need a restart
/// keep their running values until then (so the next reload compares with
/// those, and webhook URLs derived from `listen` stay the ones served).
fn keep_restart_only_settings(running: &Config, new: &mut Config) {
    new.storage.path = running.resolve(&running.storage.path);
    new.storage.cache_mib = running.storage.cache_mib;
    new.storage.backend = running.storage.backend;
    new.storage.url = running.storage.url.clone();
    new.storage.ca_file = running.storage.ca_file.as_ref().map(|file| running.resolve(file));
    new.server.listen = running.server.listen.clone();
    new.server.header_limit_bytes = running.server.header_limit_bytes;
    new.server.header_read_timeout_ms = running.server.header_read_timeout_ms;
    if running.server.tls.is_some() != new.server.tls.is_some() {
        new.server.tls = running.server.tls.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(storage: &str) -> Config {
        Config::parse(std::path::Path::new("config.toml"), &format!("[storage]\n{storage}\n"))
            .expect("valid config")
    }

    #[test]
    fn a_changed_cache_size_warns_until_the_restart() {
        let running = config("cache_mib = 32");
        let mut new = config("cache_mib = 64");
        let warnings = restart_only_changes(&running, &new);
        assert!(warnings.iter().any(|w| w.contains("storage.cache_mib")), "{warnings:?}");
        keep_restart_only_settings(&running, &mut new);
        assert_eq!(new.storage.cache_mib, 32, "the running size stays in effect");
        assert!(restart_only_changes(&running, &new).is_empty());
    }
}
