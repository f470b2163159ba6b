//! Notifier plugins: loading `inbound:notifier` components and running one
//! `render` (or `render-digest`) call in a sandbox.
//!
//! Both versions load: 0.2.0 is 0.1.0 plus `render-digest`, and its `types`
//! interface holds every 0.1.0 type unchanged, so the 0.1.0 bindings share
//! the 0.2.0 types (`with:`) and the host speaks one set of types.
//!
//! Notifiers get their own engine and instance pool, apart from the
//! integrations', so rendering a backlog of notifications can never take an
//! instance slot a webhook needs. They import nothing from the host; WASI is
//! linked with an empty context (no files, sockets, environment) and frozen
//! clocks, so a notifier cannot tell the time either: `sent-at` is the host's.

use crate::plugin::engine::{self, EngineSettings};
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub mod bindings {
    pub mod v0_2_0 {
        wasmtime::component::bindgen!({
            path: "wit/notifier/v0.2.0",
            world: "notifier",
        });
    }

    pub mod v0_1_0 {
        wasmtime::component::bindgen!({
            path: "wit/notifier/v0.1.0",
            world: "notifier",
            with: { "inbound:notifier/types@0.1.0": super::v0_2_0::inbound::notifier::types },
        });
    }
}

use bindings::v0_2_0::inbound::notifier::types::RenderError as Refusal;
pub use bindings::v0_2_0::inbound::notifier::types::{
    Channel, Digest, Email, HttpRequest, Incident, Kind, Message, Notification, Recipient,
};

/// The `inbound:notifier` versions this host loads, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];
const RENDERERS: [&str; 2] = ["inbound:notifier/renderer@0.1.0", "inbound:notifier/renderer@0.2.0"];
const TYPES: [&str; 2] = ["inbound:notifier/types@0.1.0", "inbound:notifier/types@0.2.0"];

/// A channel's loaded notifier, by the version it was built against.
enum Loaded {
    V0_1(bindings::v0_1_0::NotifierPre<RenderState>),
    V0_2(bindings::v0_2_0::NotifierPre<RenderState>),
}

/// Limits of one render call. Rendering is string formatting: a second is
/// generous, and catches a loop without holding a delivery slot long.
#[derive(Debug, Clone)]
pub struct RenderLimits {
    pub timeout: Duration,
    pub memory_bytes: usize,
    pub max_stderr_bytes: usize,
    /// Messages one notification may become.
    pub max_messages: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            timeout: Duration::from_secs(1),
            memory_bytes: 32 << 20,
            max_stderr_bytes: 16 << 10,
            max_messages: 16,
        }
    }
}

/// Render calls running at once; sizes the notifiers' instance pool.
pub const MAX_CONCURRENT_RENDERS: u32 = 8;

pub struct RenderState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for RenderState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Stands still at the Unix epoch: a notifier has no clock.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Why a notification could not be rendered. Never retried: rendering is a
/// pure function of the notification and the channel.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RenderError {
    #[error("the notifier refused: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("the notifier ran longer than its {0:?} limit")]
    Timeout(Duration),
    #[error("the notifier failed: {0}")]
    Trap(String),
    #[error("the notifier returned {0} messages; the limit is {1}")]
    TooManyMessages(usize, usize),
    #[error("no notifier is loaded for channel {0:?}")]
    NotLoaded(String),
    #[error("the notifier of channel {0:?} predates digests (inbound:notifier@0.1.0)")]
    NoDigests(String),
}

/// The notifiers' engine and every channel's loaded component.
pub struct NotifierHost {
    engine: Engine,
    linker: Linker<RenderState>,
    channels: HashMap<String, Loaded>,
    pub limits: RenderLimits,
    /// One permit per pooled instance: a render waits here rather than
    /// fail to get an instance.
    pub slots: std::sync::Arc<tokio::sync::Semaphore>,
}

