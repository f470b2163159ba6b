//! The rules every change to an incident follows, whoever makes it: a
//! plugin through the host API, a person through the API or CLI, or the
//! host's fallback for a failed plugin.

use super::model::{
    DETAILS_MAX_CHARS, Incident, IncidentId, Link, LogKind, Millis, Priority, SUMMARY_MAX_CHARS,
    Status,
};

/// A new incident as its creator describes it. [`super::Session::create_incident`]
/// turns it into a pending incident of the session's source.
#[derive(Debug, Clone, Default)]
pub struct NewIncident {
    pub key: String,
    pub summary: String,
    pub details: String,
    pub priority: Option<Priority>,
    pub url: Option<String>,
    pub links: Vec<Link>,
}

/// What an update of an open incident changes: each `Some` field replaces
/// the incident's, each `None` keeps it (a priority cannot be taken away).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentUpdate {
    pub summary: Option<String>,
    pub details: Option<String>,
    pub priority: Option<Priority>,
}

/// An update of a resolved incident, which the rules refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "incident {0} is resolved; a resolved incident's summary, details and priority do not change"
)]
pub struct UpdateResolved(pub IncidentId);

/// A status change that the rules refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("incident {0} is resolved; resolved incidents are never reopened")]
pub struct Reopen(pub IncidentId);

impl NewIncident {
    /// The stored incident: texts cut to their limits, a link per URL, an
    /// empty url dropped.
    pub fn into_incident(
        self,
        id: IncidentId,
        source: &str,
        escalation_policy: &str,
        now: Millis,
    ) -> Incident {
        Incident {
            id,
            source: source.to_string(),
            key: self.key,
            status: Status::Pending,
            summary: cut_chars(&self.summary, SUMMARY_MAX_CHARS),
            details: cut_chars(&self.details, DETAILS_MAX_CHARS),
            priority: self.priority,
            url: self.url.filter(|url| !url.is_empty()),
            links: dedup_links(self.links),
            escalation_policy: escalation_policy.to_string(),
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }
}

impl Incident {
    /// This incident as changed at `now`: the version is bumped on every
    /// change, which is how the writer detects concurrent ones.
    pub fn revised(mut self, now: Millis) -> Incident {
        self.version += 1;
        self.updated_at = now;
        self
    }

    /// Moving to `to` on behalf of `by`: the incident with its new status and
    /// the log entry that records it, or `None` when it has that status
    /// already. Resolved incidents are never reopened.
    pub fn status_change(
        &self,
        to: Status,
        by: String,
        note: Option<String>,
    ) -> Result<Option<(Incident, LogKind)>, Reopen> {
        if self.status == to {
            return Ok(None);
        }
        if self.status == Status::Resolved {
            return Err(Reopen(self.id));
        }
        let log = LogKind::StatusChanged { from: self.status, to, by, note };
        Ok(Some((Incident { status: to, ..self.clone() }, log)))
    }

    /// Updating an open incident on behalf of `by`, texts cut to their
    /// limits as on creation: the changed incident and the log entry naming
    /// the fields that changed, or `None` when nothing would change.
    pub fn update(
        &self,
        changes: IncidentUpdate,
        by: String,
    ) -> Result<Option<(Incident, LogKind)>, UpdateResolved> {
        if !self.status.is_open() {
            return Err(UpdateResolved(self.id));
        }
        let mut updated = self.clone();
        let mut fields = Vec::new();
        if let Some(summary) = changes.summary.map(|text| cut_chars(&text, SUMMARY_MAX_CHARS))
            && summary != updated.summary
        {
            updated.summary = summary;
            fields.push("summary".to_string());
        }
        if let Some(details) = changes.details.map(|text| cut_chars(&text, DETAILS_MAX_CHARS))
            && details != updated.details
        {
            updated.details = details;
            fields.push("details".to_string());
        }
        if let Some(priority) = changes.priority
            && updated.priority != Some(priority)
        {
            updated.priority = Some(priority);
            fields.push("priority".to_string());
        }
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some((updated, LogKind::Updated { by, fields })))
    }
}

