//! Per-call limits of the sandbox. Each default says why it is what it is.

use std::time::Duration;

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
    /// All state keys and values of one source together.
    pub max_state_bytes_per_source: u64,
    pub max_log_bytes_per_call: usize,
    /// Plugin stderr kept (a panic message is a few hundred bytes).
    pub max_stderr_bytes: usize,
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
            max_state_bytes_per_source: 16 << 20,
            max_log_bytes_per_call: 16 << 10,
            max_stderr_bytes: 16 << 10,
        }
    }
}
