//! Prometheus metrics: what the host counts and how `/metrics` renders it.
//!
//! Recording goes through the `metrics` facade, so code that runs without a
//! recorder (unit tests, `inbound check`) records nothing at no cost.

use crate::store::{BatchStats, Store};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const EVENTS: &str = "inbound_events_total";
pub const PLUGIN_CALL: &str = "inbound_plugin_call_seconds";
pub const COMMIT: &str = "inbound_commit_seconds";
pub const COMMIT_BATCH: &str = "inbound_commit_batch_size";
pub const INCIDENTS: &str = "inbound_incidents";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

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
    Ok(HANDLE.get_or_init(|| handle))
}

/// One webhook request and how it ended: an action (`created`, ...) or an
/// error class (`rejected`, `failed`, `unauthorized`, `too_large`, ...).
pub fn event(source: &str, outcome: &str) {
    metrics::counter!(EVENTS, "source" => source.to_string(), "outcome" => outcome.to_string())
        .increment(1);
}

pub fn plugin_call(integration: &str, seconds: f64) {
    metrics::histogram!(PLUGIN_CALL, "integration" => integration.to_string()).record(seconds);
}

/// The storage writer's `on_batch` callback.
pub fn batch(stats: BatchStats) {
    metrics::histogram!(COMMIT).record(stats.commit_seconds);
    metrics::histogram!(COMMIT_BATCH).record(stats.change_sets as f64);
}

/// The text exposition, with the incident gauges read from storage now.
pub fn render(handle: &PrometheusHandle, store: &Store) -> Result<String, crate::store::Error> {
    for (status, count) in store.count_by_status()? {
        metrics::gauge!(INCIDENTS, "status" => status_name(status)).set(count as f64);
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
