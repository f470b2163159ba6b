//! Plugins: the wasmtime engine, loading components, and running one call.
//!
//! Per-integration work (compile, link, `InstancePre`) happens once at
//! start-up. Per-request work is only: a new `Store`, instantiate, call.

pub mod about;
pub mod cache;
mod call_state;
pub mod engine;
mod host_api;
pub mod limits;
pub mod outbound;
pub mod web_url;
pub mod wit;
pub mod world;

pub use about::{PluginInfo, SettingsProblem};
pub use call_state::{CallState, PluginLog};
pub use engine::{Allocator, EngineSettings};
pub use limits::CallLimits;
pub use wit::ApiVersion;

use crate::store::{Action, Incident, IncidentId, SenderChange, Session};
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// The request handed to a plugin.
pub struct PluginRequest {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The source's `settings` table as a JSON object.
    pub settings_json: String,
}

/// Why a call produced no usable answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum CallError {
    /// The plugin refused the request: the sender's fault (400).
    #[error("{code}: {message}")]
    Rejected { code: String, message: String },
    #[error("the plugin ran longer than its {0:?} limit")]
    Timeout(Duration),
    #[error("the plugin needed more than its {0} bytes memory limit")]
    MemoryLimit(usize),
    /// A trap: panic, unreachable, storage failure. Carries the plugin's stderr.
    #[error("the plugin failed: {0}")]
    Trap(String),
    /// The plugin answered with something the host cannot accept.
    #[error("the plugin returned an invalid result: {0}")]
    InvalidResult(String),
    /// The plugin hit a host API limit and then failed the call.
    #[error("the plugin exceeded a host API limit: {0}")]
    HostApiLimit(String),
    /// The plugin misused the host API (an invalid argument, another
    /// source's incident) and then failed the call: its bug, not the sender's.
    #[error("the plugin's host API call was refused: {0}")]
    HostApiError(String),
    /// Storage was unavailable when the plugin read through the host API:
    /// not the plugin's fault; the same request can succeed later (503).
    #[error("storage is unavailable: {0}")]
    StorageUnavailable(String),
}

impl CallError {
    pub fn code(&self) -> &str {
        match self {
            CallError::Rejected { code, .. } => code,
            CallError::Timeout(_) => "plugin-timeout",
            CallError::MemoryLimit(_) => "plugin-memory-limit",
            CallError::Trap(_) => "plugin-failed",
            CallError::InvalidResult(_) => "plugin-invalid-result",
            CallError::HostApiLimit(_) => "plugin-host-api-limit",
            CallError::HostApiError(_) => "plugin-host-api-error",
            CallError::StorageUnavailable(_) => "storage-unavailable",
        }
    }
}

/// Everything a call produced, successful or not.
pub struct CallOutput {
    pub result: Result<Vec<(Action, IncidentId)>, CallError>,
    pub session: Session,
    pub log: PluginLog,
    pub elapsed: Duration,
    /// The largest linear memory the instance grew to.
    pub memory_peak_bytes: usize,
    /// Bytes the call asked the host to store (texts, links, state).
    pub stored_bytes: usize,
}

/// What one call cost and said, for whoever watches calls (the test harness).
#[derive(Debug, Clone)]
pub struct CallReport {
    pub integration: String,
    pub log: PluginLog,
    pub elapsed: Duration,
    pub memory_peak_bytes: usize,
}

type CallObserver = Box<dyn Fn(CallReport) + Send + Sync>;

pub struct LoadedPlugin {
    pub integration: String,
    pre: wit::PluginPre,
    /// What the plugin said about itself, asked once.
    info: OnceLock<Option<PluginInfo>>,
}

/// Why a source's settings were refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SettingsRefused {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Problems(Vec<SettingsProblem>),
    /// `describe` or `validate-settings` trapped or ran over a limit.
    #[error("the plugin could not judge them: {0}")]
    PluginFailed(CallError),
}

impl LoadedPlugin {
    /// The `inbound:plugin` version the component was built against.
    pub fn api_version(&self) -> ApiVersion {
        self.pre.version()
    }
}

