//! Delivering one webhook to its source's plugin and committing the result.
//!
//! Independent of HTTP so that the server, the command line and tests share
//! one path: snapshot -> plugin call -> log the event -> group commit, and
//! again from a fresh snapshot if a concurrent request changed what the
//! plugin read. A plugin failure never loses the event: it is stored as a
//! failed delivery that an operator can replay.

use crate::plugin::{CallError, CallLimits, PluginHost, PluginRequest, Session, SourceScope};
use crate::store::{
    Action, ChangeSet, CommitError, FailedDelivery, FailureId, Incident, LogKind, Replayed, Status,
    Store, Write, now_millis,
};
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
}

/// Optimistic retries before giving up on a hot key. Each retry means another
/// request committed a change to the same key in between, so this only runs
/// out under a storm on one key.
const MAX_ATTEMPTS: usize = 32;

#[derive(Debug)]
pub struct Delivered {
    /// One entry per incident the event concerned; the first is the answer's.
    pub outcomes: Vec<(Action, Incident)>,
    pub plugin_time: Duration,
    /// Set when the plugin failed and the source accepts failures: the
    /// outcome is then the fallback incident.
    pub failure: Option<FailureId>,
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
    #[error("too many concurrent changes to the same incident; retry")]
    Contended,
    #[error("{0}")]
    Replay(String),
}

impl DeliveryError {
    pub fn code(&self) -> &str {
        match self {
            DeliveryError::Rejected { code, .. } => code,
            DeliveryError::PluginFailed { error, .. } => error.code(),
            DeliveryError::Storage(_) => "storage",
            DeliveryError::Contended => "contended",
            DeliveryError::Replay(_) => "replay-refused",
        }
    }
}

/// Why one attempt did not commit.
enum AttemptError {
    Plugin(CallError),
    Storage(String),
    Contended,
}

pub struct Ingest {
    pub store: Arc<Store>,
    pub plugins: Arc<PluginHost>,
    pub event_body_cap: usize,
    /// Bounds plugin calls in flight to the size of the instance pool.
    pub calls: Arc<Semaphore>,
}

type Finish<'a> = &'a (dyn Fn(&[(Action, Incident)]) -> Vec<Write> + Sync);

impl Ingest {
    pub fn new(
        store: Arc<Store>,
        plugins: Arc<PluginHost>,
        event_body_cap: usize,
        max_concurrent_calls: usize,
    ) -> Self {
        Ingest {
            store,
            plugins,
            event_body_cap,
            calls: Arc::new(Semaphore::new(max_concurrent_calls.max(1))),
        }
    }

    /// Delivers a webhook. `Ok` means its changes are durably committed.
    pub async fn deliver(
        &self,
        source: &Source,
        headers: Vec<(String, String)>,
        body: bytes::Bytes,
    ) -> Result<Delivered, DeliveryError> {
        let received_at = now_millis();
        let headers = Arc::new(loggable_headers(&headers));
        match self.attempt(source, &headers, &body, received_at, &|_| Vec::new()).await {
            Ok(delivered) => Ok(delivered),
            Err(AttemptError::Plugin(CallError::Rejected { code, message })) => {
                Err(DeliveryError::Rejected { code, message })
            }
            Err(AttemptError::Plugin(error)) => {
                self.keep_failed(source, &headers, body, received_at, error).await
            }
            Err(AttemptError::Storage(message)) => Err(DeliveryError::Storage(message)),
            Err(AttemptError::Contended) => Err(DeliveryError::Contended),
        }
    }

