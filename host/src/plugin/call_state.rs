//! What one plugin instance's store holds while a call runs: the storage
//! session, the call's limits and log, and an empty WASI context.

use super::limits::{CallLimits, MemoryMeter};
use crate::store::Session;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub struct CallState {
    /// The request's storage session; `None` while the host reads what a
    /// plugin says about itself (`about`), where the host API traps.
    pub session: Option<Session>,
    /// In `on-change` the host API reads only: every change is refused, and
    /// the session is never committed.
    pub read_only: bool,
    /// Whose log lines these are: the source, or the integration outside a request.
    pub log_name: String,
    pub limits: CallLimits,
    pub memory: MemoryMeter,
    pub log: PluginLog,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// Limits the plugin ran into; a call that then fails is the plugin's
    /// failure (5xx), not the sender's (400).
    pub limit_errors: Vec<String>,
    /// Other host API errors the plugin got (an invalid argument, an
    /// incident that is not its own): a bug of the plugin's, so a call that
    /// then rejects the request is the plugin's failure too.
    pub api_errors: Vec<String>,
    /// Changes made through the host API so far, for
    /// `CallLimits::max_writes_per_call`: one per create, status change,
    /// comment, link or state write, whatever it costs in storage.
    pub changes_made: usize,
    /// Bytes the plugin asked the host to store so far, for
    /// `CallLimits::max_stored_bytes_per_call`.
    pub stored_bytes: usize,
}

impl CallState {
    /// The call's storage session, or a trap outside a request.
    pub fn session(&mut self) -> wasmtime::Result<&mut Session> {
        self.session.as_mut().ok_or_else(|| {
            wasmtime::Error::msg(
                "the host API (incidents, state) is not available in `describe` or `validate-settings`: they run outside any request",
            )
        })
    }
}

/// Plugin log lines kept for the caller (harness, failed deliveries) and
/// forwarded to the host's log; bounded per call.
#[derive(Debug, Default, Clone)]
pub struct PluginLog {
    pub lines: Vec<(String, String)>,
    pub bytes: usize,
    pub dropped: usize,
}

/// Rust guests import a few WASI interfaces through std; they see this
/// context, which grants nothing.
impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
