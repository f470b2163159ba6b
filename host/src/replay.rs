//! Replaying a source's stored events through a candidate plugin, to see
//! what a new version would do differently before it is live.
//!
//! Both the live plugin and the candidate run over the same events, in the
//! order they were received, each against its own scratch database that
//! starts empty and is thrown away: the live data is only read. Comparing
//! the candidate with the live plugin *replayed* (not with the live records)
//! means both saw exactly the same history, so a difference is the
//! candidate's. Where the replayed live plugin does not do what it did live
//! (its incident predates the window; a person resolved it meanwhile), the
//! event is counted as not reproduced, so the reader knows how far the
//! scratch history is from the real one.

pub mod events;

use crate::ingest::{EventLogOptions, Ingest, Outcome, Source};
use crate::plugin::{EngineSettings, PluginHost};
use crate::store::{Action, IncidentId, Millis, Store, StoreOptions};
use anyhow::Context;
use events::{Collected, Recorded, StoredEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Events a replay takes unless told otherwise, and at most.
pub const DEFAULT_EVENTS: usize = 1000;
pub const MAX_EVENTS: usize = 10_000;

/// Differences shown in full; the rest are counted.
const EXAMPLES: usize = 10;

/// What a replay found.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayReport {
    pub source: String,
    pub live_api_version: String,
    pub candidate_api_version: String,
    /// Events replayed.
    pub events: usize,
    pub same: usize,
    pub different: usize,
    /// How many events differ in each field (see [`Outcome::differences`]).
    pub by_field: BTreeMap<String, usize>,
    /// Events where the live plugin, replayed, did not do what it did live.
    pub not_reproduced: usize,
    /// Events in the window left out: bodies the log had cut, and those
    /// beyond the limit (the oldest).
    pub left_out_truncated: usize,
    pub left_out_over_limit: usize,
    /// When the first and last replayed events were received.
    #[schema(value_type = Option<u64>)]
    pub first_event_at: Option<Millis>,
    #[schema(value_type = Option<u64>)]
    pub last_event_at: Option<Millis>,
    /// The first differences, in event order.
    pub examples: Vec<ReplayDifference>,
}

/// One event on which the candidate and the live plugin disagreed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayDifference {
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = u64)]
    pub received_at: Millis,
    /// The incidents the event was logged on live (empty: a failed delivery).
    #[schema(value_type = Vec<u64>)]
    pub live_incidents: Vec<IncidentId>,
    pub fields: Vec<String>,
    pub live: Outcome,
    pub candidate: Outcome,
}

/// A plugin on a scratch database, as one side of a replay.
struct Scratch {
    ingest: Ingest,
    source: Source,
    api_version: String,
    // Dropped last: the database lives in it.
    _dir: tempfile::TempDir,
}

impl Scratch {
    /// A scratch side; a plugin that does not load is a
    /// [`PrepareError::Candidate`], anything else the host's.
    fn new(
        plugin: &Path,
        live: &Source,
        cache_dir: Option<&Path>,
    ) -> Result<Scratch, PrepareError> {
        let engine =
            EngineSettings { max_concurrent_calls: 1, max_memory_bytes: live.limits.memory_bytes };
        let mut host = PluginHost::new(&engine).map_err(PrepareError::Host)?;
        host.load(&live.integration, plugin, cache_dir).map_err(PrepareError::Candidate)?;
        let api_version = host.plugin(&live.integration).expect("just loaded").api_version();
        let dir = tempfile::tempdir()
            .context("cannot create a scratch database folder")
            .map_err(PrepareError::Host)?;
        let store = Store::open(&dir.path().join("replay.redb"), StoreOptions::scratch(), |_| {})
            .map_err(PrepareError::Host)?;
        let source = Source { storage_budget: None, shadow: None, ..live.clone() };
        let log = EventLogOptions { body_cap: usize::MAX, count_repeats: false };
        Ok(Scratch {
            ingest: Ingest::new(Arc::new(store), Arc::new(host), log, 1),
            source,
            api_version: api_version.to_string(),
            _dir: dir,
        })
    }

    async fn run(
        &self,
        event: &StoredEvent,
    ) -> anyhow::Result<(Outcome, Vec<(Action, IncidentId)>)> {
        let result = self
            .ingest
            .deliver(&self.source, event.headers.clone(), event.body.clone().into())
            .await;
        let outcomes = match &result {
            Ok(delivered) => delivered.outcomes.iter().map(|(a, i)| (*a, i.id)).collect(),
            Err(_) => Vec::new(),
        };
        match Outcome::of_delivery(&result) {
            Some(outcome) => Ok((outcome, outcomes)),
            None => Err(anyhow::anyhow!(
                "the scratch database failed: {}",
                result.err().map(|e| e.to_string()).unwrap_or_default()
            )),
        }
    }
}

/// The two sides of a replay, loaded and ready: the live plugin and the
/// candidate, each on its own scratch database.
pub struct Prepared {
    baseline: Scratch,
    candidate: Scratch,
}

