//! `inbound check` beyond the file itself: what `inbound serve` would refuse
//! at start-up, or every webhook would then fail on, found beforehand and
//! named by file, line and key with the fix.
//!
//! - The storage path: the database can be opened or created there.
//! - `[server.tls]`: the certificate and key read, and the key fits.
//! - Each integration's plugin: WebAssembly, a component (not a core
//!   module), of the `inbound:plugin` world, loaded exactly as `serve` does.
//! - Each source's settings, judged by its own plugin. A plugin of API 0.3.0
//!   or later says what it accepts (`about`): the same check `serve` makes
//!   at start-up (`app::source_settings`). An older plugin cannot say, so it
//!   gets one call with the settings, no headers and an empty body, against
//!   an empty temporary database whose changes are never kept: a rejection
//!   with `invalid-settings` fails the check with its message; any other
//!   answer passes (an empty body is not a webhook, so most plugins reject
//!   it for that).
//! - Each channel's notifier: loaded, and refusing no sample notification
//!   for a missing signing secret or bad settings (`notifiers`).

mod notifiers;

use crate::config::{Config, ConfigError};
use crate::plugin::{ApiVersion, CallError, EngineSettings, PluginHost, PluginRequest};
use crate::store::{Session, SourceScope, Store, StoreOptions, now_millis};
use std::path::Path;
use std::sync::Arc;

/// What passed, for the command to print.
pub struct Checked {
    /// Integration name, plugin path and API version, in config order.
    pub plugins: Vec<(String, String, ApiVersion)>,
    /// What works but is likely not what was meant (a throttle on a channel
    /// whose notifier has no digests).
    pub warnings: Vec<String>,
    /// Days the certificate of `[server.tls]` is still valid, if TLS is on.
    pub tls_days_left: Option<i64>,
}

pub fn check(config: &Config) -> Result<Checked, ConfigError> {
    check_storage(config)?;
    let tls = crate::app::tls::load(config).map_err(|error| {
        config.error_at(
            "server.tls",
            "server.tls",
            format!("{error}; give a matching PEM certificate and key"),
        )
    })?;
    let tls_days_left =
        tls.as_deref().and_then(crate::app::tls::expires_at).map(crate::app::tls::days_left);
    if let Some(days) = tls_days_left.filter(|days| *days < 0) {
        return Err(config.error_at(
            "server.tls.cert",
            "server.tls.cert",
            format!("the certificate expired {} days ago: every sender would refuse the connection; renew it", -days),
        ));
    }
    // A certificate made for tomorrow (a clock or a renewal gone wrong)
    // fails every handshake until then, like an expired one.
    if let Some(days) = tls
        .as_deref()
        .and_then(crate::app::tls::valid_from)
        .map(crate::app::tls::days_left)
        .filter(|days| *days > 0)
    {
        return Err(config.error_at(
            "server.tls.cert",
            "server.tls.cert",
            format!("the certificate is not valid for another {days} days: every sender would refuse the connection until then; check the clock or the certificate"),
        ));
    }
    let engine = EngineSettings {
        max_concurrent_calls: 4,
        max_memory_bytes: config.largest_memory_limit_mib() << 20,
    };
    let mut plugins = PluginHost::new(&engine).map_err(|error| {
        config.error_at(
            "plugins",
            "plugins",
            format!("cannot start the WebAssembly engine: {error:#}"),
        )
    })?;
    // The compiled-plugin cache `serve` keeps, when it exists and is this
    // user's: a large (Python, JavaScript) plugin then loads in
    // milliseconds, not seconds. `check` never creates the folder, and
    // never writes into another user's (root checking the service's config
    // would leave files the service cannot read).
    let cache = crate::app::plugin_cache_dir(config);
    let cache = owned_folder(&cache).then_some(cache.as_path());
    let mut loaded = Vec::new();
    for (name, integration) in &config.integrations {
        let path = config.resolve(&integration.plugin);
        let key = format!("integrations.{name}.plugin");
        plugins
            .load(name, &path, cache)
            .map_err(|error| config.error_at(&key, &key, format!("{error:#}")))?;
        let version = plugins.plugin(name).expect("just loaded").api_version();
        loaded.push((name.clone(), path.display().to_string(), version));
    }
    crate::app::source_settings::check(config, &plugins)?;
    for (index, source) in config.sources.iter().enumerate() {
        let settings = serde_json::to_string(&source.settings).unwrap_or_else(|_| "{}".into());
        if let Err(error) = crate::app::load_shadow(config, source, &settings, cache) {
            let key = format!("sources[{index}].shadow.plugin");
            return Err(config.error_at(&key, &key, format!("{error:#}")));
        }
    }
    probe_settings_of_older_plugins(config, &plugins)?;
    let warnings = notifiers::check(config, cache)?;
    Ok(Checked { plugins: loaded, tls_days_left, warnings })
}

