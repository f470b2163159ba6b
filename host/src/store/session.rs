//! One plugin call's view of storage: a snapshot plus the call's own writes.
//!
//! Reads see the call's earlier writes. Every read answered from the snapshot
//! is recorded, so the writer can refuse the change set if that read has
//! changed by commit time (see `store::changes`).

use super::Store;
use super::changes::{ChangeSet, ReadCheck, Write};
use super::engine::Snapshot;
use super::error::Error;
use super::incident_rules::NewIncident;
use super::model::{Action, Incident, IncidentId, LogEntry, LogKind, Millis, Status};
use super::seen::Seen;
use std::collections::HashMap;
use std::sync::Arc;

/// The source a call serves: everything the host API scopes by.
#[derive(Debug, Clone)]
pub struct SourceScope {
    pub name: String,
    pub escalation_policy: String,
    /// Who the log says made changes, e.g. `plugin zendesk`.
    pub actor: String,
}

pub struct Session {
    store: Arc<Store>,
    snapshot: Snapshot,
    pub scope: SourceScope,
    pub now: Millis,
    changes: ChangeSet,
    incidents: HashMap<IncidentId, Incident>,
    open_by_key: HashMap<String, Option<IncidentId>>,
    latest_by_key: HashMap<String, Option<IncidentId>>,
    state: HashMap<String, Option<Vec<u8>>>,
    /// What this call did to each incident it changed.
    effects: HashMap<IncidentId, Effects>,
    /// The source's state size at the snapshot, once read, plus this call's changes.
    state_bytes: Option<i64>,
    /// Time spent waiting for storage reads (a round trip each on
    /// PostgreSQL): not the plugin's, so not counted against its deadline.
    storage_wait: std::time::Duration,
    /// What the snapshot answered, kept when a shadow plugin will be shown
    /// the same ([`Session::record_reads`]).
    seen: Option<Seen>,
}

impl Session {
    pub fn new(store: Arc<Store>, scope: SourceScope, now: Millis) -> Result<Self, Error> {
        let snapshot = store.snapshot()?;
        Ok(Session::over(store, snapshot, scope, now))
    }

    /// A session reading through `snapshot` (e.g. a
    /// [`SeenFirst`](super::SeenFirst)) instead of the store's own.
    pub fn over(store: Arc<Store>, snapshot: Snapshot, scope: SourceScope, now: Millis) -> Self {
        Session {
            snapshot,
            store,
            scope,
            now,
            changes: ChangeSet::default(),
            incidents: HashMap::new(),
            open_by_key: HashMap::new(),
            latest_by_key: HashMap::new(),
            state: HashMap::new(),
            effects: HashMap::new(),
            state_bytes: None,
            storage_wait: std::time::Duration::ZERO,
            seen: None,
        }
    }

    /// Keeps every answer the snapshot gives from now on, for
    /// [`Session::into_parts`]. Off by default: it copies what is read.
    pub fn record_reads(&mut self) {
        self.seen.get_or_insert_with(Seen::default);
    }

    /// Time this call has waited for storage so far.
    pub fn storage_wait(&self) -> std::time::Duration {
        self.storage_wait
    }

    /// Runs one storage read, adding its time to [`Session::storage_wait`].
    fn timed<T>(&mut self, read: impl FnOnce(&Self) -> Result<T, Error>) -> Result<T, Error> {
        let started = std::time::Instant::now();
        let result = read(self);
        self.storage_wait += started.elapsed();
        result
    }

    pub fn open_incident(&mut self, key: &str) -> Result<Option<Incident>, Error> {
        let id = match self.open_by_key.get(key) {
            Some(id) => *id,
            None => {
                let id = self.timed(|s| s.snapshot.open_incident_id(&s.scope.name, key))?;
                if let Some(seen) = &mut self.seen {
                    seen.open_by_key.insert(key.to_string(), id);
                }
                self.changes.reads.push(ReadCheck::OpenIncident {
                    source: self.scope.name.clone(),
                    key: key.to_string(),
                    expected: id,
                });
                self.open_by_key.insert(key.to_string(), id);
                id
            }
        };
        id.map(|id| self.incident(id)).transpose().map(Option::flatten)
    }

