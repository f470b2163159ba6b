//! One event through its source's plugin into a durable commit: a new
//! webhook ([`Ingest::deliver`]) or a stored failed delivery
//! ([`Ingest::replay`]).

use super::event_log::{self, EventLogOptions, loggable_headers};
use super::outcome::{Outcome, Unaccounted, checked_outcomes};
use super::shadow::ShadowEvent;
use super::{Delivered, DeliveryError, Ingest, Source};
use crate::plugin::{CallError, LoadedPlugin, PluginHost, PluginRequest};
use crate::store::{
    self, Action, ChangeSet, CommitError, FailureId, Incident, ReadCheck, Replayed, Retried, Seen,
    Session, Store, Write, commit_with_retry, now_millis,
};
use std::sync::Arc;
use std::time::Duration;

/// Why one attempt did not commit.
pub(super) enum AttemptError {
    Plugin(CallError),
    Storage(String),
    /// The disk failed or is full; see [`DeliveryError::Unavailable`].
    Unavailable(String),
    Contended,
    /// A precondition of the commit failed (a replay that lost to another).
    Refused(String),
    OverBudget(super::OverBudget),
}

/// Changes that commit together with an attempt's, given its outcomes.
type Finish<'a> = &'a (dyn Fn(&[(Action, Incident)]) -> ChangeSet + Sync);

impl Ingest {
    /// Delivers a webhook. `Ok` means its changes are durably committed.
    pub async fn deliver(
        &self,
        source: &Source,
        headers: Vec<(String, String)>,
        body: bytes::Bytes,
    ) -> Result<Delivered, DeliveryError> {
        let received_at = now_millis();
        let headers = Arc::new(loggable_headers(&headers));
        let attempted =
            self.attempt(source, &headers, &body, received_at, &|_| ChangeSet::default()).await;
        let mut seen = None;
        let result = match attempted {
            Ok(mut delivered) => {
                seen = delivered.seen.take();
                Ok(delivered)
            }
            Err(AttemptError::Plugin(CallError::Rejected { code, message })) => {
                Err(DeliveryError::Rejected { code, message })
            }
            Err(AttemptError::Plugin(error)) => {
                self.keep_failed(source, &headers, body.clone(), received_at, error).await
            }
            Err(AttemptError::Storage(message) | AttemptError::Refused(message)) => {
                Err(DeliveryError::Storage(message))
            }
            Err(AttemptError::Unavailable(why)) => Err(DeliveryError::Unavailable(why)),
            Err(AttemptError::OverBudget(over)) => Err(DeliveryError::OverBudget(over)),
            Err(AttemptError::Contended) => Err(DeliveryError::Contended),
        };
        // After the live answer is settled, off its path. A live call that
        // committed nothing leaves `seen` empty: the shadow then reads the
        // store as it is, which is what the live call saw.
        if let (Some(shadow), Some(live)) = (&source.shadow, Outcome::of_delivery(&result)) {
            shadow.observe(ShadowEvent {
                store: self.store.clone(),
                scope: source.scope(),
                headers,
                body,
                received_at,
                seen,
                live,
                live_incident: result
                    .as_ref()
                    .ok()
                    .and_then(|d| d.outcomes.first())
                    .map(|o| o.1.id),
            });
        }
        result
    }