/// `path` is a folder owned by the user running this process.
fn owned_folder(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .is_ok_and(|folder| folder.is_dir() && folder.uid() == rustix::process::geteuid().as_raw())
}

/// The database file, or the folder `serve` would create it in, must be
/// writable. Probed without leaving anything behind. A PostgreSQL URL must
/// parse (the server is not contacted: `check` runs anywhere).
fn check_storage(config: &Config) -> Result<(), ConfigError> {
    if let Some(options) = crate::store::PostgresOptions::of(config) {
        let key = if config.storage.url_env.is_some() { "storage.url_env" } else { "storage.url" };
        options.config().map_err(|error| config.error_at(key, key, error.to_string()))?;
        // Reads storage.ca_file, so a missing or unusable one is found here.
        return options.target().map(drop).map_err(|error| {
            config.error_at("storage.ca_file", "storage.ca_file", format!("{error:#}"))
        });
    }
    let path = config.resolve(&config.storage.path);
    let refuse = |problem: String| {
        config.error_at(
            "storage.path",
            "storage.path",
            format!("{problem}; make it writable for the user running inbound, or choose another storage.path"),
        )
    };
    if path.is_dir() {
        return Err(refuse(format!("{} is a folder, not a database file", path.display())));
    }
    if path.exists() {
        return std::fs::OpenOptions::new().read(true).write(true).open(&path).map(drop).map_err(
            |error| refuse(format!("cannot open {} for writing: {error}", path.display())),
        );
    }
    // `serve` creates the missing folders: the nearest existing one must take files.
    let mut folder = path.parent().unwrap_or(Path::new("."));
    while !folder.exists() {
        folder = folder.parent().unwrap_or(Path::new("."));
    }
    if !folder.is_dir() {
        return Err(refuse(format!(
            "{} is not a folder, so the database {} cannot be created",
            folder.display(),
            path.display()
        )));
    }
    tempfile::tempfile_in(folder)
        .map(drop)
        .map_err(|error| refuse(format!("cannot create files in {}: {error}", folder.display())))
}

fn probe_settings_of_older_plugins(
    config: &Config,
    plugins: &PluginHost,
) -> Result<(), ConfigError> {
    let says_what_it_accepts = |integration: &str| {
        plugins.plugin(integration).is_some_and(|p| p.api_version() >= ApiVersion::V0_3_0)
    };
    if config.sources.iter().all(|source| says_what_it_accepts(&source.integration)) {
        return Ok(());
    }
    let dir = tempfile::tempdir().map_err(|error| {
        config.error_at(
            "sources",
            "sources",
            format!("cannot create a temporary folder to check the sources' settings: {error}"),
        )
    })?;
    let store = Store::open(&dir.path().join("check.redb"), StoreOptions::default(), |_| {})
        .map(Arc::new)
        .map_err(|error| config.error_at("sources", "sources", format!("{error:#}")))?;
    for (index, source) in config.sources.iter().enumerate() {
        let Some(plugin) = plugins.plugin(&source.integration) else { continue };
        if says_what_it_accepts(&source.integration) {
            continue;
        }
        let settings = serde_json::to_string(&source.settings).unwrap_or_else(|_| "{}".into());
        let scope = SourceScope {
            name: source.name.clone(),
            escalation_policy: source.escalation_policy.clone(),
            actor: format!("plugin {}", source.integration),
        };
        let Ok(session) = Session::new(store.clone(), scope, now_millis()) else { continue };
        let probe =
            PluginRequest { headers: Vec::new(), body: Vec::new(), settings_json: settings };
        // The source's own limits: a plugin that needs more than the
        // defaults (Python) is judged as `serve` will run it.
        let limits = crate::app::call_limits(config, source);
        let output = plugins.call(&plugin, session, probe, &limits);
        if let Err(CallError::Rejected { code, message }) = output.result
            && code == "invalid-settings"
        {
            // Point at the setting the message names, when it names one.
            let named = source.settings.keys().find(|key| message.contains(&format!("\"{key}\"")));
            let path = match named {
                Some(key) => format!("sources[{index}].settings.{key}"),
                None => format!("sources[{index}].settings"),
            };
            let shown = format!("{path} (source {:?})", source.name);
            return Err(config.error_at(
                &path,
                &shown,
                format!("the {} plugin refuses these settings, so every webhook would get 400 invalid-settings: {message}", source.integration),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::owned_folder;

    #[test]
    fn only_a_folder_of_this_user_is_used_as_the_plugin_cache() {
        let dir = tempfile::tempdir().unwrap();
        assert!(owned_folder(dir.path()));
        assert!(!owned_folder(&dir.path().join("missing")));
        // Handing it to another user needs root; elsewhere this part is moot.
        let nobody = 65534;
        if rustix::process::geteuid().as_raw() != nobody
            && std::os::unix::fs::chown(dir.path(), Some(nobody), None).is_ok()
        {
            assert!(!owned_folder(dir.path()));
        }
    }
}
