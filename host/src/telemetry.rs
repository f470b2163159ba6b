//! Prometheus metrics: what the host counts and how `/metrics` renders it.
//!
//! Recording goes through the `metrics` facade, so code that runs without a
//! recorder (unit tests, `inbound check`) records nothing at no cost.

use crate::store::{BatchStats, Store};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const EVENTS: &str = "inbound_events_total";
pub const WEBHOOK: &str = "inbound_webhook_seconds";
pub const PLUGIN_CALL: &str = "inbound_plugin_call_seconds";
pub const COMMIT: &str = "inbound_commit_seconds";
pub const COMMIT_BATCH: &str = "inbound_commit_batch_size";
pub const INCIDENTS: &str = "inbound_incidents";
pub const OUTBOX_PENDING: &str = "inbound_notifications_pending";
pub const OUTBOX_FAILED: &str = "inbound_notifications_failed";
pub const OUTBOX_OLDEST: &str = "inbound_notifications_oldest_pending_seconds";
pub const WEBHOOKS_IN_FLIGHT: &str = "inbound_webhooks_in_flight";
pub const BUILD_INFO: &str = "inbound_build_info";
pub const CONFIG_INFO: &str = "inbound_config_info";
pub const RELOADS: &str = "inbound_config_reloads_total";
pub const RELOAD_OK: &str = "inbound_config_last_reload_successful";
pub const STORAGE_ERRORS: &str = "inbound_storage_errors_total";
pub const STORAGE_AVAILABLE: &str = "inbound_storage_available";
pub const RETENTION_DELETED: &str = "inbound_retention_deleted_total";
pub const TLS_EXPIRY: &str = "inbound_tls_certificate_expiry_timestamp_seconds";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// CPU, memory, open files and threads of this process, read when scraped.
static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();

