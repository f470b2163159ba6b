//! An in-memory [`Host`] for native tests. It follows the WIT contract's
//! rules (one open incident per key, forward-only status, comments in any
//! status) and records every call so tests can check what was done and in
//! which order.

use crate::lifecycle::Host;
use inbound_sdk::{ApiError, Incident, IncidentId, IncidentStatus, NewIncident};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    FindOpen(String),
    FindLatest(String),
    Create(String),
    Accept(IncidentId, String),
    Resolve(IncidentId, String),
    Comment(IncidentId, Option<String>, String),
    StateGet(String),
    StateSet(String, Vec<u8>),
    StateDelete(String),
}

impl Call {
    fn is_write(&self) -> bool {
        !matches!(self, Call::FindOpen(_) | Call::FindLatest(_) | Call::StateGet(_))
    }
}

#[derive(Default)]
pub struct FakeHost {
    /// In creation order; incident `n` is at index `n - 1`.
    pub incidents: Vec<Incident>,
    pub state: BTreeMap<String, Vec<u8>>,
    pub calls: Vec<Call>,
    /// Makes `state_set` fail as if the state were full.
    pub fail_state_set: bool,
}

impl FakeHost {
    pub fn incident(&self, id: IncidentId) -> &Incident {
        &self.incidents[id as usize - 1]
    }

    /// The calls that change something.
    pub fn writes(&self) -> Vec<&Call> {
        self.calls.iter().filter(|call| call.is_write()).collect()
    }

    /// Comments added, in order: (incident, author, text).
    pub fn comments(&self) -> Vec<(IncidentId, Option<String>, String)> {
        self.calls
            .iter()
            .filter_map(|call| match call {
                Call::Comment(id, author, text) => Some((*id, author.clone(), text.clone())),
                _ => None,
            })
            .collect()
    }

    /// An incident for some other ticket, created behind the plugin's back.
    pub fn other_ticket_incident(&mut self, key: &str) {
        self.insert(NewIncident {
            key: key.into(),
            summary: "other".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
        });
    }

    /// A responder accepting the incident in inbound, not through the plugin.
    pub fn accept_by_hand(&mut self, id: IncidentId) {
        self.incidents[id as usize - 1].status = IncidentStatus::Accepted;
    }

    /// A responder resolving the incident in inbound, not through the plugin.
    pub fn resolve_by_hand(&mut self, id: IncidentId) {
        self.incidents[id as usize - 1].status = IncidentStatus::Resolved;
    }

    fn insert(&mut self, new: NewIncident) -> Incident {
        let id = self.incidents.len() as IncidentId + 1;
        let incident = Incident {
            id,
            key: new.key,
            status: IncidentStatus::Pending,
            summary: new.summary,
            details: new.details,
            priority: new.priority,
            url: new.url,
            links: new.links,
            created_at: id,
            updated_at: id,
        };
        self.incidents.push(incident.clone());
        incident
    }

    fn existing(&mut self, id: IncidentId) -> Result<&mut Incident, ApiError> {
        self.incidents.get_mut((id as usize).wrapping_sub(1)).ok_or(ApiError::NotFound(id))
    }
}

impl Host for FakeHost {
    fn find_open(&mut self, key: &str) -> Option<Incident> {
        self.calls.push(Call::FindOpen(key.into()));
        self.incidents
            .iter()
            .find(|i| i.key == key && i.status != IncidentStatus::Resolved)
            .cloned()
    }

    fn find_latest(&mut self, key: &str) -> Option<Incident> {
        self.calls.push(Call::FindLatest(key.into()));
        self.incidents.iter().rev().find(|i| i.key == key).cloned()
    }

    fn create(&mut self, new: &NewIncident) -> Result<Incident, ApiError> {
        self.calls.push(Call::Create(new.key.clone()));
        if new.key.is_empty() {
            return Err(ApiError::Invalid("empty key".into()));
        }
        if self.incidents.iter().any(|i| i.key == new.key && i.status != IncidentStatus::Resolved) {
            return Err(ApiError::Invalid(format!(
                "an incident for key {} is already open",
                new.key
            )));
        }
        Ok(self.insert(new.clone()))
    }

    fn accept(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError> {
        self.calls.push(Call::Accept(id, note.into()));
        let incident = self.existing(id)?;
        match incident.status {
            IncidentStatus::Resolved => Err(ApiError::Invalid("incident is resolved".into())),
            _ => {
                incident.status = IncidentStatus::Accepted;
                Ok(incident.clone())
            }
        }
    }

    fn resolve(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError> {
        self.calls.push(Call::Resolve(id, note.into()));
        let incident = self.existing(id)?;
        incident.status = IncidentStatus::Resolved;
        Ok(incident.clone())
    }

    fn comment(
        &mut self,
        id: IncidentId,
        author: Option<&str>,
        text: &str,
    ) -> Result<Incident, ApiError> {
        self.calls.push(Call::Comment(id, author.map(str::to_string), text.into()));
        self.existing(id).cloned()
    }

    fn state_get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.calls.push(Call::StateGet(key.into()));
        self.state.get(key).cloned()
    }

    fn state_set(&mut self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        self.calls.push(Call::StateSet(key.into(), value.to_vec()));
        if self.fail_state_set {
            return Err(ApiError::LimitExceeded("state size".into()));
        }
        self.state.insert(key.into(), value.to_vec());
        Ok(())
    }

    fn state_delete(&mut self, key: &str) {
        self.calls.push(Call::StateDelete(key.into()));
        self.state.remove(key);
    }
}
