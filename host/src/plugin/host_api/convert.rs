//! Between the stored model and the newest WIT types.

use super::types;
use crate::store::{self, Incident, Status};

pub fn to_wit(incident: &Incident) -> types::Incident {
    types::Incident {
        id: incident.id,
        key: incident.key.clone(),
        status: match incident.status {
            Status::Pending => types::IncidentStatus::Pending,
            Status::Accepted => types::IncidentStatus::Accepted,
            Status::Resolved => types::IncidentStatus::Resolved,
        },
        summary: incident.summary.clone(),
        details: incident.details.clone(),
        priority: incident.priority.map(|p| match p {
            store::Priority::Low => types::Priority::Low,
            store::Priority::Normal => types::Priority::Normal,
            store::Priority::High => types::Priority::High,
            store::Priority::Urgent => types::Priority::Urgent,
        }),
        url: incident.url.clone(),
        links: incident
            .links
            .iter()
            .map(|link| types::Link { label: link.label.clone(), url: link.url.clone() })
            .collect(),
        created_at: incident.created_at,
        updated_at: incident.updated_at,
    }
}

pub fn link_from_wit(link: types::Link) -> store::Link {
    store::Link { label: link.label, url: link.url }
}

pub fn priority_from_wit(priority: types::Priority) -> store::Priority {
    match priority {
        types::Priority::Low => store::Priority::Low,
        types::Priority::Normal => store::Priority::Normal,
        types::Priority::High => store::Priority::High,
        types::Priority::Urgent => store::Priority::Urgent,
    }
}

pub fn action_from_wit(action: types::Action) -> store::Action {
    match action {
        types::Action::Created => store::Action::Created,
        types::Action::Accepted => store::Action::Accepted,
        types::Action::Resolved => store::Action::Resolved,
        types::Action::Commented => store::Action::Commented,
        types::Action::Unchanged => store::Action::Unchanged,
    }
}