    /// Runs a stored failed delivery through its source's plugin again. The
    /// replay's changes and the record of its success commit together.
    pub async fn replay(&self, id: FailureId, source: &Source) -> Result<Delivered, DeliveryError> {
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || store.failure(id))
            .await
            .map_err(|error| DeliveryError::Storage(error.to_string()))?
            .map_err(|error| DeliveryError::Storage(error.to_string()))?;
        let (failure, body) = found
            .ok_or_else(|| DeliveryError::Replay(format!("there is no failed delivery {id}")))?;
        if failure.replayed.is_some() {
            return Err(DeliveryError::Replay(format!(
                "failed delivery {id} was already replayed"
            )));
        }
        let headers = Arc::new(failure.headers.clone());
        let now = now_millis();
        let succeeded = |outcomes: &[(Action, Incident)]| {
            let mut record = failure.clone();
            record.attempts += 1;
            record.replayed = Some(Replayed {
                at: now,
                action: outcomes.first().map_or(Action::Unchanged, |(action, _)| *action),
                incident: outcomes.first().map(|(_, incident)| incident.id),
            });
            vec![Write::PutFailure { failure: record, body: None }]
        };
        let result = self
            .attempt(source, &headers, &bytes::Bytes::from(body), failure.received_at, &succeeded)
            .await;
        match result {
            Ok(delivered) => Ok(delivered),
            Err(AttemptError::Plugin(error)) => {
                let mut record = failure.clone();
                record.attempts += 1;
                record.error_code = error.code().to_string();
                record.error = error.to_string();
                self.commit_once(ChangeSet {
                    reads: vec![],
                    writes: vec![Write::PutFailure { failure: record, body: None }],
                })
                .await?;
                Err(DeliveryError::PluginFailed { error, failure: id, retry_after: 0 })
            }
            Err(AttemptError::Storage(message)) => Err(DeliveryError::Storage(message)),
            Err(AttemptError::Contended) => Err(DeliveryError::Contended),
        }
    }

    /// Plugin call + commit, retried on conflicting concurrent changes.
    async fn attempt(
        &self,
        source: &Source,
        headers: &Arc<Vec<(String, String)>>,
        body: &bytes::Bytes,
        received_at: u64,
        finish: Finish<'_>,
    ) -> Result<Delivered, AttemptError> {
        let plugin = self.plugins.plugin(&source.integration).ok_or_else(|| {
            AttemptError::Storage(format!("integration {} is not loaded", source.integration))
        })?;
        for _ in 0..MAX_ATTEMPTS {
            let permit =
                self.calls.clone().acquire_owned().await.map_err(|_| AttemptError::Contended)?;
            let (store, plugins, plugin) =
                (self.store.clone(), self.plugins.clone(), plugin.clone());
            let (source, headers, body) = (source.clone(), headers.clone(), body.clone());
            let cap = self.event_body_cap;
            let (mut changes, outcomes, plugin_time) = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                run_once(&store, &plugins, &plugin, &source, &headers, &body, cap, received_at)
            })
            .await
            .map_err(|error| AttemptError::Storage(format!("plugin task failed: {error}")))??;
            changes.writes.extend(finish(&outcomes));
            if !changes.is_empty() {
                match self.store.commit(changes).await {
                    Ok(()) => {}
                    Err(CommitError::Conflict) => continue,
                    Err(error) => return Err(AttemptError::Storage(error.to_string())),
                }
            }
            return Ok(Delivered { outcomes, plugin_time, failure: None });
        }
        Err(AttemptError::Contended)
    }

    /// Stores the event as a failed delivery (and, if the source accepts
    /// failures, a fallback incident) in one durable commit.
    async fn keep_failed(
        &self,
        source: &Source,
        headers: &[(String, String)],
        body: bytes::Bytes,
        received_at: u64,
        error: CallError,
    ) -> Result<Delivered, DeliveryError> {
        tracing::warn!(source = %source.name, code = error.code(), error = %error, "plugin failed; event kept as a failed delivery");
        let mut failure = FailedDelivery {
            id: self.store.allocate_failure_id(),
            source: source.name.clone(),
            integration: source.integration.clone(),
            received_at,
            headers: headers.to_vec(),
            body_bytes: body.len(),
            error_code: error.code().to_string(),
            error: error.to_string(),
            attempts: 1,
            fallback_incident: None,
            replayed: None,
        };
        match source.on_failure {
            FailurePolicy::Retry { after_seconds } => {
                let id = failure.id;
                self.commit_once(ChangeSet {
                    reads: vec![],
                    writes: vec![Write::PutFailure { failure, body: Some(body.to_vec()) }],
                })
                .await?;
                Err(DeliveryError::PluginFailed { error, failure: id, retry_after: after_seconds })
            }
            FailurePolicy::Accept => {
                let mut session = Session::new(self.store.clone(), scope(source), received_at)
                    .map_err(|error| DeliveryError::Storage(error.to_string()))?;
                let incident = Incident {
                    id: self.store.allocate_incident_id(),
                    source: source.name.clone(),
                    key: format!("unprocessed-{}", failure.id),
                    status: Status::Pending,
                    summary: format!("Unprocessed event from {}", source.name),
                    details: format!(
                        "The {} plugin failed on this event: {error}\nIt is kept as failed delivery {}; replay it with `inbound failed replay {}` once the plugin is fixed.",
                        source.integration, failure.id, failure.id
                    ),
                    priority: Some(crate::store::Priority::High),
                    url: None,
                    links: Vec::new(),
                    escalation_policy: source.escalation_policy.clone(),
                    created_at: received_at,
                    updated_at: received_at,
                    version: 0,
                };
                let id = incident.id;
                session.put_incident(
                    incident,
                    LogKind::Created { by: "host (plugin failure)".into() },
                );
                let (logged_body, truncated) = cap_body(&body, self.event_body_cap);
                session.append_log(
                    id,
                    LogKind::EventReceived {
                        action: Action::Created,
                        headers: headers.to_vec(),
                        body: logged_body,
                        body_bytes: body.len(),
                        body_truncated: truncated,
                    },
                );
                let fallback =
                    session.incident(id).map_err(|e| DeliveryError::Storage(e.to_string()))?;
                failure.fallback_incident = Some(id);
                let failure_id = failure.id;
                let mut changes = session.into_changes();
                changes.writes.push(Write::PutFailure { failure, body: Some(body.to_vec()) });
                self.commit_once(changes).await?;
                Ok(Delivered {
                    outcomes: fallback
                        .into_iter()
                        .map(|incident| (Action::Created, incident))
                        .collect(),
                    plugin_time: Duration::ZERO,
                    failure: Some(failure_id),
                })
            }
        }
    }

    async fn commit_once(&self, changes: ChangeSet) -> Result<(), DeliveryError> {
        self.store.commit(changes).await.map_err(|error| DeliveryError::Storage(error.to_string()))
    }
}