/// `text` cut to at most `max_chars` characters.
pub fn cut_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// The first link for each URL, in order: a plugin that lists its alert's
/// graph twice gets it once.
fn dedup_links(links: Vec<Link>) -> Vec<Link> {
    let mut kept: Vec<Link> = Vec::new();
    for link in links {
        if !kept.iter().any(|known| known.url == link.url) {
            kept.push(link);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(status: Status) -> Incident {
        NewIncident { key: "k".into(), summary: "s".into(), ..NewIncident::default() }
            .into_incident(7, "src", "policy", 1)
            .with_status(status)
    }

    impl Incident {
        fn with_status(self, status: Status) -> Incident {
            Incident { status, ..self }
        }
    }

    #[test]
    fn a_change_to_the_same_status_is_no_change() {
        assert_eq!(
            incident(Status::Accepted).status_change(Status::Accepted, "a".into(), None),
            Ok(None)
        );
    }

    #[test]
    fn a_resolved_incident_is_never_reopened() {
        for to in [Status::Pending, Status::Accepted] {
            assert_eq!(
                incident(Status::Resolved).status_change(to, "a".into(), None),
                Err(Reopen(7))
            );
        }
    }

    #[test]
    fn a_status_change_is_logged_with_who_and_why() {
        let (changed, log) = incident(Status::Pending)
            .status_change(Status::Resolved, "ada".into(), Some("fixed".into()))
            .unwrap()
            .unwrap();
        assert_eq!(changed.status, Status::Resolved);
        assert_eq!(
            log,
            LogKind::StatusChanged {
                from: Status::Pending,
                to: Status::Resolved,
                by: "ada".into(),
                note: Some("fixed".into())
            }
        );
    }

    #[test]
    fn an_update_names_what_changed_cuts_texts_and_skips_equal_fields() {
        let (updated, log) = incident(Status::Accepted)
            .update(
                IncidentUpdate {
                    summary: Some("s".into()),
                    details: Some("é".repeat(DETAILS_MAX_CHARS + 1)),
                    priority: Some(Priority::High),
                },
                "plugin am".into(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(updated.details.chars().count(), DETAILS_MAX_CHARS);
        assert_eq!((updated.status, updated.priority), (Status::Accepted, Some(Priority::High)));
        assert_eq!(
            log,
            LogKind::Updated {
                by: "plugin am".into(),
                fields: vec!["details".into(), "priority".into()]
            }
        );
        assert_eq!(updated.update(IncidentUpdate::default(), "a".into()), Ok(None));
        let same = IncidentUpdate {
            summary: Some("s".into()),
            details: Some(updated.details.clone() + "more"),
            priority: Some(Priority::High),
        };
        assert_eq!(updated.update(same, "a".into()), Ok(None), "cut to the same text");
    }

    #[test]
    fn a_resolved_incident_is_not_updated() {
        let changes = IncidentUpdate { summary: Some("new".into()), ..IncidentUpdate::default() };
        assert_eq!(incident(Status::Resolved).update(changes, "a".into()), Err(UpdateResolved(7)));
    }

    #[test]
    fn revising_bumps_the_version_and_the_time() {
        let revised = incident(Status::Pending).revised(99);
        assert_eq!((revised.version, revised.updated_at), (1, 99));
    }

    #[test]
    fn new_incidents_are_pending_with_cut_texts_and_one_link_per_url() {
        let link = |label: &str| Link { label: label.into(), url: "https://g".into() };
        let incident = NewIncident {
            key: "k".into(),
            summary: "é".repeat(SUMMARY_MAX_CHARS + 3),
            url: Some(String::new()),
            links: vec![link("a"), link("b")],
            ..NewIncident::default()
        }
        .into_incident(1, "src", "policy", 5);
        assert_eq!(incident.status, Status::Pending);
        assert_eq!(incident.summary.chars().count(), SUMMARY_MAX_CHARS);
        assert_eq!(incident.url, None);
        assert_eq!(incident.links, vec![link("a")]);
        assert_eq!((incident.created_at, incident.updated_at, incident.version), (5, 5, 0));
    }
}
