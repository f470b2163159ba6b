//! The model as the public API shows it ([`super::answers`]). Kept apart
//! from the stored model so the storage format can change without changing
//! the API.

use super::answers;
use crate::store::{Incident, LogEntry, Millis};
use serde_json::{Value, json};

pub fn incident(incident: &Incident) -> answers::Incident {
    answers::Incident {
        created_at: timestamp(incident.created_at),
        details: incident.details.clone(),
        escalation_policy: incident.escalation_policy.clone(),
        id: incident.id,
        key: incident.key.clone(),
        links: incident.links.clone(),
        priority: incident.priority,
        source: incident.source.clone(),
        status: incident.status,
        summary: incident.summary.clone(),
        updated_at: timestamp(incident.updated_at),
        urgency: None,
        url: incident.url.clone(),
    }
}

/// The incident with its urgency, which the config decides.
pub fn incident_with_urgency(
    incident: &Incident,
    config: &crate::config::Config,
) -> answers::Incident {
    answers::Incident {
        urgency: Some(crate::noise::urgency(config, incident)),
        ..self::incident(incident)
    }
}

/// One log entry with its sequence number, the cursor that pages the log.
pub fn log_entry(seq: u64, entry: &LogEntry) -> Value {
    let mut value = serde_json::to_value(entry).expect("log entries always serialize");
    value["seq"] = json!(seq);
    value["at"] = json!(timestamp(entry.at));
    if let Some(at) = value.get("last_repeat_at").and_then(Value::as_u64) {
        value["last_repeat_at"] = json!(timestamp(at));
    }
    value
}

/// RFC 3339 in UTC with milliseconds.
pub fn timestamp(millis: Millis) -> String {
    crate::store::rfc3339_millis(millis)
}