/// The engine and every loaded plugin.
pub struct PluginHost {
    engine: Engine,
    pub allocator: Allocator,
    linker: Linker<CallState>,
    plugins: HashMap<String, Arc<LoadedPlugin>>,
    observer: Option<CallObserver>,
}

impl PluginHost {
    pub fn new(settings: &EngineSettings) -> anyhow::Result<PluginHost> {
        let (engine, allocator) = engine::build(settings)?;
        engine::spawn_epoch_ticker(&engine)?;

        let mut linker = Linker::new(&engine);
        // Rust guests import a few WASI interfaces through std. They are linked
        // to an empty context: no files, sockets, environment or arguments.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot link the WASI interfaces")?;
        wit::add_to_linker(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot link the host API")?;
        Ok(PluginHost { engine, allocator, linker, plugins: HashMap::new(), observer: None })
    }

    /// Hands a report of every call to `observer`, after the call and before
    /// its changes are committed.
    pub fn observe_calls(&mut self, observer: impl Fn(CallReport) + Send + Sync + 'static) {
        self.observer = Some(Box::new(observer));
    }

    /// Compiles (or loads from `cache_dir`) and links the component at
    /// `path` for `integration`.
    pub fn load(
        &mut self,
        integration: &str,
        path: &Path,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<cache::CacheOutcome> {
        let (component, outcome) =
            cache::load(&self.engine, path, cache_dir).with_context(|| {
                format!(
                    "cannot compile the plugin {} for integration {integration:?}",
                    path.display()
                )
            })?;
        let version = world::check(&self.engine, &component).with_context(|| {
            format!("cannot load the plugin {} for integration {integration:?}", path.display())
        })?;
        let instance_pre =
            self.linker.instantiate_pre(&component).map_err(anyhow::Error::from).with_context(
                || {
                    format!(
                        "the plugin {} does not fit the inbound:plugin world this host provides",
                        path.display()
                    )
                },
            )?;
        let pre = wit::PluginPre::new(version, instance_pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "the plugin {} does not export the inbound:plugin@{version} handler",
                    path.display()
                )
            })?;
        self.plugins.insert(
            integration.to_string(),
            Arc::new(LoadedPlugin {
                integration: integration.to_string(),
                pre,
                info: OnceLock::new(),
            }),
        );
        Ok(outcome)
    }

    pub fn plugin(&self, integration: &str) -> Option<Arc<LoadedPlugin>> {
        self.plugins.get(integration).cloned()
    }

    /// A store for one instance: the call's limits, an empty WASI context
    /// whose stderr goes to `stderr`, and the epoch deadline set.
    fn new_store(
        &self,
        session: Option<Session>,
        log_name: String,
        limits: &CallLimits,
        stderr: &MemoryOutputPipe,
    ) -> wasmtime::Store<CallState> {
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = CallState {
            session,
            read_only: false,
            log_name,
            limits: limits.clone(),
            memory: limits::MemoryMeter::new(
                StoreLimitsBuilder::new()
                    .memory_size(limits.memory_bytes)
                    .trap_on_grow_failure(true)
                    .build(),
            ),
            log: PluginLog::default(),
            wasi,
            table: ResourceTable::new(),
            limit_errors: Vec::new(),
            api_errors: Vec::new(),
            changes_made: 0,
            stored_bytes: 0,
        };
        let mut store = wasmtime::Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        let ticks = (limits.timeout.as_millis() / engine::EPOCH_TICK.as_millis()).max(1) as u64;
        // +1: the current tick may be about to end.
        store.set_epoch_deadline(ticks + 1);
        // The deadline bounds the plugin's own time. Waiting for storage
        // reads (round trips to PostgreSQL, slow while it recovers) is the
        // host's, so at the deadline the call gets that time back; each read
        // is bounded by the storage's own timeout.
        let (started, timeout) = (std::time::Instant::now(), limits.timeout);
        store.epoch_deadline_callback(move |store| {
            let waited =
                store.data().session.as_ref().map_or(Duration::ZERO, Session::storage_wait);
            let ran = started.elapsed().saturating_sub(waited);
            if ran >= timeout {
                return Err(wasmtime::Trap::Interrupt.into());
            }
            let left = (timeout - ran).as_millis() / engine::EPOCH_TICK.as_millis();
            Ok(wasmtime::UpdateDeadline::Continue((left as u64).max(1)))
        });
        // What one host call may lift out of the guest (strings and lists
        // of an import's arguments or an export's results), copied before
        // any check of ours could refuse it: no more than the plugin could
        // hold itself. Without it, strings that all point at one buffer
        // could make the host allocate gigabytes from a 32 MiB plugin.
        store.set_hostcall_fuel(limits.memory_bytes);
        store
    }

