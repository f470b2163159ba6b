//! A shadow plugin: a candidate version of a source's plugin, run beside the
//! live one on every real event and never applied (`[sources.shadow]`).
//!
//! The live call answers the sender first; the shadow runs afterwards, on
//! the blocking pool, in its own engine with its own instance slots, so a
//! shadow that traps, loops or runs out of memory costs the live path
//! nothing. It reads the world as the live call read it (the live session's
//! recorded answers, [`SeenFirst`]), so the live call's own commit does not
//! make the shadow see its incident as already there. Its changes are
//! dropped; only the comparison of the two outcomes is kept: counts (also
//! in `/metrics`) and the latest differences, in memory, per host.

use super::outcome::{Outcome, Unaccounted, checked_outcomes};
use crate::plugin::{CallLimits, EngineSettings, LoadedPlugin, PluginHost, PluginRequest};
use crate::store::{IncidentId, Millis, Seen, SeenFirst, Session, SourceScope, Store};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Events a shadow judged, by source and result: `same`, `different`,
/// `failed` (the shadow trapped, timed out or answered nonsense where the
/// live plugin did not), `skipped` (its slots were busy, or storage failed).
pub const SHADOW_EVENTS: &str = "inbound_shadow_events_total";

/// Differences kept for the API and the console, newest first.
const RECENT_DIFFERENCES: usize = 50;

/// Shadow calls at once; an event that finds them busy is skipped (and
/// counted), never queued: a slow shadow must not grow a backlog.
const SLOTS: usize = 2;

pub struct Shadow {
    /// The candidate's file, as the config resolves it.
    pub plugin_file: PathBuf,
    host: PluginHost,
    plugin: Arc<LoadedPlugin>,
    settings_json: String,
    limits: CallLimits,
    slots: Arc<Semaphore>,
    counts: Counts,
    recent: Mutex<VecDeque<ShadowDifference>>,
}

#[derive(Default)]
struct Counts {
    same: AtomicU64,
    different: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    /// Events where the shadow read something the live call had not, and so
    /// saw it as it was after the live commit.
    read_beyond_live: AtomicU64,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow").field("plugin_file", &self.plugin_file).finish_non_exhaustive()
    }
}

/// One event on which the shadow and the live plugin disagreed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShadowDifference {
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = u64)]
    pub received_at: Millis,
    /// The first incident the live plugin reported, if any.
    #[schema(value_type = Option<u64>)]
    pub incident: Option<IncidentId>,
    /// What differs (see [`Outcome::differences`]).
    pub fields: Vec<String>,
    pub live: Outcome,
    pub shadow: Outcome,
    /// The shadow read state the live call had not read: that answer
    /// included the live call's own changes.
    pub read_beyond_live: bool,
}

/// What a shadow has judged since it was loaded.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShadowReport {
    pub plugin: String,
    pub api_version: String,
    pub same: u64,
    pub different: u64,
    pub failed: u64,
    pub skipped: u64,
    pub read_beyond_live: u64,
    /// The latest differences, newest first (at most 50).
    pub differences: Vec<ShadowDifference>,
}

/// One live event, handed to the shadow once the live answer is settled.
pub(super) struct ShadowEvent {
    pub store: Arc<Store>,
    pub scope: SourceScope,
    pub headers: Arc<Vec<(String, String)>>,
    pub body: bytes::Bytes,
    pub received_at: Millis,
    /// What the live call read; `None` when it committed nothing, so the
    /// store as it is now is what it saw.
    pub seen: Option<Seen>,
    pub live: Outcome,
    pub live_incident: Option<IncidentId>,
}

