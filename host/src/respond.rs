//! People acting on incidents (accept, resolve) through the incidents API.
//!
//! The same optimistic path as a webhook: read the incident, build a change
//! set that holds only if the incident is still at the version read, commit
//! it durably, and read again if a concurrent change got there first.

use crate::store::{
    Action, ChangeSet, CommitError, Incident, IncidentId, LogEntry, LogKind, ReadCheck, Status,
    Store, Write, now_millis,
};
use std::sync::Arc;

/// Retries before giving up when the incident keeps changing under us.
const MAX_ATTEMPTS: usize = 32;

/// Longest note kept with a status change, in bytes.
pub const MAX_NOTE_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RespondError {
    #[error("there is no incident {0}")]
    NotFound(IncidentId),
    #[error("incident {0} is resolved; resolved incidents are never reopened")]
    Resolved(IncidentId),
    #[error("the note is longer than {MAX_NOTE_BYTES} bytes")]
    NoteTooLong,
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("too many concurrent changes to incident {0}; nothing was changed, retry")]
    Contended(IncidentId),
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
    for _ in 0..MAX_ATTEMPTS {
        let reader = store.clone();
        let current = tokio::task::spawn_blocking(move || reader.snapshot()?.incident(id))
            .await
            .map_err(|error| RespondError::Storage(error.to_string()))?
            .map_err(|error| RespondError::Storage(error.to_string()))?
            .ok_or(RespondError::NotFound(id))?;
        if current.status == to {
            return Ok((Action::Unchanged, current));
        }
        if current.status == Status::Resolved {
            return Err(RespondError::Resolved(id));
        }
        let now = now_millis();
        let from = current.status;
        let changed = Incident {
            status: to,
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let kind = LogKind::StatusChanged { from, to, by: by.clone(), note: note.clone() };
        let changes = ChangeSet {
            reads: vec![ReadCheck::IncidentVersion { id, expected: Some(current.version) }],
            writes: vec![
                Write::PutIncident(changed.clone()),
                Write::AppendLog { incident: id, entry: LogEntry { at: now, kind } },
            ],
        };
        match store.commit(changes).await {
            Ok(()) => {
                let action =
                    if to == Status::Resolved { Action::Resolved } else { Action::Accepted };
                return Ok((action, changed));
            }
            Err(CommitError::Conflict) => continue,
            Err(error) => return Err(RespondError::Storage(error.to_string())),
        }
    }
    Err(RespondError::Contended(id))
}