    /// Runs one of the plugin's `about` functions outside any request.
    fn run_about<T>(
        &self,
        plugin: &LoadedPlugin,
        limits: &CallLimits,
        run: impl FnOnce(&wit::PluginPre, &mut wasmtime::Store<CallState>) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let stderr = MemoryOutputPipe::new(limits.max_stderr_bytes);
        let mut store = self.new_store(None, plugin.integration.clone(), limits, &stderr);
        run(&plugin.pre, &mut store).map_err(|error| {
            if store.data().memory.refused {
                CallError::MemoryLimit(limits.memory_bytes)
            } else {
                classify_trap(error, limits, &stderr)
            }
        })
    }

    /// What the plugin says about itself (asked once, then remembered);
    /// `None` for a plugin built before API 0.3.0.
    pub fn describe(
        &self,
        plugin: &LoadedPlugin,
        limits: &CallLimits,
    ) -> Result<Option<PluginInfo>, CallError> {
        if let Some(info) = plugin.info.get() {
            return Ok(info.clone());
        }
        let info = self.run_about(plugin, limits, |pre, store| pre.describe(store))?;
        Ok(plugin.info.get_or_init(|| info).clone())
    }

    /// Judges one source's settings (a JSON object): the host checks names,
    /// kinds and required keys against what the plugin declared, then the
    /// plugin's `validate-settings` judges the values. A plugin built before
    /// API 0.3.0 cannot be asked and passes (`inbound check` probes those).
    pub fn check_settings(
        &self,
        plugin: &LoadedPlugin,
        settings: &serde_json::Map<String, serde_json::Value>,
        limits: &CallLimits,
    ) -> Result<(), SettingsRefused> {
        let Some(info) = self.describe(plugin, limits).map_err(SettingsRefused::PluginFailed)?
        else {
            return Ok(());
        };
        let declared = about::check_declared(&info, settings);
        if !declared.is_empty() {
            return Err(SettingsRefused::Problems(declared));
        }
        let json = serde_json::Value::Object(settings.clone()).to_string();
        let answer = self
            .run_about(plugin, limits, |pre, store| pre.validate_settings(store, &json))
            .map_err(SettingsRefused::PluginFailed)?;
        answer.map_err(|problems| {
            // A plugin that refuses without saying why still refuses.
            let problems = if problems.is_empty() {
                vec![SettingsProblem {
                    setting: None,
                    message: "refused, with no reason given".into(),
                }]
            } else {
                problems
            };
            SettingsRefused::Problems(about::bounded(problems))
        })
    }

