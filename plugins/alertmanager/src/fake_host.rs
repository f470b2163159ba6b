//! An in-memory [`Host`] for native tests. It follows the WIT contract's
//! rules (one open incident per key, forward-only status) and its limit of
//! changes per call, and keeps the source's state and log lines so tests
//! can check what a call left behind.

use crate::host::Host;
use inbound_sdk::incidents::IncidentUpdate;
use inbound_sdk::log::Level;
use inbound_sdk::{ApiError, Incident, IncidentId, IncidentStatus, NewIncident};
use std::collections::BTreeMap;

pub struct FakeHost {
    /// In creation order; incident `n` is at index `n - 1`.
    pub incidents: Vec<Incident>,
    pub state: BTreeMap<String, Vec<u8>>,
    /// Log lines, without their level.
    pub logs: Vec<String>,
    /// Changes made in the current call, and the host's limit on them.
    pub changes: usize,
    pub max_changes: usize,
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost {
            incidents: Vec::new(),
            state: BTreeMap::new(),
            logs: Vec::new(),
            changes: 0,
            max_changes: crate::remember::CHANGES_PER_CALL,
        }
    }
}

impl FakeHost {
    pub fn incident(&self, id: IncidentId) -> &Incident {
        &self.incidents[id as usize - 1]
    }

    /// A new plugin call: the change budget starts again.
    pub fn next_call(&mut self) {
        self.changes = 0;
    }

    /// A person changing the incident in inbound, not through the plugin.
    pub fn set_status_by_hand(&mut self, id: IncidentId, status: IncidentStatus) {
        self.incidents[id as usize - 1].status = status;
    }

    fn spend(&mut self) -> Result<(), ApiError> {
        if self.changes >= self.max_changes {
            return Err(ApiError::LimitExceeded(format!(
                "a call may make at most {} changes",
                self.max_changes
            )));
        }
        self.changes += 1;
        Ok(())
    }

    fn existing(&mut self, id: IncidentId) -> Result<&mut Incident, ApiError> {
        self.incidents.get_mut((id as usize).wrapping_sub(1)).ok_or(ApiError::NotFound(id))
    }
}

impl Host for FakeHost {
    fn find_open(&mut self, key: &str) -> Option<Incident> {
        self.incidents
            .iter()
            .find(|i| i.key == key && i.status != IncidentStatus::Resolved)
            .cloned()
    }

    fn find_latest(&mut self, key: &str) -> Option<Incident> {
        self.incidents.iter().rev().find(|i| i.key == key).cloned()
    }

    fn create(&mut self, new: &NewIncident) -> Result<Incident, ApiError> {
        if self.find_open(&new.key).is_some() {
            return Err(ApiError::Invalid(format!("an incident for key {} is open", new.key)));
        }
        self.spend()?;
        let id = self.incidents.len() as IncidentId + 1;
        let incident = Incident {
            id,
            key: new.key.clone(),
            status: IncidentStatus::Pending,
            summary: new.summary.clone(),
            details: new.details.clone(),
            priority: new.priority,
            url: new.url.clone(),
            links: new.links.clone(),
            created_at: id,
            updated_at: id,
        };
        self.incidents.push(incident.clone());
        Ok(incident)
    }

    fn update(&mut self, id: IncidentId, changes: &IncidentUpdate) -> Result<Incident, ApiError> {
        let incident = self.existing(id)?.clone();
        if incident.status == IncidentStatus::Resolved {
            return Err(ApiError::Invalid("incident is resolved".into()));
        }
        let mut updated = incident.clone();
        if let Some(summary) = &changes.summary {
            updated.summary = summary.clone();
        }
        if let Some(details) = &changes.details {
            updated.details = details.clone();
        }
        if changes.priority.is_some() {
            updated.priority = changes.priority;
        }
        let same = (&updated.summary, &updated.details, updated.priority)
            == (&incident.summary, &incident.details, incident.priority);
        if !same {
            self.spend()?;
            *self.existing(id)? = updated.clone();
        }
        Ok(updated)
    }

    fn resolve(&mut self, id: IncidentId, _note: &str) -> Result<Incident, ApiError> {
        self.existing(id)?;
        self.spend()?;
        let incident = self.existing(id)?;
        incident.status = IncidentStatus::Resolved;
        Ok(incident.clone())
    }

    fn state_get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.state.get(key).cloned()
    }

    fn state_set(&mut self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        self.spend()?;
        self.state.insert(key.into(), value.to_vec());
        Ok(())
    }

    fn state_delete(&mut self, key: &str) {
        if self.spend().is_ok() {
            self.state.remove(key);
        }
    }

    fn log(&mut self, _level: Level, message: &str) {
        self.logs.push(message.to_string());
    }
}