/// Why a replay could not start.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The candidate is not a component this host runs (not WebAssembly,
    /// the wrong world, ...): the caller's to fix.
    #[error("cannot load the candidate: {0:#}")]
    Candidate(anyhow::Error),
    /// The live plugin or a scratch database could not be set up: the host's.
    #[error("cannot set up the replay: {0:#}")]
    Host(anyhow::Error),
}

/// Loads the live plugin (`live_plugin`, the source's component) and
/// `candidate` for `live`'s source. Blocking: compiling a JavaScript
/// component takes seconds (`cache_dir` keeps the result).
pub fn prepare(
    live: &Source,
    live_plugin: &Path,
    candidate: &Path,
    cache_dir: Option<&Path>,
) -> Result<Prepared, PrepareError> {
    // The live plugin failing to load is the host's problem, not the caller's.
    let baseline = Scratch::new(live_plugin, live, cache_dir).map_err(|error| match error {
        PrepareError::Candidate(error) | PrepareError::Host(error) => {
            PrepareError::Host(error.context("the live plugin"))
        }
    })?;
    let candidate = Scratch::new(candidate, live, cache_dir)?;
    Ok(Prepared { baseline, candidate })
}

/// Replays `collected` through both sides and compares them event by event.
pub async fn run(prepared: Prepared, collected: Collected) -> anyhow::Result<ReplayReport> {
    let Prepared { baseline, candidate } = prepared;
    let mut report = ReplayReport {
        source: baseline.source.name.clone(),
        live_api_version: baseline.api_version.clone(),
        candidate_api_version: candidate.api_version.clone(),
        events: collected.events.len(),
        same: 0,
        different: 0,
        by_field: BTreeMap::new(),
        not_reproduced: 0,
        left_out_truncated: collected.truncated,
        left_out_over_limit: collected.over_limit,
        first_event_at: collected.events.first().map(|e| e.received_at),
        last_event_at: collected.events.last().map(|e| e.received_at),
        examples: Vec::new(),
    };
    for event in &collected.events {
        let (live_outcome, live_ids) = baseline.run(event).await?;
        let (candidate_outcome, _) = candidate.run(event).await?;
        if !reproduces(&event.recorded, &live_outcome, &live_ids) {
            report.not_reproduced += 1;
        }
        let fields = live_outcome.differences(&candidate_outcome);
        if fields.is_empty() {
            report.same += 1;
            continue;
        }
        report.different += 1;
        for field in &fields {
            *report.by_field.entry(field.to_string()).or_default() += 1;
        }
        if report.examples.len() < EXAMPLES {
            report.examples.push(ReplayDifference {
                received_at: event.received_at,
                live_incidents: match &event.recorded {
                    Recorded::Logged(outcomes) => outcomes.iter().map(|(_, id)| *id).collect(),
                    Recorded::Failed { .. } => Vec::new(),
                },
                fields: fields.into_iter().map(str::to_string).collect(),
                live: live_outcome,
                candidate: candidate_outcome,
            });
        }
    }
    Ok(report)
}

/// True when the replayed live plugin did what the store says it did live.
fn reproduces(recorded: &Recorded, replayed: &Outcome, ids: &[(Action, IncidentId)]) -> bool {
    match recorded {
        Recorded::Logged(live) => {
            matches!(replayed.answer, crate::ingest::outcome::Answer::Accepted)
                && events::actions_of(live) == events::actions_of(ids)
        }
        Recorded::Failed { code, .. } => {
            matches!(&replayed.answer, crate::ingest::outcome::Answer::Failed { code: c } if c == code)
        }
    }
}

impl ReplayReport {
    /// The report as a person reads it.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut text = String::new();
        let _ = writeln!(
            text,
            "replayed {} events of source {} (live plugin inbound:plugin@{}, candidate @{})",
            self.events, self.source, self.live_api_version, self.candidate_api_version
        );
        let _ = writeln!(text, "  same:      {}", self.same);
        let _ = writeln!(text, "  different: {}", self.different);
        for (field, count) in &self.by_field {
            let _ = writeln!(text, "    {field}: {count}");
        }
        if self.not_reproduced > 0 {
            let _ = writeln!(
                text,
                "  not reproduced: {} (the live plugin, replayed, did not do what it did live: the incident predates the window, or people changed it meanwhile)",
                self.not_reproduced
            );
        }
        if self.left_out_truncated + self.left_out_over_limit > 0 {
            let _ = writeln!(
                text,
                "  left out: {} cut by the log's body cap, {} older than the limit",
                self.left_out_truncated, self.left_out_over_limit
            );
        }
        for example in &self.examples {
            let _ = writeln!(
                text,
                "\nevent received at {} (live incidents {:?}): {}",
                crate::store::rfc3339_millis(example.received_at),
                example.live_incidents,
                example.fields.join(", ")
            );
            let _ = writeln!(text, "  live:      {}", example.live.describe());
            let _ = writeln!(text, "  candidate: {}", example.candidate.describe());
        }
        text
    }
}