    pub fn latest_incident(&mut self, key: &str) -> Result<Option<Incident>, Error> {
        let id = match self.latest_by_key.get(key) {
            Some(id) => *id,
            None => {
                let id = self.timed(|s| s.snapshot.latest_incident_id(&s.scope.name, key))?;
                if let Some(seen) = &mut self.seen {
                    seen.latest_by_key.insert(key.to_string(), id);
                }
                self.changes.reads.push(ReadCheck::LatestIncident {
                    source: self.scope.name.clone(),
                    key: key.to_string(),
                    expected: id,
                });
                self.latest_by_key.insert(key.to_string(), id);
                id
            }
        };
        id.map(|id| self.incident(id)).transpose().map(Option::flatten)
    }

    /// The incident if it exists and belongs to this source; other sources'
    /// incidents are indistinguishable from missing ones.
    pub fn incident(&mut self, id: IncidentId) -> Result<Option<Incident>, Error> {
        if let Some(incident) = self.incidents.get(&id) {
            return Ok(Some(incident.clone()));
        }
        let found = self.timed(|s| s.snapshot.incident(id))?;
        if let Some(seen) = &mut self.seen {
            seen.incidents.insert(id, found.clone());
        }
        self.changes
            .reads
            .push(ReadCheck::IncidentVersion { id, expected: found.as_ref().map(|i| i.version) });
        let found = found.filter(|incident| incident.source == self.scope.name);
        if let Some(incident) = &found {
            self.incidents.insert(id, incident.clone());
        }
        Ok(found)
    }

    /// Creates a pending incident of this source, logged as made by `by`.
    pub fn create_incident(&mut self, new: NewIncident, by: String) -> Result<Incident, Error> {
        let id = self.timed(|s| s.store.allocate_incident_id())?;
        let scope = &self.scope;
        let incident = new.into_incident(id, &scope.name, &scope.escalation_policy, self.now);
        Ok(self.put_incident(incident, LogKind::Created { by }))
    }

    /// Records a new or changed incident (revised: see
    /// [`Incident::revised`]) and keeps the key lookups in step. Returns the
    /// incident as it will be stored.
    pub fn put_incident(&mut self, incident: Incident, log: LogKind) -> Incident {
        let incident = incident.revised(self.now);
        self.effects.entry(incident.id).or_default().record(&log);
        let key = incident.key.clone();
        if incident.status.is_open() {
            self.open_by_key.insert(key.clone(), Some(incident.id));
        } else if self.open_by_key.get(&key) == Some(&Some(incident.id)) {
            self.open_by_key.insert(key.clone(), None);
        }
        if incident.version == 1 {
            self.latest_by_key.insert(key, Some(incident.id));
        }
        self.append_log(incident.id, log);
        self.incidents.insert(incident.id, incident.clone());
        self.changes.writes.push(Write::PutIncident(incident.clone()));
        incident
    }

    pub fn append_log(&mut self, incident: IncidentId, kind: LogKind) {
        self.changes
            .writes
            .push(Write::AppendLog { incident, entry: LogEntry { at: self.now, kind } });
    }

    /// Logs a received event (see [`Write::AppendEvent`]).
    pub fn append_event(&mut self, incident: IncidentId, kind: LogKind, count_repeats: bool) {
        let entry = LogEntry { at: self.now, kind };
        self.changes.writes.push(Write::AppendEvent { incident, entry, count_repeats });
    }