    /// Runs one request through a fresh instance of `plugin`. Blocking: call
    /// it off the async runtime.
    pub fn call(
        &self,
        plugin: &LoadedPlugin,
        session: Session,
        request: PluginRequest,
        limits: &CallLimits,
    ) -> CallOutput {
        let started = Instant::now();
        let stderr = MemoryOutputPipe::new(limits.max_stderr_bytes);
        let source = session.scope.name.clone();
        let mut store = self.new_store(Some(session), source.clone(), limits, &stderr);

        let wit_request = wit::latest::inbound::plugin::types::Request {
            source,
            headers: request.headers,
            body: request.body,
            settings: request.settings_json,
        };
        let outcome = plugin.pre.handle(&mut store, wit_request);
        let limit_errors = std::mem::take(&mut store.data_mut().limit_errors);
        let api_errors = std::mem::take(&mut store.data_mut().api_errors);
        let memory_refused = store.data().memory.refused;
        let result = match outcome {
            Ok(Ok(outcomes)) if outcomes.len() > limits.max_outcomes_per_call => {
                Err(CallError::InvalidResult(format!(
                    "it returned {} outcomes; the limit is {}",
                    outcomes.len(),
                    limits.max_outcomes_per_call
                )))
            }
            Ok(Ok(outcomes)) => Ok(outcomes
                .into_iter()
                .map(|o| (host_api::action_from_wit(o.action), o.incident))
                .collect()),
            // A rejection after a host API limit or refusal is the plugin's
            // failure to stay within bounds, not a bad request.
            Ok(Err(_)) if !limit_errors.is_empty() => {
                Err(CallError::HostApiLimit(limit_errors.join("; ")))
            }
            Ok(Err(_)) if !api_errors.is_empty() => {
                Err(CallError::HostApiError(api_errors.join("; ")))
            }
            // The SDK's conversion of a host API error, the plugin's own bug.
            Ok(Err(rejection)) if rejection.code == "host-api-error" => {
                Err(CallError::HostApiError(printable(&rejection.message, MAX_REJECTION_BYTES)))
            }
            Ok(Err(rejection)) => Err(CallError::Rejected {
                code: printable(&rejection.code, MAX_REJECTION_CODE_BYTES),
                message: printable(&rejection.message, MAX_REJECTION_BYTES),
            }),
            Err(_) if memory_refused => Err(CallError::MemoryLimit(limits.memory_bytes)),
            Err(error) => Err(classify_trap(error, limits, &stderr)),
        };
        let state = store.into_data();
        let output = CallOutput {
            result,
            session: state.session.expect("a request's call keeps its session"),
            log: state.log,
            elapsed: started.elapsed(),
            memory_peak_bytes: state.memory.peak_bytes,
            stored_bytes: state.stored_bytes,
        };
        if let Some(observer) = &self.observer {
            observer(CallReport {
                integration: plugin.integration.clone(),
                log: output.log.clone(),
                elapsed: output.elapsed,
                memory_peak_bytes: output.memory_peak_bytes,
            });
        }
        output
    }
}

impl PluginHost {
    /// What `plugin` wants sent to its sender about `change` to `incident`
    /// (plugin API 0.5.0 `on-change`), checked; `Ok(None)` for a plugin
    /// built before 0.5.0, which cannot say. The host API reads through
    /// `session` and changes nothing. Blocking: call it off the runtime.
    #[allow(clippy::too_many_arguments)]
    pub fn on_change(
        &self,
        plugin: &LoadedPlugin,
        session: Session,
        change: &SenderChange,
        marker: String,
        incident: &Incident,
        settings_json: &str,
        limits: &CallLimits,
    ) -> Result<Option<Vec<outbound::SenderRequest>>, CallError> {
        if !plugin.pre.has_outbound() {
            return Ok(None);
        }
        let stderr = MemoryOutputPipe::new(limits.max_stderr_bytes);
        let source = session.scope.name.clone();
        let mut store = self.new_store(Some(session), source, limits, &stderr);
        store.data_mut().read_only = true;
        let change = outbound::change_to_wit(change, marker);
        let incident = host_api::to_wit(incident);
        let answer = plugin.pre.on_change(&mut store, &change, &incident, settings_json);
        let state = store.data();
        match answer {
            Ok(Some(Ok(requests))) => outbound::checked(requests, limits.max_key_bytes).map(Some),
            Ok(Some(Err(why))) => Err(CallError::Rejected {
                code: "refused".into(),
                message: printable(&why, MAX_REJECTION_BYTES),
            }),
            Ok(None) => Ok(None),
            Err(_) if state.memory.refused => Err(CallError::MemoryLimit(limits.memory_bytes)),
            Err(error) => Err(classify_trap(error, limits, &stderr)),
        }
    }
}

/// Longest rejection message passed on to the sender and the log, in bytes:
/// enough to name the field and what was expected.
const MAX_REJECTION_BYTES: usize = 4096;
/// Longest rejection code, in bytes.
const MAX_REJECTION_CODE_BYTES: usize = 64;

