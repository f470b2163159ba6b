//! A test harness for plugin authors: runs a plugin's `.wasm` on the host's
//! real runtime (same engine, limits, host API and ingest path as `inbound
//! serve`) against a real, temporary redb database. No server, no mocks.
//!
//! ```no_run
//! use inbound::harness::{Harness, TestRequest};
//!
//! let harness = Harness::new("target/wasm32-wasip2/release/my_plugin.wasm").unwrap();
//! let run = harness.send(TestRequest::fixture("tests/fixtures/firing.json").unwrap());
//! assert_eq!(run.status, 202, "{run}");
//! assert_eq!(run.incidents()[0].summary, "Disk full");
//! assert!(run.logged("created"));
//! ```
//!
//! Each [`Harness`] is one source with its own database: requests sent to it
//! see the incidents and state earlier requests left, as on a real host.
//! Modelled on Shopify's function-runner: a run returns everything an author
//! needs to judge it (answer, incidents, log, time, memory), as text or JSON.

mod change;
pub mod fixture;
mod request;
mod run;

pub use change::{ChangeRun, TestChange};
pub use fixture::Fixture;
pub use request::TestRequest;
pub use run::{LogLine, RunResult};

use crate::ingest::{EventLogOptions, FailurePolicy, Ingest, Source};
use crate::plugin::{ApiVersion, CallLimits, CallReport, EngineSettings, PluginHost};
use crate::store::{Incident, ListQuery, LogEntry, Store, StoreOptions};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The integration name a plugin file is loaded under outside a config:
/// its file name without `.wasm`, so errors name the file the author built.
pub fn integration_name(wasm: &Path) -> String {
    wasm.file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| !stem.is_empty())
        .unwrap_or("plugin")
        .to_string()
}

/// Compiled components the author's cache keeps (the newest used).
const AUTHOR_CACHE_ENTRIES: usize = 16;

/// The largest per-call memory limit a harness accepts.
pub const MAX_MEMORY_BYTES: usize = 1 << 30;

pub struct Harness {
    runtime: tokio::runtime::Runtime,
    plugins: Arc<PluginHost>,
    ingest: Ingest,
    source: Source,
    api_version: ApiVersion,
    reports: Arc<Mutex<Vec<CallReport>>>,
    /// Changes asked so far, numbering their markers.
    changes: std::sync::atomic::AtomicU64,
    // Dropped last: the database lives in it.
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Loads the component at `wasm` exactly as `inbound serve` would (world
    /// check, link), for a source named `test` with empty settings and the
    /// default limits.
    pub fn new(wasm: impl AsRef<Path>) -> anyhow::Result<Harness> {
        let wasm = wasm.as_ref();
        // A handful of slots: one test runs one call at a time. Slots as
        // large as `with_limits` may ask for; each call's own cap is its
        // `CallLimits::memory_bytes`, as on the host.
        let settings =
            EngineSettings { max_concurrent_calls: 4, max_memory_bytes: MAX_MEMORY_BYTES };
        let mut plugins = PluginHost::new(&settings)?;
        let integration = integration_name(wasm);
        // Compiled once per build of the plugin: the author's edit-test loop.
        let cache = crate::plugin::cache::user_cache_dir();
        plugins.load(&integration, wasm, cache.as_deref())?;
        if let Some(cache) = &cache {
            crate::plugin::cache::prune(cache, AUTHOR_CACHE_ENTRIES);
        }
        let api_version = plugins.plugin(&integration).expect("just loaded").api_version();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = reports.clone();
        plugins
            .observe_calls(move |report| sink.lock().expect("no panics while locked").push(report));
        Harness::on(Arc::new(plugins), integration, api_version, reports)
    }

    /// Another harness for the same loaded plugin with an empty database and
    /// default settings: many tests, one compile (seconds for a large plugin).
    pub fn with_empty_database(&self) -> anyhow::Result<Harness> {
        Harness::on(
            self.plugins.clone(),
            self.source.integration.clone(),
            self.api_version,
            self.reports.clone(),
        )
    }

    fn on(
        plugins: Arc<PluginHost>,
        integration: String,
        api_version: ApiVersion,
        reports: Arc<Mutex<Vec<CallReport>>>,
    ) -> anyhow::Result<Harness> {
        let dir = tempfile::tempdir()
            .context("cannot create a temporary directory for the test database")?;
        let store = Store::open(&dir.path().join("inbound.redb"), StoreOptions::scratch(), |_| {})?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Harness {
            runtime,
            ingest: Ingest::new(
                Arc::new(store),
                plugins.clone(),
                EventLogOptions { body_cap: 64 << 10, count_repeats: true },
                4,
            ),
            plugins,
            source: Source {
                name: "test".into(),
                integration,
                escalation_policy: "test".into(),
                key: String::new(),
                settings_json: "{}".into(),
                limits: CallLimits::default(),
                on_failure: FailurePolicy::default(),
                storage_budget: None,
                shadow: None,
            },
            api_version,
            reports,
            changes: Default::default(),
            _dir: dir,
        })
    }