    pub fn state_get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        if let Some(value) = self.state.get(key) {
            return Ok(value.clone());
        }
        let value = self.timed(|s| s.snapshot.state(&s.scope.name, key))?;
        if let Some(seen) = &mut self.seen {
            seen.state.insert(key.to_string(), value.clone());
        }
        self.changes.reads.push(ReadCheck::State {
            source: self.scope.name.clone(),
            key: key.to_string(),
            expected: value.clone(),
        });
        self.state.insert(key.to_string(), value.clone());
        Ok(value)
    }

    /// The source's state size if `key` were set to a value of `new_len`
    /// bytes (None: deleted). Concurrent calls may each pass the check, so
    /// the quota can be exceeded by at most one value per concurrent call.
    pub fn state_bytes_after(&mut self, key: &str, new_len: Option<usize>) -> Result<u64, Error> {
        let current = match self.state_bytes {
            Some(bytes) => bytes,
            None => {
                let bytes = self.timed(|s| s.snapshot.state_bytes(&s.scope.name))?;
                if let Some(seen) = &mut self.seen {
                    seen.state_bytes = Some(bytes);
                }
                bytes as i64
            }
        };
        let old = self.state_get(key)?.map_or(0, |v| (key.len() + v.len()) as i64);
        let new = new_len.map_or(0, |len| (key.len() + len) as i64);
        self.state_bytes = Some(current);
        Ok((current - old + new).max(0) as u64)
    }

    /// Sets `key`; the writer holds the source to `quota` bytes at commit.
    pub fn state_set(&mut self, key: &str, value: Vec<u8>, quota: u64) {
        self.adjust_state_bytes(key, Some(value.len()));
        self.state.insert(key.to_string(), Some(value.clone()));
        self.changes.writes.push(Write::SetState {
            source: self.scope.name.clone(),
            key: key.to_string(),
            value,
            quota,
        });
    }

    fn adjust_state_bytes(&mut self, key: &str, new_len: Option<usize>) {
        let old =
            self.state.get(key).cloned().flatten().map_or(0, |v| (key.len() + v.len()) as i64);
        let new = new_len.map_or(0, |len| (key.len() + len) as i64);
        if let Some(bytes) = self.state_bytes.as_mut() {
            *bytes += new - old;
        }
    }

    pub fn state_delete(&mut self, key: &str) {
        self.adjust_state_bytes(key, None);
        self.state.insert(key.to_string(), None);
        self.changes
            .writes
            .push(Write::DeleteState { source: self.scope.name.clone(), key: key.to_string() });
    }

    /// What this call did to incident `id` so far.
    pub fn effects(&self, id: IncidentId) -> Effects {
        self.effects.get(&id).copied().unwrap_or_default()
    }

    pub fn into_changes(self) -> ChangeSet {
        self.changes
    }

    /// The change set, and what the snapshot answered if reads were recorded.
    pub fn into_parts(self) -> (ChangeSet, Option<Seen>) {
        (self.changes, self.seen)
    }
}

/// What one call did to one incident, to hold its reported outcome to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    pub created: bool,
    pub accepted: bool,
    pub resolved: bool,
    pub commented: bool,
    /// Its summary, details or priority changed (`incidents.update`).
    pub updated: bool,
}

impl Effects {
    fn record(&mut self, log: &LogKind) {
        match log {
            LogKind::Created { .. } => self.created = true,
            LogKind::StatusChanged { to: Status::Accepted, .. } => self.accepted = true,
            LogKind::StatusChanged { to: Status::Resolved, .. } => self.resolved = true,
            LogKind::Comment { .. } => self.commented = true,
            LogKind::Updated { .. } => self.updated = true,
            _ => {}
        }
    }

    /// True when `action` says what the call did (`unchanged` is always true:
    /// it claims nothing). An update is reported as `commented`: the
    /// incident's content changed, its status did not (plugin API 0.4.0
    /// keeps the `action` enum of 0.3.0, see docs/plugin-api.md).
    pub fn allow(&self, action: Action) -> bool {
        match action {
            Action::Created => self.created,
            Action::Accepted => self.accepted,
            Action::Resolved => self.resolved,
            Action::Commented => self.commented || self.updated,
            Action::Unchanged => true,
        }
    }
}
