//! Runs wrk (Debian's package) with one of the Lua scripts in `bench/wrk`
//! and reads the JSON line the script prints.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::PathBuf;
use std::process::Command;

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct WrkResult {
    pub requests: u64,
    pub seconds: f64,
    pub non_2xx: u64,
    pub socket_errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    #[allow(dead_code)] // parsed for completeness; the report shows p999
    pub max_us: u64,
}

impl WrkResult {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub struct Load<'a> {
    pub script: &'a str,
    pub url: String,
    pub connections: u32,
    pub threads: u32,
    pub seconds: u32,
    pub script_args: Vec<String>,
}

pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wrk").join(name)
}

pub fn run(load: &Load) -> anyhow::Result<WrkResult> {
    let output = Command::new("wrk")
        .arg(format!("-c{}", load.connections))
        .arg(format!("-t{}", load.threads))
        .arg(format!("-d{}s", load.seconds))
        .arg("--timeout")
        .arg("10s")
        .arg("-s")
        .arg(script(load.script))
        .arg(&load.url)
        .arg("--")
        .args(&load.script_args)
        .output()
        .context("cannot run wrk: install it with `apt-get install wrk` (make bench does)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().find_map(|line| line.strip_prefix("WRK_RESULT ")) else {
        bail!("wrk printed no result:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    };
    Ok(serde_json::from_str(line)?)
}

/// The realistic Zendesk mix (`zendesk-mix.lua`) against the events route
/// of the server at `base`.
pub fn zendesk_mix(base: &str, seconds: u32, connections: u32) -> anyhow::Result<WrkResult> {
    run(&Load {
        script: "zendesk-mix.lua",
        url: base.to_string(),
        connections,
        threads: connections.min(2),
        seconds,
        script_args: vec![format!("/api/v1/events/zendesk/{}", crate::servers::KEY)],
    })
}
