//! Where the host's CPU per event goes, without a profiler: CPU time per
//! thread from `/proc/<pid>/task/*/stat`, and the storage writer's batches
//! and the plugin calls from the host's own `/metrics`, each read before and
//! after a load.

use crate::servers::{self, Server};
use std::collections::BTreeMap;

/// What is read before and after a load.
pub struct Reading {
    /// CPU seconds (user + system) per thread name.
    threads: BTreeMap<String, f64>,
    /// `/metrics` sums and counts this split uses.
    metrics: BTreeMap<String, f64>,
}

const METRICS: [&str; 6] = [
    "inbound_commit_batch_size_sum",
    "inbound_commit_batch_size_count",
    "inbound_commit_seconds_sum",
    "inbound_plugin_call_seconds_sum",
    "inbound_plugin_call_seconds_count",
    "inbound_commit_seconds_count",
];

/// Reads the host's threads and metrics now.
pub fn read(server: &Server) -> anyhow::Result<Reading> {
    Ok(Reading { threads: server.thread_cpu_seconds(), metrics: metrics(server)? })
}

/// Prints the split of `events` acknowledged events between `before` and
/// `after`, over `seconds` of load.
pub fn print(before: &Reading, after: &Reading, events: u64, seconds: f64) {
    let events = events.max(1) as f64;
    let per_event = |seconds: f64| seconds / events * 1e6;
    let mut groups: BTreeMap<&str, f64> = BTreeMap::new();
    for (name, cpu) in &after.threads {
        let spent = cpu - before.threads.get(name).copied().unwrap_or(0.0);
        *groups.entry(thread_group(name)).or_default() += spent;
    }
    let parts: Vec<String> = groups
        .iter()
        .filter(|(_, spent)| **spent > 0.0)
        .map(|(group, spent)| format!("{group} {:.0}", per_event(*spent)))
        .collect();
    println!("inbound CPU µs/event by thread: {}", parts.join(", "));

    let delta = |name: &str| {
        after.metrics.get(name).copied().unwrap_or(0.0)
            - before.metrics.get(name).copied().unwrap_or(0.0)
    };
    let commits = delta("inbound_commit_seconds_count").max(1.0);
    let calls = delta("inbound_plugin_call_seconds_count").max(1.0);
    println!(
        "storage writer: {:.1} change sets per commit, {:.2} ms per commit, busy {:.0} % of the run; plugin call {:.0} µs wall each",
        delta("inbound_commit_batch_size_sum") / commits,
        delta("inbound_commit_seconds_sum") / commits * 1000.0,
        delta("inbound_commit_seconds_sum") / seconds.max(0.001) * 100.0,
        delta("inbound_plugin_call_seconds_sum") / calls * 1e6,
    );
}

/// The host names its own threads; tokio's workers and its blocking pool
/// (where plugin calls run) share one name.
fn thread_group(name: &str) -> &'static str {
    match name {
        "inbound-writer" => "storage writer",
        "tokio-rt-worker" => "async workers + plugin pool",
        "inbound-epoch" => "epoch ticker",
        _ => "other",
    }
}

fn metrics(server: &Server) -> anyhow::Result<BTreeMap<String, f64>> {
    let text = reqwest::blocking::Client::new()
        .get(format!("{}/metrics", server.base))
        .bearer_auth(servers::TOKEN)
        .send()?
        .error_for_status()?
        .text()?;
    Ok(parse_metrics(&text))
}

/// The sums and counts in [`METRICS`], added up over their labels.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut found = BTreeMap::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(' ') else { continue };
        let name = name.split('{').next().unwrap_or(name);
        if let (true, Ok(value)) = (METRICS.contains(&name), value.parse::<f64>()) {
            *found.entry(name.to_string()).or_default() += value;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_summed_over_labels_and_others_ignored() {
        let text = "# TYPE x histogram\n\
            inbound_plugin_call_seconds_sum{integration=\"a\"} 1.5\n\
            inbound_plugin_call_seconds_sum{integration=\"b\"} 0.5\n\
            inbound_commit_batch_size_count 4\n\
            inbound_events_total{source=\"s\"} 9\n";
        let found = parse_metrics(text);
        assert_eq!(found.get("inbound_plugin_call_seconds_sum"), Some(&2.0));
        assert_eq!(found.get("inbound_commit_batch_size_count"), Some(&4.0));
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
