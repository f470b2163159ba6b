//! `bench plugin`: what one plugin component costs the host, whatever its
//! language: its size, the compile when the host loads it (uncached, then
//! from the compiled-plugin cache), the
//! first call, the average and slowest of many calls (each a fresh instance,
//! as for a request), and the largest memory a call grew to. The changes
//! are never committed, so every call does the same work.

use anyhow::Context;
use inbound::plugin::{CallLimits, EngineSettings, PluginHost, PluginRequest};
use inbound::store::{Session, SourceScope, Store, now_millis};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(
    wasm: &Path,
    body: &Path,
    iterations: u32,
    memory_limit_mib: usize,
) -> anyhow::Result<()> {
    let body = std::fs::read(body).with_context(|| format!("cannot read {}", body.display()))?;
    let size =
        std::fs::metadata(wasm).with_context(|| format!("cannot read {}", wasm.display()))?.len();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(&dir.path().join("plugin.redb"), Default::default(), |_| {})?);
    let settings =
        EngineSettings { max_memory_bytes: memory_limit_mib << 20, ..EngineSettings::default() };
    let mut plugins = PluginHost::new(&settings)?;
    // Compiled and stored in the on-disk cache, as at a first start; then
    // loaded from it, as at every later start or reload.
    let cache = dir.path().join("plugin-cache");
    let compile = Instant::now();
    plugins.load("bench", wasm, Some(&cache))?;
    let compile = compile.elapsed();
    let cached = Instant::now();
    plugins.load("bench", wasm, Some(&cache))?;
    let cached = cached.elapsed();
    let plugin = plugins.plugin("bench").expect("loaded");
    // Generous: the point is to measure, not to refuse.
    let limits = CallLimits {
        timeout: Duration::from_secs(10),
        memory_bytes: memory_limit_mib << 20,
        ..CallLimits::default()
    };
    let scope = SourceScope {
        name: "bench".into(),
        escalation_policy: "oncall".into(),
        actor: "bench".into(),
    };
    let mut first = None;
    let mut slowest = Duration::ZERO;
    let mut memory = 0;
    let started = Instant::now();
    for _ in 0..iterations.max(1) {
        let session = Session::new(store.clone(), scope.clone(), now_millis())?;
        let request =
            PluginRequest { headers: vec![], body: body.clone(), settings_json: "{}".into() };
        let call = Instant::now();
        let output = plugins.call(&plugin, session, request, &limits);
        let elapsed = call.elapsed();
        first.get_or_insert(elapsed);
        slowest = slowest.max(elapsed);
        memory = memory.max(output.memory_peak_bytes);
        output.result.map_err(|error| anyhow::anyhow!("{error}"))?;
    }
    let average = started.elapsed() / iterations.max(1);
    println!(
        "{}: {:.1} MiB, compiled in {} ms (from the cache: {} ms); first call {:.2} ms; {iterations} calls {:.2} ms each on average, slowest {:.2} ms; memory {:.1} MiB",
        wasm.display(),
        size as f64 / (1 << 20) as f64,
        compile.as_millis(),
        cached.as_millis(),
        first.unwrap_or_default().as_secs_f64() * 1e3,
        average.as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3,
        memory as f64 / (1 << 20) as f64,
    );
    Ok(())
}