/// Installs the process-wide recorder (once) and returns its handle.
pub fn install() -> anyhow::Result<&'static PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    // Explicit buckets make these Prometheus histograms (not summaries), so
    // they can be aggregated across hosts.
    let seconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
    let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(PLUGIN_CALL.into()), &seconds)?
        .set_buckets_for_metric(Matcher::Full(WEBHOOK.into()), &seconds)?
        .set_buckets_for_metric(Matcher::Full(COMMIT.into()), &seconds)?
        .set_buckets_for_metric(Matcher::Full(COMMIT_BATCH.into()), &sizes)?
        .install_recorder()?;
    metrics::describe_counter!(EVENTS, "Webhook requests received, by source and outcome.");
    metrics::describe_histogram!(
        PLUGIN_CALL,
        metrics::Unit::Seconds,
        "Duration of successful plugin calls."
    );
    metrics::describe_histogram!(
        COMMIT,
        metrics::Unit::Seconds,
        "Duration of one durable storage commit."
    );
    metrics::describe_histogram!(
        COMMIT_BATCH,
        "Change sets committed together in one transaction."
    );
    metrics::describe_gauge!(INCIDENTS, "Incidents in each status, counted when scraped.");
    metrics::describe_gauge!(
        OUTBOX_PENDING,
        "Notifications waiting to be delivered (the queue depth)."
    );
    metrics::describe_gauge!(
        OUTBOX_FAILED,
        "Notifications that failed for good and wait for a retry command."
    );
    metrics::describe_gauge!(
        OUTBOX_OLDEST,
        "Age of the oldest undelivered notification; 0 when none."
    );
    metrics::describe_counter!(crate::notify::SENT, "Notifications delivered, by channel.");
    metrics::describe_counter!(
        crate::notify::FAILED,
        "Notifications that failed for good, by channel."
    );
    metrics::describe_counter!(
        crate::notify::RETRIED,
        "Delivery attempts that failed and were rescheduled, by channel."
    );
    metrics::describe_counter!(
        crate::notify::HELD,
        "Notifications held by their contact's throttle for a digest, by channel."
    );
    metrics::describe_counter!(crate::notify::DIGESTS, "Digests delivered, by channel.");
    metrics::describe_counter!(
        crate::notify::PAGES_HELD,
        "Incidents whose due level paged nobody, by reason (maintenance, low_urgency)."
    );
    metrics::describe_gauge!(
        MAINTENANCE_ACTIVE,
        "Maintenance windows in effect; read when scraped."
    );
    metrics::describe_gauge!(
        HEARTBEAT_UP,
        "1 while a heartbeat is pinged in time, 0 while missed, by heartbeat."
    );
    metrics::describe_counter!(
        crate::heartbeats::MISSED,
        "Heartbeats missed, each opening an incident, by heartbeat."
    );
    metrics::describe_gauge!(
        WEBHOOKS_IN_FLIGHT,
        "Webhooks being handled now, out of server.max_concurrent_webhooks; read when scraped."
    );
    metrics::describe_histogram!(
        WEBHOOK,
        metrics::Unit::Seconds,
        "Webhook requests from arrival to answer, by source and outcome."
    );
    metrics::describe_gauge!(BUILD_INFO, "1, labelled with the version of this build.");
    metrics::describe_gauge!(CONFIG_INFO, "1, labelled with the SHA-256 of the config in effect.");
    metrics::describe_counter!(RELOADS, "Configuration reloads, by result (success, failure).");
    metrics::describe_counter!(
        crate::ingest::SHADOW_EVENTS,
        "Events a source's shadow plugin judged, by source and result (same, different, failed, skipped)."
    );
    metrics::describe_gauge!(RELOAD_OK, "1 if the last configuration reload succeeded, else 0.");
    metrics::describe_counter!(
        STORAGE_ERRORS,
        "Failed storage commits, by kind (unavailable: disk full or failing, or PostgreSQL unreachable; engine: other)."
    );
    metrics::describe_gauge!(
        STORAGE_AVAILABLE,
        "1 while the database is open and can commit, 0 while it is being reopened."
    );
    metrics::describe_counter!(
        RETENTION_DELETED,
        "Rows deleted by [storage.retention], by kind (incident, failed_delivery)."
    );
    metrics::describe_gauge!(
        TLS_EXPIRY,
        "When the certificate [server.tls] serves expires, in Unix seconds (absent without TLS)."
    );
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    metrics::gauge!(RELOAD_OK).set(1.0);
    // Counters appear at their first increment; alerts on `increase()` need
    // them from the start.
    for kind in ["unavailable", "engine"] {
        metrics::counter!(STORAGE_ERRORS, "kind" => kind).increment(0);
    }
    for result in ["success", "failure"] {
        metrics::counter!(RELOADS, "result" => result).increment(0);
    }
    retention_deleted(0, 0);
    PROCESS.get_or_init(|| {
        let collector = metrics_process::Collector::default();
        collector.describe();
        collector
    });
    Ok(HANDLE.get_or_init(|| handle))
}

