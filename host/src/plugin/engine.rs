//! The wasmtime engine, configured for a server that instantiates a fresh
//! component for every request.

use anyhow::Context;
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances. Deadlines are whole ticks, so this is the
/// granularity of the per-call timeout.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Plugin calls that may run at once; sizes the instance pool.
    pub max_concurrent_calls: u32,
    /// Largest linear memory any plugin may have (the biggest per-source cap).
    pub max_memory_bytes: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings { max_concurrent_calls: 128, max_memory_bytes: 32 << 20 }
    }
}

/// Which instance allocator the engine ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    Pooling,
    OnDemand,
}

/// Builds the engine: pooling allocator if the address space allows it,
/// on-demand otherwise.
pub fn build(settings: &EngineSettings) -> anyhow::Result<(Engine, Allocator)> {
    let mut config = base_config();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(settings)));
    match Engine::new(&config) {
        Ok(engine) => Ok((engine, Allocator::Pooling)),
        Err(error) => {
            // The pool reserves virtual address space up front (guard regions
            // per memory slot). Under a tight `ulimit -v` that fails; the
            // on-demand allocator is slower per instance but works anywhere.
            tracing::warn!(error = %error, "pooling allocator unavailable; using on-demand instance allocation");
            let engine = Engine::new(&base_config())
                .map_err(anyhow::Error::from)
                .context("cannot configure the WebAssembly engine")?;
            Ok((engine, Allocator::OnDemand))
        }
    }
}

fn base_config() -> Config {
    let mut config = Config::new();
    // Deadlines by epoch: a counter check in loops and calls, far cheaper
    // than fuel, and a wall-clock limit is what the sender experiences.
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // A plugin's deep recursion must trap, not crash the host thread.
    config.max_wasm_stack(512 << 10);
    config
}

fn pool(settings: &EngineSettings) -> PoolingAllocationConfig {
    let calls = settings.max_concurrent_calls.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // A Rust component is one core module plus a few adapter shims; the
    // multipliers leave room for components built by other toolchains.
    pool.total_component_instances(calls);
    pool.total_core_instances(calls * 16);
    pool.total_memories(calls * 4);
    pool.total_tables(calls * 8);
    pool.max_memory_size(settings.max_memory_bytes);
    // Reusing a slot's first pages without returning them to the kernel
    // saves a page fault storm per request (the wasmtime guide's "fast
    // instantiation" advice); 1 MiB covers a plugin's stack and small heap.
    pool.linear_memory_keep_resident(1 << 20);
    pool.table_keep_resident(64 << 10);
    pool
}

/// Advances the engine's epoch until the engine is dropped.
pub fn spawn_epoch_ticker(engine: &Engine) -> anyhow::Result<()> {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("inbound-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .context("cannot start the epoch thread")?;
    Ok(())
}