impl Shadow {
    /// Compiles (or loads from `cache_dir`) the candidate at `file` for
    /// `source`, in an engine of its own.
    pub fn load(
        source: &str,
        file: &Path,
        settings_json: String,
        limits: CallLimits,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<Shadow> {
        let engine = EngineSettings {
            max_concurrent_calls: SLOTS as u32,
            max_memory_bytes: limits.memory_bytes,
        };
        let mut host = PluginHost::new(&engine)?;
        let name = format!("shadow of {source}");
        host.load(&name, file, cache_dir)?;
        let plugin = host.plugin(&name).expect("just loaded");
        Ok(Shadow {
            plugin_file: file.to_path_buf(),
            host,
            plugin,
            settings_json,
            limits,
            slots: Arc::new(Semaphore::new(SLOTS)),
            counts: Counts::default(),
            recent: Mutex::new(VecDeque::new()),
        })
    }

    /// The candidate's own host and plugin, to judge its settings at start-up.
    pub fn loaded(&self) -> (&PluginHost, &Arc<LoadedPlugin>, &CallLimits) {
        (&self.host, &self.plugin, &self.limits)
    }

    /// The settings the candidate is called with, as JSON.
    pub fn settings_json(&self) -> &str {
        &self.settings_json
    }

    /// Runs the shadow on `event` in the background, or counts it skipped
    /// when every slot is busy. Returns at once.
    pub(super) fn observe(self: &Arc<Self>, event: ShadowEvent) {
        let source = event.scope.name.clone();
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            self.count(&source, "skipped", &self.counts.skipped);
            return;
        };
        let shadow = self.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            shadow.judge(event);
        });
    }

    fn judge(&self, event: ShadowEvent) {
        let source = event.scope.name.clone();
        let fresh = match event.store.snapshot() {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::warn!(source = %source, error = %error, "shadow skipped: storage unreadable");
                self.count(&source, "skipped", &self.counts.skipped);
                return;
            }
        };
        let (snapshot, beyond) = match event.seen {
            Some(seen) => SeenFirst::snapshot(Arc::new(seen), fresh),
            None => (fresh, Arc::new(std::sync::atomic::AtomicU32::new(0))),
        };
        let session = Session::over(event.store.clone(), snapshot, event.scope, event.received_at);
        let request = PluginRequest {
            headers: event.headers.to_vec(),
            body: event.body.to_vec(),
            settings_json: self.settings_json.clone(),
        };
        let output = self.host.call(&self.plugin, session, request, &self.limits);
        let mut session = output.session;
        let shadow = match output.result {
            Ok(reported) => match checked_outcomes(&mut session, reported) {
                Ok(outcomes) => Outcome::accepted(&outcomes),
                Err(Unaccounted::Plugin(error)) => Outcome::refused(&error),
                Err(Unaccounted::Storage(_)) => {
                    self.count(&source, "skipped", &self.counts.skipped);
                    return;
                }
            },
            // Not the candidate's doing: nothing to compare.
            Err(crate::plugin::CallError::StorageUnavailable(_)) => {
                self.count(&source, "skipped", &self.counts.skipped);
                return;
            }
            Err(error) => Outcome::refused(&error),
        };
        let read_beyond_live = beyond.load(Ordering::Relaxed) > 0;
        if read_beyond_live {
            self.counts.read_beyond_live.fetch_add(1, Ordering::Relaxed);
        }
        let fields = event.live.differences(&shadow);
        if fields.is_empty() {
            self.count(&source, "same", &self.counts.same);
            return;
        }
        let shadow_failed = matches!(shadow.answer, super::outcome::Answer::Failed { .. })
            && !matches!(event.live.answer, super::outcome::Answer::Failed { .. });
        if shadow_failed {
            self.count(&source, "failed", &self.counts.failed);
        } else {
            self.count(&source, "different", &self.counts.different);
        }
        let mut recent = self.recent.lock().expect("no panics while locked");
        recent.push_front(ShadowDifference {
            received_at: event.received_at,
            incident: event.live_incident,
            fields: fields.into_iter().map(str::to_string).collect(),
            live: event.live,
            shadow,
            read_beyond_live,
        });
        recent.truncate(RECENT_DIFFERENCES);
    }

    fn count(&self, source: &str, result: &'static str, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(SHADOW_EVENTS, "source" => source.to_string(), "result" => result)
            .increment(1);
    }

    /// What the shadow has judged so far.
    pub fn report(&self) -> ShadowReport {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ShadowReport {
            plugin: self.plugin_file.display().to_string(),
            api_version: self.plugin.api_version().to_string(),
            same: load(&self.counts.same),
            different: load(&self.counts.different),
            failed: load(&self.counts.failed),
            skipped: load(&self.counts.skipped),
            read_beyond_live: load(&self.counts.read_beyond_live),
            differences: self
                .recent
                .lock()
                .expect("no panics while locked")
                .iter()
                .cloned()
                .collect(),
        }
    }
}

impl ShadowReport {
    /// The report as a person reads it.
    pub fn to_text(&self, source: &str) -> String {
        use std::fmt::Write;
        let mut text = String::new();
        let _ = writeln!(
            text,
            "shadow of source {source}: {} (inbound:plugin@{})",
            self.plugin, self.api_version
        );
        let _ = writeln!(text, "  same:      {}", self.same);
        let _ = writeln!(text, "  different: {}", self.different);
        let _ = writeln!(
            text,
            "  failed:    {} (the shadow failed where the live plugin did not)",
            self.failed
        );
        let _ = writeln!(text, "  skipped:   {} (its slots were busy)", self.skipped);
        for difference in &self.differences {
            let _ = writeln!(
                text,
                "\nevent received at {} (live incident {}): {}",
                crate::store::rfc3339_millis(difference.received_at),
                difference.incident.map_or("none".to_string(), |id| id.to_string()),
                difference.fields.join(", ")
            );
            let _ = writeln!(text, "  live:   {}", difference.live.describe());
            let _ = writeln!(text, "  shadow: {}", difference.shadow.describe());
        }
        text
    }
}
