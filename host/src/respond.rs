//! People acting on incidents (accept, resolve, note) through the incidents
//! API, the console and one-click links.
//!
//! The same optimistic path as a webhook: read the incident, build a change
//! set that holds only if the incident is still at the version read, commit
//! it durably, and read again if a concurrent change got there first. When
//! the incident's source acts back on its sender, the same commit queues
//! the update to the sender (`notify/outbound.rs`).

use crate::config::Config;
use crate::notify::senders;
use crate::store::{
    self, Action, ChangeKind, ChangeSet, CommitError, Incident, IncidentId, LogEntry, LogKind,
    ReadCheck, Reopen, Retried, SenderChange, Status, Store, Write, commit_with_retry, now_millis,
};
use std::sync::Arc;

/// Who acts: as the incident's log names them (`ada in the console`,
/// `user ci`, `ada via email link`), and by name for the sender (`ada`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub logged: String,
    pub name: String,
}

impl Actor {
    /// A token's or a signed-in person's caller.
    pub fn of(caller: &crate::app::Caller) -> Actor {
        Actor { logged: caller.actor(), name: caller.name.clone() }
    }
}

/// Longest note a person may add, in bytes.
pub const MAX_PERSON_NOTE_BYTES: usize = 4096;

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
    #[error("the note is empty")]
    EmptyNote,
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
    config: &Config,
    id: IncidentId,
    to: Status,
    by: &Actor,
    note: Option<String>,
) -> Result<(Action, Incident), RespondError> {
    if note.as_ref().is_some_and(|note| note.len() > MAX_NOTE_BYTES) {
        return Err(RespondError::NoteTooLong);
    }
    let attempt = || async {
        let current = read(store, id).await?;
        let Some((changed, log)) = current.status_change(to, by.logged.clone(), note.clone())?
        else {
            return Ok((ChangeSet::default(), (Action::Unchanged, current)));
        };
        let now = now_millis();
        let changed = changed.revised(now);
        let kind = if to == Status::Resolved { ChangeKind::Resolved } else { ChangeKind::Accepted };
        let told = SenderChange { kind, by: by.name.clone(), text: note.clone(), at: now };
        let changes = recorded(store, config, &current, &changed, log, told).await?;
        let action = if to == Status::Resolved { Action::Resolved } else { Action::Accepted };
        Ok((changes, (action, changed)))
    };
    committed(store, id, attempt).await
}

/// Adds `by`'s note to incident `id`'s log, in any status; the sender hears
/// of it when its source acts back.
pub async fn add_note(
    store: &Arc<Store>,
    config: &Config,
    id: IncidentId,
    by: &Actor,
    text: String,
) -> Result<Incident, RespondError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(RespondError::EmptyNote);
    }
    if text.len() > MAX_PERSON_NOTE_BYTES {
        return Err(RespondError::NoteTooLong);
    }
    let attempt = || async {
        let current = read(store, id).await?;
        let now = now_millis();
        let changed = current.clone().revised(now);
        let log = LogKind::Comment {
            author: Some(by.name.clone()),
            text: text.clone(),
            by: by.logged.clone(),
        };
        let told = SenderChange {
            kind: ChangeKind::Noted,
            by: by.name.clone(),
            text: Some(text.clone()),
            at: now,
        };
        let changes = recorded(store, config, &current, &changed, log, told).await?;
        Ok((changes, changed))
    };
    committed(store, id, attempt).await
}

async fn read(store: &Arc<Store>, id: IncidentId) -> Result<Incident, RespondError> {
    let reader = store.clone();
    tokio::task::spawn_blocking(move || reader.snapshot()?.incident(id))
        .await
        .map_err(|error| RespondError::Storage(error.to_string()))??
        .ok_or(RespondError::NotFound(id))
}

/// The commit of a person's change: `current` becomes `changed` (if still
/// at the version read), `log` is appended, and the sender is told when
/// the source acts back.
async fn recorded(
    store: &Arc<Store>,
    config: &Config,
    current: &Incident,
    changed: &Incident,
    log: LogKind,
    told: SenderChange,
) -> Result<ChangeSet, RespondError> {
    let id = current.id;
    let entry = LogEntry { at: changed.updated_at, kind: log };
    let mut writes =
        vec![Write::PutIncident(changed.clone()), Write::AppendLog { incident: id, entry }];
    writes.extend(tell_sender(store, config, changed, told).await?);
    Ok(ChangeSet {
        reads: vec![ReadCheck::IncidentVersion { id, expected: Some(current.version) }],
        writes,
    })
}

/// The outbox entry for `incident`'s sender, if its source acts back.
async fn tell_sender(
    store: &Arc<Store>,
    config: &Config,
    incident: &Incident,
    change: SenderChange,
) -> Result<Option<Write>, RespondError> {
    if config.outbound(&incident.source).is_none() {
        return Ok(None);
    }
    let (store, incident) = (store.clone(), incident.clone());
    // Allocating an id is a round trip on PostgreSQL: off the runtime.
    let entry = tokio::task::spawn_blocking(move || senders::entry(&store, &incident, change))
        .await
        .map_err(|error| RespondError::Storage(error.to_string()))??;
    Ok(Some(entry))
}

async fn committed<T, F, Fut>(
    store: &Arc<Store>,
    id: IncidentId,
    attempt: F,
) -> Result<T, RespondError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(ChangeSet, T), RespondError>>,
{
    commit_with_retry(store, attempt).await.map_err(|error| match error {
        Retried::Attempt(error) => error,
        Retried::Commit(CommitError::Unavailable(why)) => RespondError::Unavailable(why),
        Retried::Commit(error) => RespondError::Storage(error.to_string()),
        Retried::Contended => RespondError::Contended(id),
    })
}
