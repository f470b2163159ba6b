//! The incidents of the source being served: the host API, plus the
//! patterns most integrations are made of.

pub use crate::bindings::inbound::plugin::incidents::{
    IncidentUpdate, accept, add_link, comment, create, find_latest, find_open, get, resolve, update,
};

use crate::{Action, ApiError, Incident, Link, NewIncident, Outcome, Priority};

/// The open incident for `new.key`, untouched, or a new one: what a
/// "problem" event does. Safe to deliver twice.
pub fn open_or_create(new: NewIncident) -> Result<(Action, Incident), ApiError> {
    match find_open(&new.key) {
        Some(open) => Ok((Action::Unchanged, open)),
        None => Ok((Action::Created, create(&new)?)),
    }
}

/// Resolves the open incident for `key`: what a "recovery" event does.
/// `None` when nothing is open (already resolved, or never raised), which a
/// sender that repeats recoveries must not be punished for.
pub fn resolve_open(key: &str, note: Option<&str>) -> Result<Option<(Action, Incident)>, ApiError> {
    match find_open(key) {
        Some(open) => Ok(Some((Action::Resolved, resolve(open.id, note)?))),
        None => Ok(None),
    }
}

impl NewIncident {
    /// A new incident with a key and summary; add the rest with the
    /// builder methods.
    pub fn new(key: impl Into<String>, summary: impl Into<String>) -> Self {
        NewIncident {
            key: key.into(),
            summary: summary.into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
        }
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }

    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    pub fn link(mut self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.links.push(Link { label: label.into(), url: url.into() });
        self
    }
}

impl IncidentUpdate {
    /// An update that changes nothing yet; set what should change with the
    /// builder methods. Fields left out keep the incident's value.
    pub fn new() -> Self {
        IncidentUpdate { summary: None, details: None, priority: None }
    }

    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }
}

impl Default for IncidentUpdate {
    fn default() -> Self {
        IncidentUpdate::new()
    }
}

/// Brings the open incident `open` to what `wanted` describes (summary,
/// details, priority; its key, url and links stay): `commented` when
/// something changed (the action an update is reported as), `unchanged`
/// when it already matched. Fails with `invalid` if it is resolved.
pub fn update_to(open: &Incident, wanted: &NewIncident) -> Result<(Action, Incident), ApiError> {
    let changes = IncidentUpdate {
        summary: Some(wanted.summary.clone()),
        details: Some(wanted.details.clone()),
        priority: wanted.priority,
    };
    let updated = update(open.id, &changes)?;
    let same = (&updated.summary, &updated.details, updated.priority)
        == (&open.summary, &open.details, open.priority);
    let action = if same { Action::Unchanged } else { Action::Commented };
    Ok((action, updated))
}

impl Outcome {
    pub fn new(action: Action, incident: &Incident) -> Self {
        Outcome { action, incident: incident.id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_fills_every_field() {
        let new = NewIncident::new("k", "s")
            .details("d")
            .priority(Priority::High)
            .url("https://a")
            .link("graph", "https://g");
        assert_eq!((new.key.as_str(), new.summary.as_str(), new.details.as_str()), ("k", "s", "d"));
        assert_eq!(new.priority, Some(Priority::High));
        assert_eq!(new.url.as_deref(), Some("https://a"));
        let links: Vec<(&str, &str)> =
            new.links.iter().map(|l| (l.label.as_str(), l.url.as_str())).collect();
        assert_eq!(links, [("graph", "https://g")]);
    }
}
