//! `inbound:plugin/incidents`: find, create and change the source's incidents.

use super::checks::is_storable;
use super::convert::{link_from_wit, priority_from_wit, to_wit};
use super::types::{self, ApiError};
use super::{HostResult, storage_trap};
use crate::plugin::CallState;
use crate::plugin::wit::latest::inbound::plugin::incidents;
use crate::store::{Incident, IncidentId, IncidentUpdate, LogKind, NewIncident, Status};

type Changed = HostResult<Result<types::Incident, ApiError>>;

impl incidents::Host for CallState {
    fn find_open(&mut self, key: String) -> HostResult<Option<types::Incident>> {
        if !is_storable(&key) {
            return Ok(None);
        }
        Ok(self.session()?.open_incident(&key).map_err(storage_trap)?.as_ref().map(to_wit))
    }

    fn find_latest(&mut self, key: String) -> HostResult<Option<types::Incident>> {
        if !is_storable(&key) {
            return Ok(None);
        }
        Ok(self.session()?.latest_incident(&key).map_err(storage_trap)?.as_ref().map(to_wit))
    }

    fn get(&mut self, id: IncidentId) -> HostResult<Option<types::Incident>> {
        Ok(self.session()?.incident(id).map_err(storage_trap)?.as_ref().map(to_wit))
    }

    fn create(&mut self, new: types::NewIncident) -> Changed {
        let result = self.create_incident(new)?;
        self.noted(result)
    }

    fn accept(&mut self, id: IncidentId, note: Option<String>) -> Changed {
        let result = self.change_status(id, Status::Accepted, note)?;
        self.noted(result)
    }

    fn resolve(&mut self, id: IncidentId, note: Option<String>) -> Changed {
        let result = self.change_status(id, Status::Resolved, note)?;
        self.noted(result)
    }

    fn comment(&mut self, id: IncidentId, author: Option<String>, text: String) -> Changed {
        let result = self.add_comment(id, author, text)?;
        self.noted(result)
    }

    fn add_link(&mut self, id: IncidentId, link: types::Link) -> Changed {
        let result = self.add_link_to(id, link)?;
        self.noted(result)
    }

    fn update(&mut self, id: IncidentId, changes: incidents::IncidentUpdate) -> Changed {
        let result = self.update_incident(id, changes)?;
        self.noted(result)
    }
}

impl CallState {
    /// Loads an incident the plugin may change, or the error it gets.
    fn owned_incident(&mut self, id: IncidentId) -> HostResult<Result<Incident, ApiError>> {
        Ok(self.session()?.incident(id).map_err(storage_trap)?.ok_or(ApiError::NotFound(id)))
    }

    fn create_incident(&mut self, new: types::NewIncident) -> Changed {
        let bytes = new_incident_bytes(&new);
        let checks = self
            .check_key(&new.key)
            .and_then(|_| self.check_text("the summary", &new.summary, self.limits.max_text_bytes))
            .and_then(|_| self.check_text("the details", &new.details, self.limits.max_text_bytes))
            .and_then(|_| match new.url.as_deref() {
                // An empty url means none.
                Some(url) if !url.is_empty() => self.check_url("the url", url),
                _ => Ok(()),
            })
            .and_then(|_| new.links.iter().try_for_each(|link| self.check_link(link)))
            .and_then(|_| self.check_link_count(new.links.len()))
            .and_then(|_| self.check_action_budget())
            .and_then(|_| self.check_stored_bytes(bytes));
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        if let Some(open) = self.session()?.open_incident(&new.key).map_err(storage_trap)? {
            return Ok(Err(ApiError::Invalid(format!(
                "incident {} is already open for key {:?}; at most one incident per key is open",
                open.id, new.key
            ))));
        }
        let new = NewIncident {
            key: new.key,
            summary: new.summary,
            details: new.details,
            priority: new.priority.map(priority_from_wit),
            url: new.url,
            links: new.links.into_iter().map(link_from_wit).collect(),
        };
        let by = self.session()?.scope.actor.clone();
        self.spend_change();
        self.spend_stored_bytes(bytes);
        let created = self.session()?.create_incident(new, by).map_err(storage_trap)?;
        Ok(Ok(to_wit(&created)))
    }