/// One webhook request, how it ended (an action such as `created`, or an
/// error class: `rejected`, `failed`, `unauthorized`, `too_large`, ...) and
/// how long it took to answer.
pub fn event(source: &str, outcome: &str, elapsed: std::time::Duration) {
    let (source, outcome) = (source.to_string(), outcome.to_string());
    metrics::counter!(EVENTS, "source" => source.clone(), "outcome" => outcome.clone())
        .increment(1);
    metrics::histogram!(WEBHOOK, "source" => source, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// The config in effect, after start-up or a successful reload.
pub fn config_loaded(sha256: &str) {
    metrics::gauge!(CONFIG_INFO, "sha256" => sha256.to_string()).set(1.0);
}

/// A reload's result; a failed one leaves the previous config serving.
pub fn reloaded(previous_sha256: &str, new_sha256: Option<&str>) {
    let result = if new_sha256.is_some() { "success" } else { "failure" };
    metrics::counter!(RELOADS, "result" => result).increment(1);
    metrics::gauge!(RELOAD_OK).set(if new_sha256.is_some() { 1.0 } else { 0.0 });
    if let Some(new) = new_sha256.filter(|new| *new != previous_sha256) {
        metrics::gauge!(CONFIG_INFO, "sha256" => previous_sha256.to_string()).set(0.0);
        config_loaded(new);
    }
}

pub fn plugin_call(integration: &str, seconds: f64) {
    metrics::histogram!(PLUGIN_CALL, "integration" => integration.to_string()).record(seconds);
}

/// The storage writer's `on_batch` callback.
pub fn batch(stats: BatchStats) {
    metrics::histogram!(COMMIT).record(stats.commit_seconds);
    metrics::histogram!(COMMIT_BATCH).record(stats.change_sets as f64);
    if let Some(kind) = stats.failed {
        metrics::counter!(STORAGE_ERRORS, "kind" => kind).increment(1);
    }
}

/// Webhooks holding a place in the concurrency gate, set just before a scrape.
/// Resolved incidents and failed deliveries one retention chunk deleted.
pub fn retention_deleted(incidents: u64, failed_deliveries: u64) {
    metrics::counter!(RETENTION_DELETED, "kind" => "incident").increment(incidents);
    metrics::counter!(RETENTION_DELETED, "kind" => "failed_delivery").increment(failed_deliveries);
}

/// The certificate now served expires at `unix_seconds`.
pub fn tls_certificate_expires(unix_seconds: i64) {
    metrics::gauge!(TLS_EXPIRY).set(unix_seconds as f64);
}

pub fn webhooks_in_flight(count: usize) {
    metrics::gauge!(WEBHOOKS_IN_FLIGHT).set(count as f64);
}

/// Every configured channel's delivery counters, at 0 until its first
/// delivery: an alert on `increase()` needs a sample before the first
/// failure, or it misses it (contrib/prometheus/alerts.yml).
pub fn notification_channels<'a>(channels: impl Iterator<Item = &'a str>) {
    for channel in channels {
        for counter in [
            crate::notify::SENT,
            crate::notify::FAILED,
            crate::notify::RETRIED,
            crate::notify::HELD,
            crate::notify::DIGESTS,
        ] {
            metrics::counter!(counter, "channel" => channel.to_string()).increment(0);
        }
    }
}

/// Maintenance windows in effect now (config and run time).
pub const MAINTENANCE_ACTIVE: &str = "inbound_maintenance_windows_active";
/// Per heartbeat: 1 while pinged in time, 0 while missed (none before its
/// first ping).
pub const HEARTBEAT_UP: &str = "inbound_heartbeat_up";

/// The text exposition, with the incident gauges read from storage now.
pub fn render(
    handle: &PrometheusHandle,
    store: &Store,
    config: &crate::config::Config,
) -> Result<String, crate::store::Error> {
    let available = store.is_ready();
    metrics::gauge!(STORAGE_AVAILABLE).set(if available { 1.0 } else { 0.0 });
    for reason in ["maintenance", "low_urgency"] {
        metrics::counter!(crate::notify::PAGES_HELD, "reason" => reason).increment(0);
    }
    if available {
        let now = crate::store::now_millis();
        let windows = crate::noise::maintenance::all(config, store)?;
        let active = windows.iter().filter(|window| window.is_active(now)).count();
        metrics::gauge!(MAINTENANCE_ACTIVE).set(active as f64);
        for heartbeat in crate::heartbeats::list(config, store)? {
            let up = match heartbeat.state {
                "up" => 1.0,
                "missed" => 0.0,
                _ => continue,
            };
            metrics::gauge!(HEARTBEAT_UP, "heartbeat" => heartbeat.name).set(up);
        }
        for (status, count) in store.count_by_status()? {
            metrics::gauge!(INCIDENTS, "status" => status_name(status)).set(count as f64);
        }
        let outbox = store.outbox_stats()?;
        metrics::gauge!(OUTBOX_PENDING).set(outbox.pending as f64);
        metrics::gauge!(OUTBOX_FAILED).set(outbox.failed as f64);
        let oldest =
            outbox.oldest_pending_at.map_or(0, |at| crate::store::now_millis().saturating_sub(at));
        metrics::gauge!(OUTBOX_OLDEST).set(oldest as f64 / 1000.0);
    }
    if let Some(process) = PROCESS.get() {
        process.collect();
    }
    Ok(handle.render())
}

fn status_name(status: crate::store::Status) -> &'static str {
    match status {
        crate::store::Status::Pending => "pending",
        crate::store::Status::Accepted => "accepted",
        crate::store::Status::Resolved => "resolved",
    }
}
