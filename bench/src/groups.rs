//! `bench groups`: what Alertmanager groups cost on disk. The real host with
//! the real Alertmanager plugin receives a number of notifications of one
//! group of many alerts, each a change (one alert's value moves, so no
//! delivery repeats the last and every one is logged on every incident);
//! then the database is compacted and its size per event reported, with
//! where it goes.

use crate::servers::{KEY, Server, inbound_binary};
use anyhow::Context;
use serde_json::{Value, json};
use std::path::PathBuf;

pub fn run(inbound: Option<PathBuf>, alerts: usize, events: usize) -> anyhow::Result<()> {
    let inbound = match inbound {
        Some(path) => path,
        None => inbound_binary()?,
    };
    let wasm = crate::servers::zendesk_wasm()?.with_file_name("inbound_alertmanager.wasm");
    let dir = tempfile::tempdir()?;
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\npath = \"data/inbound.redb\"\n\n\
         [integrations.alertmanager]\nplugin = \"{}\"\n\n[[escalation_policies]]\nname = \"oncall\"\nlevels = []\n\n\
         [[sources]]\nname = \"alerts\"\nintegration = \"alertmanager\"\nescalation_policy = \"oncall\"\n\
         key = \"{KEY}\"\nrate_limit_per_second = 0\n",
        wasm.display()
    );
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config)?;
    let server = Server::start(&inbound, &["serve", "--config", config_path.to_str().unwrap()])?;
    let client = reqwest::blocking::Client::new();
    let url = format!("{}/api/v1/events/alertmanager/{KEY}", server.base);
    let mut body_bytes = 0;
    for event in 0..events {
        let body = group(alerts, event).to_string();
        body_bytes += body.len();
        let answer =
            client.post(&url).header("content-type", "application/json").body(body).send()?;
        anyhow::ensure!(answer.status().is_success(), "event {event}: {}", answer.status());
    }
    server.stop();
    let database = dir.path().join("data/inbound.redb");
    let compacted = inbound::store::compact_file(&database).context("compact")?;
    println!(
        "{events} notifications of a group of {alerts} alerts, {} bytes of body each: \
         {:.0} bytes/event after compaction ({:.1} times the body)",
        body_bytes / events.max(1),
        compacted.bytes_after as f64 / events.max(1) as f64,
        compacted.bytes_after as f64 / body_bytes.max(1) as f64
    );
    crate::footprint::print(&database, events as u64)
}

/// The group as Alertmanager sends it, the `event`-th time: every alert
/// firing, one of them with a new value.
fn group(alerts: usize, event: usize) -> Value {
    let alerts: Vec<Value> = (0..alerts)
        .map(|n| {
            let value = if n == event % alerts { event } else { 0 };
            json!({
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": format!("db{n}:9100"),
                           "job": "node", "severity": "page", "mountpoint": "/var/lib/postgresql"},
                "annotations": {
                    "summary": format!("Disk almost full on db{n}:9100"),
                    "description": format!("Filesystem /var/lib/postgresql on db{n}:9100 has {value} % left; it will be full within four hours at the current rate."),
                    "runbook_url": "https://runbooks.example.com/disk-full"
                },
                "startsAt": "2026-11-30T12:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=node_filesystem_avail_bytes",
                "fingerprint": format!("{n:016x}")
            })
        })
        .collect();
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "inbound",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "job": "node", "severity": "page"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": alerts
    })
}