fn scope(source: &Source) -> SourceScope {
    SourceScope {
        name: source.name.clone(),
        escalation_policy: source.escalation_policy.clone(),
        actor: format!("plugin {}", source.integration),
    }
}

type Attempt = (ChangeSet, Vec<(Action, Incident)>, Duration);

/// One plugin call on a fresh snapshot. Blocking.
#[allow(clippy::too_many_arguments)]
fn run_once(
    store: &Arc<Store>,
    plugins: &PluginHost,
    plugin: &crate::plugin::LoadedPlugin,
    source: &Source,
    headers: &[(String, String)],
    body: &[u8],
    event_body_cap: usize,
    received_at: u64,
) -> Result<Attempt, AttemptError> {
    let session = Session::new(store.clone(), scope(source), received_at)
        .map_err(|error| AttemptError::Storage(error.to_string()))?;
    let request = PluginRequest {
        headers: headers.to_vec(),
        body: body.to_vec(),
        settings_json: source.settings_json.clone(),
    };
    let output = plugins.call(plugin, session, request, &source.limits);
    let mut session = output.session;
    let reported = output.result.map_err(AttemptError::Plugin)?;

    // Every incident the plugin reports must be one this source can see.
    let mut outcomes = Vec::with_capacity(reported.len());
    for (action, id) in reported {
        let incident = session
            .incident(id)
            .map_err(|error| AttemptError::Storage(error.to_string()))?
            .ok_or_else(|| {
                AttemptError::Plugin(CallError::InvalidResult(format!(
                    "it reported incident {id}, which this source does not have"
                )))
            })?;
        outcomes.push((action, incident));
    }
    let (logged_body, truncated) = cap_body(body, event_body_cap);
    let mut logged = Vec::new();
    for (action, incident) in &outcomes {
        if logged.contains(&incident.id) {
            continue;
        }
        logged.push(incident.id);
        session.append_log(
            incident.id,
            LogKind::EventReceived {
                action: *action,
                headers: headers.to_vec(),
                body: logged_body.clone(),
                body_bytes: body.len(),
                body_truncated: truncated,
            },
        );
    }
    Ok((session.into_changes(), outcomes, output.elapsed))
}

/// Credentials never reach storage or logs.
fn loggable_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    const SECRET: [&str; 4] =
        ["authorization", "cookie", "proxy-authorization", "x-zendesk-webhook-signature"];
    headers.iter().filter(|(name, _)| !SECRET.contains(&name.as_str())).cloned().collect()
}

/// The body as text, cut to `cap` bytes on a character boundary.
fn cap_body(body: &[u8], cap: usize) -> (String, bool) {
    let text = String::from_utf8_lossy(body);
    if text.len() <= cap {
        return (text.into_owned(), false);
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_under_cap_is_kept_whole() {
        assert_eq!(cap_body(b"abc", 3), ("abc".to_string(), false));
    }

    #[test]
    fn body_over_cap_is_cut_on_a_character_boundary() {
        let (text, truncated) = cap_body("aøb".as_bytes(), 2);
        assert_eq!(text, "a");
        assert!(truncated);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let (text, _) = cap_body(b"a\xffb", 100);
        assert_eq!(text, "a\u{fffd}b");
    }

    #[test]
    fn credentials_are_not_logged() {
        let headers = vec![
            ("authorization".to_string(), "Bearer x".to_string()),
            ("x-zendesk-webhook-signature".to_string(), "sig".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        assert_eq!(
            loggable_headers(&headers),
            vec![("content-type".to_string(), "application/json".to_string())]
        );
    }
}
