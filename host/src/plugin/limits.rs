//! Per-call limits of the sandbox. Each default says why it is what it is.

use std::time::Duration;
use wasmtime::{ResourceLimiter, StoreLimits};

#[derive(Debug, Clone)]
pub struct CallLimits {
    /// Wall-clock budget of one call. A webhook mapping is a few microseconds
    /// of work; 100 ms leaves room for a cold cache and catches loops fast.
    pub timeout: Duration,
    /// Linear memory of one instance. A JSON body of 1 MiB parsed into a DOM
    /// needs a few MiB; 32 MiB is generous and bounds 64 parallel calls to 2 GiB.
    pub memory_bytes: usize,
    /// Changes (incidents written, comments, state writes) in one call.
    pub max_writes_per_call: usize,
    /// Incident keys, state keys and author names.
    pub max_key_bytes: usize,
    /// Summaries, details, comments and notes.
    pub max_text_bytes: usize,
    pub max_state_value_bytes: usize,
    /// Links on one incident (API 0.2.0): enough for a graph, a runbook and
    /// a dashboard or two; a list longer than a screen helps nobody.
    pub max_links_per_incident: usize,
    /// A link's URL. Browsers and proxies handle 2 KiB everywhere.
    pub max_url_bytes: usize,
    /// All state keys and values of one source together.
    pub max_state_bytes_per_source: u64,
    pub max_log_bytes_per_call: usize,
    /// Plugin stderr kept (a panic message is a few hundred bytes).
    pub max_stderr_bytes: usize,
    /// Bytes one call may ask the host to store: texts, links, state values
    /// (`[plugins] stored_bytes_per_call`).
    pub max_stored_bytes_per_call: usize,
    /// Outcomes one call may return: each is looked up and answered, so the
    /// host's work per call stays bounded. An Alertmanager group of a
    /// thousand alerts still fits.
    pub max_outcomes_per_call: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits {
            timeout: Duration::from_millis(100),
            memory_bytes: 32 << 20,
            max_writes_per_call: 256,
            max_key_bytes: 256,
            max_text_bytes: 256 << 10,
            max_state_value_bytes: 64 << 10,
            max_links_per_incident: 16,
            max_url_bytes: 2048,
            max_state_bytes_per_source: 16 << 20,
            max_log_bytes_per_call: 16 << 10,
            max_stderr_bytes: 16 << 10,
            max_outcomes_per_call: 1024,
            max_stored_bytes_per_call: 1 << 20,
        }
    }
}

/// The store's memory limiter, which also records the largest linear memory
/// the instance asked for, so a test run can report what a plugin needs.
pub struct MemoryMeter {
    limits: StoreLimits,
    pub peak_bytes: usize,
    /// Set when a growth was refused: a trap that follows is the memory
    /// limit, whatever the guest made of the failed growth.
    pub refused: bool,
}

impl MemoryMeter {
    pub fn new(limits: StoreLimits) -> Self {
        MemoryMeter { limits, peak_bytes: 0, refused: false }
    }
}

impl ResourceLimiter for MemoryMeter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum);
        match allowed {
            Ok(true) => self.peak_bytes = self.peak_bytes.max(desired),
            Ok(false) | Err(_) => self.refused = true,
        }
        allowed
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
