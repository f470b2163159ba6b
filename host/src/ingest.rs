//! Delivering one webhook to its source's plugin and committing the result.
//!
//! Independent of HTTP so that the server, the command line and tests share
//! one path: snapshot -> plugin call -> log the event -> group commit, and
//! again from a fresh snapshot if a concurrent request changed what the
//! plugin read. A plugin failure never loses the event: it is stored as a
//! failed delivery that an operator can replay.
//!
//! - [`deliver`]: the plugin call and its commit, for new events and replays.
//! - [`failure`]: what happens when the plugin fails (the failure policy).
//! - [`event_log`]: how an event is written into an incident's log.

mod budget;
mod deliver;
mod event_log;
mod failure;
pub mod outcome;
pub mod shadow;

pub use budget::{OverBudget, StorageBudget};
pub use event_log::EventLogOptions;
pub use outcome::Outcome;
pub use shadow::{SHADOW_EVENTS, Shadow, ShadowDifference, ShadowReport};

use crate::plugin::{CallError, CallLimits, PluginHost};
use crate::store::{self, Action, FailureId, Incident, SourceScope, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What the sender hears when the plugin fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// 503 with `Retry-After`: the sender retries, the event is also kept.
    Retry { after_seconds: u32 },
    /// 202 and a fallback incident "Unprocessed event from <source>", so a
    /// person looks at it even if the sender never retries.
    Accept,
}

impl Default for FailurePolicy {
    fn default() -> Self {
        FailurePolicy::Retry { after_seconds: 30 }
    }
}

/// A configured source, ready to receive events.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub integration: String,
    pub escalation_policy: String,
    pub key: String,
    pub settings_json: String,
    pub limits: CallLimits,
    pub on_failure: FailurePolicy,
    /// Bytes per minute this source may store; `None`: no budget.
    pub storage_budget: Option<Arc<StorageBudget>>,
    /// A candidate plugin run beside the live one on every event, its
    /// outcome compared and never applied (`[sources.shadow]`).
    pub shadow: Option<Arc<Shadow>>,
}

impl Source {
    /// What the host API scopes a call of this source by.
    pub fn scope(&self) -> SourceScope {
        SourceScope {
            name: self.name.clone(),
            escalation_policy: self.escalation_policy.clone(),
            actor: format!("plugin {}", self.integration),
        }
    }
}

#[derive(Debug)]
pub struct Delivered {
    /// One entry per incident the event concerned; the first is the answer's.
    pub outcomes: Vec<(Action, Incident)>,
    pub plugin_time: Duration,
    /// Set when the plugin failed and the source accepts failures: the
    /// outcome is then the fallback incident.
    pub failure: Option<FailureId>,
    /// With `failure`: the plugin's error code (`plugin-timeout`, ...).
    pub failure_code: Option<String>,
    /// What the plugin read, kept when the source has a shadow to show it.
    pub seen: Option<crate::store::Seen>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The plugin refused the request as the sender's mistake. Nothing stored.
    #[error("{code}: {message}")]
    Rejected { code: String, message: String },
    /// The plugin failed; the event is stored as failed delivery `failure`.
    #[error("{error} (kept as failed delivery {failure})")]
    PluginFailed { error: CallError, failure: FailureId, retry_after: u32 },
    #[error("storage failure: {0}")]
    Storage(String),
    /// The disk failed or is full; nothing was stored. Retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("too many concurrent changes to the same incident; retry")]
    Contended,
    /// The source is over its storage budget; nothing was stored.
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
    #[error("{0}")]
    Replay(String),
}

impl DeliveryError {
    pub fn code(&self) -> &str {
        match self {
            DeliveryError::Rejected { code, .. } => code,
            DeliveryError::PluginFailed { error, .. } => error.code(),
            DeliveryError::Storage(_) => "storage",
            DeliveryError::Unavailable(_) => "storage-unavailable",
            DeliveryError::Contended => "contended",
            DeliveryError::OverBudget(_) => "storage-budget",
            DeliveryError::Replay(_) => "replay-refused",
        }
    }
}

impl From<store::Error> for DeliveryError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Unavailable(why) => DeliveryError::Unavailable(why),
            other => DeliveryError::Storage(other.to_string()),
        }
    }
}

impl From<store::CommitError> for DeliveryError {
    fn from(error: store::CommitError) -> Self {
        match error {
            store::CommitError::Unavailable(why) => DeliveryError::Unavailable(why),
            other => DeliveryError::Storage(other.to_string()),
        }
    }
}

pub struct Ingest {
    pub store: Arc<Store>,
    pub plugins: Arc<PluginHost>,
    pub event_log: EventLogOptions,
    /// Bounds plugin calls in flight to the size of the instance pool.
    pub calls: Arc<Semaphore>,
}

impl Ingest {
    pub fn new(
        store: Arc<Store>,
        plugins: Arc<PluginHost>,
        event_log: EventLogOptions,
        max_concurrent_calls: usize,
    ) -> Self {
        Ingest {
            store,
            plugins,
            event_log,
            calls: Arc::new(Semaphore::new(max_concurrent_calls.max(1))),
        }
    }
}