    /// The source's `settings`, as `config.toml` would give them (a JSON
    /// object). Judged as `inbound serve` judges them at start-up (with the
    /// limits set so far): settings the plugin refuses are an error here.
    pub fn with_settings(mut self, settings: serde_json::Value) -> anyhow::Result<Harness> {
        let serde_json::Value::Object(table) = &settings else {
            anyhow::bail!(
                "settings must be a JSON object, like a [sources.settings] table; got {settings}"
            );
        };
        let plugin = self.loaded();
        // The refusal stays typed under the context: fixtures tell a refusal
        // from a plugin that failed while judging.
        self.plugins.check_settings(&plugin, table, &self.source.limits).map_err(|refused| {
            anyhow::Error::new(refused)
                .context("the plugin refuses these settings (inbound serve would not start)")
        })?;
        self.source.settings_json = settings.to_string();
        Ok(self)
    }

    /// What the plugin says about itself (API 0.3.0 and later), asked with
    /// the limits set so far.
    pub fn about(&self) -> anyhow::Result<Option<crate::plugin::PluginInfo>> {
        Ok(self.plugins.describe(&self.loaded(), &self.source.limits)?)
    }

    fn loaded(&self) -> Arc<crate::plugin::LoadedPlugin> {
        self.plugins.plugin(&self.source.integration).expect("the harness loaded its plugin")
    }

    /// The name the plugin sees as `request.source`.
    pub fn with_source_name(mut self, name: &str) -> Harness {
        self.source.name = name.into();
        self
    }

    /// Per-call limits (timeout, memory, host API caps); defaults are the host's.
    pub fn with_limits(mut self, limits: CallLimits) -> anyhow::Result<Harness> {
        anyhow::ensure!(
            limits.memory_bytes <= MAX_MEMORY_BYTES,
            "the memory limit is over the harness's {} MiB",
            MAX_MEMORY_BYTES >> 20
        );
        self.source.limits = limits;
        Ok(self)
    }

    /// The `inbound:plugin` version the component was built against.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// Delivers one request through the host's ingest path and commits what
    /// the plugin did, as the webhook route would.
    pub fn send(&self, request: impl Into<TestRequest>) -> RunResult {
        let request = request.into();
        self.reports.lock().expect("no panics while locked").clear();
        let result = self.runtime.block_on(self.ingest.deliver(
            &self.source,
            request.headers,
            request.body.into(),
        ));
        let (status, answer, outcomes) = match result {
            Ok(delivered) => {
                let (status, answer) = crate::http::webhook_answer(Ok(&delivered));
                (status, answer, delivered.outcomes)
            }
            Err(error) => {
                let (status, answer) = crate::http::webhook_answer(Err(error));
                (status, answer, Vec::new())
            }
        };
        // Under contention the host may run a call again; the last run is
        // the one whose changes count.
        let report = self.reports.lock().expect("no panics while locked").pop();
        RunResult::new(status, answer, outcomes, report)
    }

    /// What the plugin would send its sender after `change` (plugin API
    /// 0.5.0 `on-change`), as `inbound serve` asks it when the source has
    /// `[sources.outbound]`: the incident as it is after the change, the
    /// host API read-only. Nothing is sent and nothing changes; play the
    /// sender's answer back with [`Harness::answer`].
    pub fn change(&self, change: &TestChange) -> anyhow::Result<ChangeRun> {
        let id =
            match change.incident {
                Some(id) => id,
                None => self.incidents().last().map(|i| i.id).context(
                    "there is no incident to change: send a request that creates one first",
                )?,
            };
        let (mut incident, _) =
            self.incident(id).with_context(|| format!("there is no incident {id}"))?;
        if let Some(status) = change.status_after() {
            incident.status = status;
        }
        let now = crate::store::now_millis();
        let sequence = self.changes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let marker = format!("inbound-{id}-{sequence}");
        let told = crate::store::SenderChange {
            kind: change.kind,
            by: change.by.clone(),
            text: change.text.clone(),
            at: now,
        };
        let session =
            crate::store::Session::new(self.ingest.store.clone(), self.source.scope(), now)?;
        let answer = self.plugins.on_change(
            &self.loaded(),
            session,
            &told,
            marker.clone(),
            &incident,
            &self.source.settings_json,
            &self.source.limits,
        );
        let requests = match answer {
            Ok(Some(requests)) => Ok(requests),
            Ok(None) => Err(format!(
                "the plugin is built against inbound:plugin@{}; on-change exists from 0.5.0",
                self.api_version
            )),
            Err(error) => Err(error.to_string()),
        };
        Ok(ChangeRun { marker, requests })
    }

