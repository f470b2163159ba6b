//! People acting on incidents (accept, resolve) through the incidents API.
//!
//! The same optimistic path as a webhook: read the incident, build a change
//! set that holds only if the incident is still at the version read, commit
//! it durably, and read again if a concurrent change got there first.

use crate::store::{
    self, Action, ChangeSet, CommitError, Incident, IncidentId, LogEntry, ReadCheck, Reopen,
    Retried, Status, Store, Write, commit_with_retry, now_millis,
};
use std::sync::Arc;

/// Longest note kept with a status change, in bytes.
pub const MAX_NOTE_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RespondError {
    #[error("there is no incident {0}")]
    NotFound(IncidentId),
    #[error(transparent)]
    Resolved(#[from] Reopen),
    #[error("the note is longer than {MAX_NOTE_BYTES} bytes")]
    NoteTooLong,
    #[error("storage failure: {0}")]
    Storage(String),
    /// The disk failed or is full; nothing was changed. Retry later.
    #[error("{0}; nothing was changed, retry")]
    Unavailable(String),
    #[error("too many concurrent changes to incident {0}; nothing was changed, retry")]
    Contended(IncidentId),
}

impl From<store::Error> for RespondError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Unavailable(why) => RespondError::Unavailable(why),
            other => RespondError::Storage(other.to_string()),
        }
    }
}

/// Moves incident `id` to `to` (accepted or resolved) on behalf of `by`.
/// Asking for the status it already has changes nothing (`Unchanged`).
pub async fn set_status(
    store: &Arc<Store>,
    id: IncidentId,
    to: Status,
    by: String,
    note: Option<String>,
) -> Result<(Action, Incident), RespondError> {
    if note.as_ref().is_some_and(|note| note.len() > MAX_NOTE_BYTES) {
        return Err(RespondError::NoteTooLong);
    }
    let attempt = || async {
        let reader = store.clone();
        let current = tokio::task::spawn_blocking(move || reader.snapshot()?.incident(id))
            .await
            .map_err(|error| RespondError::Storage(error.to_string()))??
            .ok_or(RespondError::NotFound(id))?;
        let Some((changed, log)) = current.status_change(to, by.clone(), note.clone())? else {
            return Ok((ChangeSet::default(), (Action::Unchanged, current)));
        };
        let now = now_millis();
        let changed = changed.revised(now);
        let changes = ChangeSet {
            reads: vec![ReadCheck::IncidentVersion { id, expected: Some(current.version) }],
            writes: vec![
                Write::PutIncident(changed.clone()),
                Write::AppendLog { incident: id, entry: LogEntry { at: now, kind: log } },
            ],
        };
        let action = if to == Status::Resolved { Action::Resolved } else { Action::Accepted };
        Ok((changes, (action, changed)))
    };
    commit_with_retry(store, attempt).await.map_err(|error| match error {
        Retried::Attempt(error) => error,
        Retried::Commit(CommitError::Unavailable(why)) => RespondError::Unavailable(why),
        Retried::Commit(error) => RespondError::Storage(error.to_string()),
        Retried::Contended => RespondError::Contended(id),
    })
}