    /// Runs a stored failed delivery through its source's plugin again. The
    /// replay's changes and the record of its success commit together, on
    /// the condition, checked by the writer, that no other replay of it has
    /// committed: of simultaneous replays exactly one succeeds.
    pub async fn replay(&self, id: FailureId, source: &Source) -> Result<Delivered, DeliveryError> {
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || store.failure(id))
            .await
            .map_err(|error| DeliveryError::Storage(error.to_string()))??;
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
            ChangeSet {
                reads: vec![ReadCheck::NotReplayed { failure: id }],
                writes: vec![Write::PutFailure { failure: record, body: None }],
            }
        };
        let body = bytes::Bytes::from(body);
        match self.attempt(source, &headers, &body, failure.received_at, &succeeded).await {
            Ok(delivered) => Ok(delivered),
            Err(AttemptError::Plugin(error)) => {
                let mut record = failure.clone();
                record.attempts += 1;
                record.error_code = error.code().to_string();
                record.error = error.to_string();
                let writes = vec![Write::PutFailure { failure: record, body: None }];
                self.commit_once(ChangeSet { reads: vec![], writes }).await?;
                Err(DeliveryError::PluginFailed { error, failure: id, retry_after: 0 })
            }
            Err(AttemptError::Refused(message)) => Err(DeliveryError::Replay(message)),
            Err(AttemptError::Storage(message)) => Err(DeliveryError::Storage(message)),
            Err(AttemptError::Unavailable(why)) => Err(DeliveryError::Unavailable(why)),
            Err(AttemptError::OverBudget(over)) => Err(DeliveryError::OverBudget(over)),
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
        let one_call = || async {
            let permit =
                self.calls.clone().acquire_owned().await.map_err(|_| AttemptError::Contended)?;
            let (store, plugins, plugin) =
                (self.store.clone(), self.plugins.clone(), plugin.clone());
            let (source, headers, body) = (source.clone(), headers.clone(), body.clone());
            let event_log = self.event_log;
            let (mut changes, outcomes, plugin_time, seen) =
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    run_once(
                        &store,
                        &plugins,
                        &plugin,
                        &source,
                        &headers,
                        &body,
                        event_log,
                        received_at,
                    )
                })
                .await
                .map_err(|error| AttemptError::Storage(format!("plugin task failed: {error}")))??;
            let finishing = finish(&outcomes);
            changes.reads.extend(finishing.reads);
            changes.writes.extend(finishing.writes);
            Ok((
                changes,
                Delivered { outcomes, plugin_time, failure: None, failure_code: None, seen },
            ))
        };
        commit_with_retry(&self.store, one_call).await.map_err(|error| match error {
            Retried::Attempt(error) => error,
            Retried::Commit(CommitError::Refused(message)) => AttemptError::Refused(message),
            Retried::Commit(CommitError::Unavailable(why)) => AttemptError::Unavailable(why),
            Retried::Commit(error) => AttemptError::Storage(error.to_string()),
            Retried::Contended => AttemptError::Contended,
        })
    }

    pub(super) async fn commit_once(&self, changes: ChangeSet) -> Result<(), DeliveryError> {
        Ok(self.store.commit(changes).await?)
    }
}

impl From<store::Error> for AttemptError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Unavailable(why) => AttemptError::Unavailable(why),
            other => AttemptError::Storage(other.to_string()),
        }
    }
}

/// The changes to commit, the outcomes, the plugin's time and, when the
/// source has a shadow, what the call read.
type Attempt = (ChangeSet, Vec<(Action, Incident)>, Duration, Option<Seen>);

/// One plugin call on a fresh snapshot. Blocking.
#[allow(clippy::too_many_arguments)]
fn run_once(
    store: &Arc<Store>,
    plugins: &PluginHost,
    plugin: &LoadedPlugin,
    source: &Source,
    headers: &[(String, String)],
    body: &[u8],
    event_log: EventLogOptions,
    received_at: u64,
) -> Result<Attempt, AttemptError> {
    let mut session = Session::new(store.clone(), source.scope(), received_at)?;
    if source.shadow.is_some() {
        session.record_reads();
    }
    let request = PluginRequest {
        headers: headers.to_vec(),
        body: body.to_vec(),
        settings_json: source.settings_json.clone(),
    };
    let output = plugins.call(plugin, session, request, &source.limits);
    let mut session = output.session;
    let reported = output.result.map_err(|error| match error {
        CallError::StorageUnavailable(why) => AttemptError::Unavailable(why),
        other => AttemptError::Plugin(other),
    })?;

    let outcomes = checked_outcomes(&mut session, reported).map_err(|error| match error {
        Unaccounted::Plugin(error) => AttemptError::Plugin(error),
        Unaccounted::Storage(error) => AttemptError::from(error),
    })?;
    let logged_bytes = event_log::record_event(&mut session, &outcomes, headers, body, event_log);
    if let Some(budget) = &source.storage_budget {
        budget.spend(output.stored_bytes + logged_bytes).map_err(AttemptError::OverBudget)?;
    }
    let (changes, seen) = session.into_parts();
    Ok((changes, outcomes, output.elapsed, seen))
}