    /// Plays the sender's 2xx answer to `request` back as the host would:
    /// kept in the source's state under its `remember-as` key (an empty
    /// answer removes the key), for the next change to read.
    pub fn answer(
        &self,
        request: &crate::plugin::outbound::SenderRequest,
        body: &[u8],
    ) -> anyhow::Result<()> {
        let Some(key) = &request.remember_as else { return Ok(()) };
        let value = (!body.iter().all(u8::is_ascii_whitespace)).then(|| body.to_vec());
        let changes = crate::notify::outbound::remembered_changes(
            &self.source.name,
            vec![(key.clone(), value)],
            self.source.limits.max_state_bytes_per_source,
        );
        self.runtime.block_on(self.ingest.store.commit(changes))?;
        Ok(())
    }

    /// Every incident of the source, oldest first.
    pub fn incidents(&self) -> Vec<Incident> {
        // A test makes a few incidents; one page holds them all.
        let query = ListQuery { limit: 10_000, ..ListQuery::default() };
        let mut page = self.ingest.store.list(&query).expect("the test database is readable").items;
        page.reverse();
        page
    }

    /// One incident and its log (events received, status changes, comments).
    pub fn incident(&self, id: u64) -> Option<(Incident, Vec<LogEntry>)> {
        self.ingest.store.incident_with_log(id).expect("the test database is readable")
    }
}

/// Where `cargo build --release --target wasm32-wasip2` put the component of
/// the crate `crate_name`, seen from a test binary of the same workspace.
/// Panics with what to run if it is missing or older than the crate's
/// sources, so a test never silently runs a stale plugin.
///
/// Call it as `plugin_wasm(env!("CARGO_MANIFEST_DIR"), env!("CARGO_CRATE_NAME"))`.
pub fn plugin_wasm(manifest_dir: &str, crate_name: &str) -> PathBuf {
    // Test binaries live in <target>/<profile>/deps/.
    let exe = std::env::current_exe().expect("the test binary has a path");
    let target = exe.ancestors().nth(3).expect("test binaries live in <target>/<profile>/deps");
    let wasm = target.join("wasm32-wasip2/release").join(format!("{crate_name}.wasm"));
    let build = format!(
        "cargo build --release --target wasm32-wasip2 --manifest-path {manifest_dir}/Cargo.toml"
    );
    let built = std::fs::metadata(&wasm).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("{} is missing: build the plugin first with `{build}`", wasm.display())
    });
    if let Some(newer) =
        newest_source(Path::new(manifest_dir)).filter(|(changed, _)| *changed > built)
    {
        panic!("{} is older than {}: rebuild it with `{build}`", wasm.display(), newer.1.display());
    }
    wasm
}

/// The most recently changed source of a plugin project: any file under
/// `src/`, and the `.py` and `.js` files at its top (Python, JavaScript). (Not
/// `Cargo.toml`: a change there, e.g. a new dev-dependency, need not rebuild
/// the component, so its time would make a fresh `.wasm` look stale forever.)
pub fn newest_source(crate_dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut pending = vec![crate_dir.join("src")];
    pending.extend(
        std::fs::read_dir(crate_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            // Python and JavaScript projects keep their sources at the top.
            .filter(|path| {
                path.extension().is_some_and(|extension| extension == "py" || extension == "js")
            }),
    );
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    while let Some(path) = pending.pop() {
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        if metadata.is_dir() {
            pending.extend(
                std::fs::read_dir(&path).into_iter().flatten().flatten().map(|entry| entry.path()),
            );
        } else if let Ok(modified) = metadata.modified()
            && newest.as_ref().is_none_or(|(time, _)| modified > *time)
        {
            newest = Some((modified, path));
        }
    }
    newest
}