    fn change_status(&mut self, id: IncidentId, to: Status, note: Option<String>) -> Changed {
        let incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        if let Some(note) = &note
            && let Err(error) = self.check_text("the note", note, self.limits.max_text_bytes)
        {
            return Ok(Err(error));
        }
        let by = self.session()?.scope.actor.clone();
        let (changed, log) = match incident.status_change(to, by, note) {
            Ok(Some(change)) => change,
            Ok(None) => return Ok(Ok(to_wit(&incident))),
            Err(reopen) => return Ok(Err(ApiError::Invalid(reopen.to_string()))),
        };
        let note_bytes = match &log {
            LogKind::StatusChanged { note, .. } => note.as_ref().map_or(0, String::len),
            _ => 0,
        };
        let checks = self.check_action_budget().and_then(|_| self.check_stored_bytes(note_bytes));
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        self.spend_change();
        self.spend_stored_bytes(note_bytes);
        Ok(Ok(to_wit(&self.session()?.put_incident(changed, log))))
    }

    fn add_comment(&mut self, id: IncidentId, author: Option<String>, text: String) -> Changed {
        let incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        let checks = self
            .check_text("the comment", &text, self.limits.max_text_bytes)
            .and_then(|_| match &author {
                Some(author) => self.check_text("the author", author, self.limits.max_key_bytes),
                None => Ok(()),
            })
            .and_then(|_| self.check_action_budget());
        let bytes = text.len() + author.as_ref().map_or(0, String::len);
        if let Err(error) = checks.and_then(|_| self.check_stored_bytes(bytes)) {
            return Ok(Err(error));
        }
        let by = self.session()?.scope.actor.clone();
        self.spend_change();
        self.spend_stored_bytes(bytes);
        Ok(Ok(to_wit(
            &self.session()?.put_incident(incident, LogKind::Comment { author, text, by }),
        )))
    }

    fn add_link_to(&mut self, id: IncidentId, link: types::Link) -> Changed {
        let mut incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        if let Err(error) = self.check_link(&link) {
            return Ok(Err(error));
        }
        if incident.links.iter().any(|known| known.url == link.url) {
            return Ok(Ok(to_wit(&incident)));
        }
        let bytes = link.label.len() + link.url.len();
        let checks = self
            .check_link_count(incident.links.len() + 1)
            .and_then(|_| self.check_action_budget())
            .and_then(|_| self.check_stored_bytes(bytes));
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        let link = link_from_wit(link);
        incident.links.push(link.clone());
        let by = self.session()?.scope.actor.clone();
        let log = LogKind::LinkAdded { label: link.label, url: link.url, by };
        self.spend_change();
        self.spend_stored_bytes(bytes);
        Ok(Ok(to_wit(&self.session()?.put_incident(incident, log))))
    }
}

impl CallState {
    fn update_incident(&mut self, id: IncidentId, changes: incidents::IncidentUpdate) -> Changed {
        let max = self.limits.max_text_bytes;
        let checks = changes
            .summary
            .as_deref()
            .map_or(Ok(()), |text| self.check_text("the summary", text, max))
            .and_then(|_| {
                changes
                    .details
                    .as_deref()
                    .map_or(Ok(()), |text| self.check_text("the details", text, max))
            });
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        let incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        let changes = IncidentUpdate {
            summary: changes.summary,
            details: changes.details,
            priority: changes.priority.map(priority_from_wit),
        };
        let by = self.session()?.scope.actor.clone();
        let (updated, log) = match incident.update(changes, by) {
            Ok(Some(update)) => update,
            // Nothing would change: nothing is written, logged or counted.
            Ok(None) => return Ok(Ok(to_wit(&incident))),
            Err(resolved) => return Ok(Err(ApiError::Invalid(resolved.to_string()))),
        };
        // What is stored anew: the texts that changed, as kept.
        let bytes = [(&updated.summary, &incident.summary), (&updated.details, &incident.details)]
            .iter()
            .filter(|(new, old)| new != old)
            .map(|(new, _)| new.len())
            .sum();
        let checks = self.check_action_budget().and_then(|_| self.check_stored_bytes(bytes));
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        self.spend_change();
        self.spend_stored_bytes(bytes);
        Ok(Ok(to_wit(&self.session()?.put_incident(updated, log))))
    }
}

/// Bytes a new incident asks the host to store, as the plugin sent it.
fn new_incident_bytes(new: &types::NewIncident) -> usize {
    let links: usize = new.links.iter().map(|link| link.label.len() + link.url.len()).sum();
    new.key.len()
        + new.summary.len()
        + new.details.len()
        + new.url.as_ref().map_or(0, String::len)
        + links
}
