//! Wiring: config -> storage, plugins, sources -> a running HTTP server;
//! signals: SIGTERM/SIGINT stop it cleanly, SIGHUP reloads the config.

mod connections;
mod layers;
mod linger;
mod router;

use crate::app::{self, AppState, Live};
use crate::config::Config;
use crate::store::{PostgresOptions, Store, StoreOptions};
use crate::telemetry;
use anyhow::Context;
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::time::Duration;

/// Opens storage, loads every plugin, and serves until SIGINT or SIGTERM.
/// In-flight requests finish and their commits complete before it returns.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let metrics = telemetry::install().context("cannot start the metrics recorder")?;
    let path = config.resolve(&config.storage.path);
    let options = StoreOptions {
        cache_bytes: config.storage.cache_mib.saturating_mul(1 << 20),
        ..StoreOptions::default()
    };
    let store = Arc::new(match PostgresOptions::of(&config) {
        Some(connection) => Store::open_postgres(&connection, options, telemetry::batch)?,
        None => Store::open(&path, options, telemetry::batch)?,
    });
    let live = Live::build(config, store.clone())?;
    let mut notify_setup =
        crate::notify::Notify::setup(&live.config, Some(&app::plugin_cache_dir(&live.config)))?;
    notify_setup.senders = Some(live.senders());
    let notify = crate::notify::Notify::new(
        store.clone(),
        notify_setup,
        Arc::new(crate::notify::SystemClock),
    );
    telemetry::config_loaded(&live.config.file_sha256);
    let listen = live.config.server.listen.clone();
    // Connection limits apply to the listener, so a reload cannot change them.
    let limits = connections::ConnectionLimits {
        header_limit_bytes: live.config.server.header_limit_bytes,
        header_read_timeout: Duration::from_millis(live.config.server.header_read_timeout_ms),
    };
    live.log_sources();
    let certificates = live.tls_key.clone().map(app::tls::Certificates::new);
    let tls = certificates
        .clone()
        .map(|certificates| tokio_rustls::TlsAcceptor::from(app::tls::server_config(certificates)));
    let scheme = live.config.server.scheme();
    let app = Arc::new(AppState {
        store,
        live: ArcSwap::from_pointee(live),
        metrics: Some(metrics),
        reloading: tokio::sync::Mutex::new(()),
        notify: notify.clone(),
        stopping: tokio::sync::watch::Sender::new(false),
        certificates,
    });
    // Escalations and deliveries run beside the server; whatever they had in
    // flight at shutdown is still in the outbox and resumes at the next start.
    let notifier = tokio::spawn(notify.run());
    // Before "listening" is logged: from then on a SIGHUP must reload, not
    // end the process (the default action).
    let reloader = tokio::spawn(reload_on_hangup(app.clone(), hangup_signal()?));
    let retention = tokio::spawn(crate::retention::run(app.clone()));
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
    tracing::info!("listening on {scheme}://{address}");
    connections::serve(listener, router::router(app.clone()), limits, tls, shutdown).await;
    for task in [reloader, retention] {
        task.abort();
        let _ = task.await;
    }
    notifier.abort();
    let _ = notifier.await;
    tracing::info!("stopped accepting requests; finishing storage writes");
    // Every request has been answered, so each commit it waited for is on
    // disk already; closing only waits for the writer thread to end.
    if let Ok(app) = Arc::try_unwrap(app) {
        let AppState { store, live, notify, .. } = app;
        drop(live);
        drop(notify);
        if let Ok(store) = Arc::try_unwrap(store) {
            store.close();
        }
    }
    tracing::info!("shut down cleanly");
    Ok(())
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
        let by = app::Requester { actor: "signal SIGHUP".into(), client: None };
        if let Err(error) = app::reload(&app, &by).await {
            tracing::error!("configuration refused, the previous one keeps serving: {error:#}");
        }
    }
    #[cfg(not(unix))]
    let _ = (app, &mut hangup);
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