/// `text` safe to put in an answer or a log line: control characters
/// (CR, LF, ESC, ...) escaped so a plugin cannot forge log lines or
/// terminal output, and cut to `max_bytes` with a marker saying so.
pub fn printable(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes));
    for (at, c) in text.char_indices() {
        if out.len() >= max_bytes {
            out.push_str(&format!("… ({} more bytes cut)", text.len() - at));
            return out;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn classify_trap(
    error: wasmtime::Error,
    limits: &CallLimits,
    stderr: &MemoryOutputPipe,
) -> CallError {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => return CallError::Timeout(limits.timeout),
        Some(wasmtime::Trap::StackOverflow) => {
            return CallError::Trap("stack overflow (deep recursion)".to_string());
        }
        _ => {}
    }
    if let Some(host_api::StorageFailed(crate::store::Error::Unavailable(why))) =
        error.downcast_ref::<host_api::StorageFailed>()
    {
        return CallError::StorageUnavailable(why.clone());
    }
    let stderr = printable(String::from_utf8_lossy(&stderr.contents()).trim(), usize::MAX);
    let mut message = error.root_cause().to_string();
    if !stderr.is_empty() {
        message.push_str(&format!("; plugin stderr: {stderr}"));
    }
    if let Some(backtrace) = error.downcast_ref::<wasmtime::WasmBacktrace>().and_then(backtrace) {
        message.push_str(&format!("; wasm backtrace: {backtrace}"));
    }
    CallError::Trap(message)
}

/// Most wasm frames a trap message names: the plugin's own functions are
/// near the top once the panic machinery is skipped.
const MAX_BACKTRACE_FRAMES: usize = 12;

/// Where a trap happened, innermost first, by the function names the
/// component carries (its name section; wasmtime demangles Rust names), on
/// one line so it stays one log line. The frames of Rust's panic machinery
/// come first in a panic and say nothing about the plugin, so they are left
/// out. `None` when no frame has a name.
fn backtrace(trace: &wasmtime::WasmBacktrace) -> Option<String> {
    let names: Vec<String> = trace
        .frames()
        .iter()
        .map(|frame| {
            let name = frame
                .func_name()
                .map_or("?".to_string(), |name| format!("{:#}", rustc_demangle::demangle(name)));
            match frame.symbols().first().and_then(|s| Some((s.file()?, s.line()?))) {
                Some((file, line)) => format!("{name} ({file}:{line})"),
                None => name.to_string(),
            }
        })
        .skip_while(|name| is_panic_machinery(name))
        .collect();
    if names.iter().all(|name| name == "?") {
        return None;
    }
    let shown = names.len().min(MAX_BACKTRACE_FRAMES);
    let mut text = names[..shown].join(" <- ");
    if names.len() > shown {
        text.push_str(&format!(" <- ... ({} more frames)", names.len() - shown));
    }
    Some(printable(&text, 4096))
}

fn is_panic_machinery(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "<std::",
        "<core::",
        "<alloc::",
        "__rust",
        "rust_panic",
        "rust_begin_unwind",
        "abort",
        "panic_abort",
        "inbound_sdk::panic",
        "__rustc::",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\r\nINFO forged\u{1b}[31m", 100), "a\\r\\nINFO forged\\u{1b}[31m");
    }

    #[test]
    fn panic_frames_are_machinery_and_plugin_frames_are_not() {
        for name in [
            "std::panicking::begin_panic",
            "core::panicking::panic_fmt",
            "__rustc::__rust_start_panic",
            "abort",
        ] {
            assert!(super::is_panic_machinery(name), "{name}");
        }
        for name in ["<my_plugin::MyPlugin as inbound_sdk::Plugin>::handle", "my_plugin::parse"] {
            assert!(!super::is_panic_machinery(name), "{name}");
        }
    }

    #[test]
    fn long_text_is_cut_with_a_marker() {
        assert_eq!(printable(&"x".repeat(10), 4), "xxxx… (6 more bytes cut)");
        assert_eq!(printable("short", 5), "short");
    }
}