impl NotifierHost {
    pub fn new() -> anyhow::Result<NotifierHost> {
        let settings = EngineSettings {
            max_concurrent_calls: MAX_CONCURRENT_RENDERS,
            max_memory_bytes: RenderLimits::default().memory_bytes,
        };
        let (engine, _) = engine::build(&settings)?;
        engine::spawn_epoch_ticker(&engine)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot link the WASI interfaces for notifiers")?;
        // `types` has no functions; a component may still import it.
        for types in TYPES {
            linker.instance(types).map_err(anyhow::Error::from)?;
        }
        Ok(NotifierHost {
            engine,
            linker,
            channels: HashMap::new(),
            limits: RenderLimits::default(),
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
                MAX_CONCURRENT_RENDERS as usize,
            )),
        })
    }

    /// Compiles (or loads from `cache_dir`) the notifier at `path` for `channel`.
    pub fn load(
        &mut self,
        channel: &str,
        path: &Path,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<()> {
        let (component, _) = crate::plugin::cache::load(&self.engine, path, cache_dir)
            .with_context(|| {
                format!("cannot compile the notifier {} for channel {channel:?}", path.display())
            })?;
        let version = check_world(&self.engine, &component).with_context(|| {
            format!("cannot load the notifier {} for channel {channel:?}", path.display())
        })?;
        let pre = self.linker.instantiate_pre(&component).and_then(|pre| match version {
            "0.1.0" => bindings::v0_1_0::NotifierPre::new(pre).map(Loaded::V0_1),
            _ => bindings::v0_2_0::NotifierPre::new(pre).map(Loaded::V0_2),
        });
        let pre = pre.map_err(anyhow::Error::from).with_context(|| {
            format!(
                "the notifier {} does not fit the inbound:notifier world this host provides",
                path.display()
            )
        })?;
        self.channels.insert(channel.to_string(), pre);
        Ok(())
    }

    /// The `inbound:notifier` version `channel`'s notifier was built
    /// against, if one is loaded.
    pub fn version(&self, channel: &str) -> Option<&'static str> {
        self.channels.get(channel).map(|loaded| match loaded {
            Loaded::V0_1(_) => "0.1.0",
            Loaded::V0_2(_) => "0.2.0",
        })
    }

    /// Whether `channel`'s notifier renders digests (0.2.0 and later).
    pub fn renders_digests(&self, channel: &str) -> bool {
        matches!(self.channels.get(channel), Some(Loaded::V0_2(_)))
    }

    /// Renders `notification` with `channel`'s notifier. Blocking.
    pub fn render(
        &self,
        notification: &Notification,
        channel: &Channel,
    ) -> Result<Vec<Message>, RenderError> {
        self.call(channel, |loaded, store| match loaded {
            Loaded::V0_1(pre) => pre.instantiate(&mut *store).and_then(|instance| {
                instance.inbound_notifier_renderer().call_render(store, notification, channel)
            }),
            Loaded::V0_2(pre) => pre.instantiate(&mut *store).and_then(|instance| {
                instance.inbound_notifier_renderer().call_render(store, notification, channel)
            }),
        })
    }

    /// Renders `digest` with `channel`'s notifier, which must be 0.2.0 or
    /// later. Blocking.
    pub fn render_digest(
        &self,
        digest: &Digest,
        channel: &Channel,
    ) -> Result<Vec<Message>, RenderError> {
        self.call(channel, |loaded, store| match loaded {
            Loaded::V0_1(_) => Ok(Err(Refusal {
                code: "no-digests".into(),
                message: RenderError::NoDigests(channel.name.clone()).to_string(),
            })),
            Loaded::V0_2(pre) => pre.instantiate(&mut *store).and_then(|instance| {
                instance.inbound_notifier_renderer().call_render_digest(store, digest, channel)
            }),
        })
    }

    /// One call into `channel`'s notifier in a fresh sandboxed store.
    fn call(
        &self,
        channel: &Channel,
        call: impl FnOnce(
            &Loaded,
            &mut Store<RenderState>,
        ) -> wasmtime::Result<Result<Vec<Message>, Refusal>>,
    ) -> Result<Vec<Message>, RenderError> {
        let loaded = self
            .channels
            .get(&channel.name)
            .ok_or_else(|| RenderError::NotLoaded(channel.name.clone()))?;
        let stderr = MemoryOutputPipe::new(self.limits.max_stderr_bytes);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .build();
        let state = RenderState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        let ticks =
            (self.limits.timeout.as_millis() / engine::EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks + 1);
        let outcome = call(loaded, &mut store);
        match outcome {
            Ok(Ok(messages)) if messages.len() > self.limits.max_messages => {
                Err(RenderError::TooManyMessages(messages.len(), self.limits.max_messages))
            }
            Ok(Ok(messages)) => Ok(messages),
            Ok(Err(refusal)) => {
                Err(RenderError::Refused { code: refusal.code, message: refusal.message })
            }
            Err(error) => {
                if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
                    return Err(RenderError::Timeout(self.limits.timeout));
                }
                let stderr = String::from_utf8_lossy(&stderr.contents()).trim().to_string();
                let root = error.root_cause().to_string();
                Err(RenderError::Trap(if stderr.is_empty() {
                    root
                } else {
                    format!("{root}; notifier stderr: {stderr}")
                }))
            }
        }
    }
}

/// A notifier exports the renderer of one supported version and imports
/// nothing but WASI 0.2 (linked empty) and the function-less `types`
/// interface. Returns the version.
fn check_world(
    engine: &Engine,
    component: &wasmtime::component::Component,
) -> anyhow::Result<&'static str> {
    let ty = component.component_type();
    let extra: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .filter(|name| {
            !(TYPES.contains(&name.as_str())
                || (name.starts_with("wasi:") && name.contains("@0.2.")))
        })
        .collect();
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    let version = RENDERERS
        .iter()
        .zip(SUPPORTED_VERSIONS)
        .rev()
        .find(|(renderer, _)| exports.iter().any(|name| name == *renderer))
        .map(|(_, version)| *version);
    let mut problems = Vec::new();
    if !extra.is_empty() {
        problems.push(format!(
            "it imports {}, which a notifier does not get (only WASI 0.2 with no capabilities)",
            extra.join(", ")
        ));
    }
    if version.is_none() {
        let found = exports.iter().find(|name| name.starts_with("inbound:"));
        problems.push(format!(
            "it does not export {} (supported inbound:notifier versions: {}){}",
            RENDERERS.join(" or "),
            SUPPORTED_VERSIONS.join(", "),
            found.map(|name| format!("; it exports {name}")).unwrap_or_default()
        ));
    }
    match version {
        Some(version) if problems.is_empty() => Ok(version),
        _ => anyhow::bail!("the component is not an inbound:notifier: {}", problems.join("; ")),
    }
}
