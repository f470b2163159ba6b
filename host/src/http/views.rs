//! The model as the public API shows it ([`super::answers`]). Kept apart
//! from the stored model so the storage format can change without changing
//! the API.

use super::answers::{self, LogKind};
use crate::store::{
    DeliveryStatus, Escalation, FailedDelivery, Incident, LogEntry, Millis, Notification,
};

/// Fired levels and people notified that the incident detail shows: the
/// newest, with the counts; a storm of repeats or a person with hundreds of
/// contacts cannot make the answer grow without bound.
pub const DETAIL_ESCALATION_ITEMS: usize = 50;

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
pub fn log_entry(seq: u64, entry: &LogEntry) -> answers::LogEntry {
    use crate::store::LogKind as Stored;
    let kind = match entry.kind.clone() {
        Stored::EventReceived {
            action,
            headers,
            body,
            body_bytes,
            body_truncated,
            repeats,
            last_repeat_at,
            shared_body: _,
        } => LogKind::EventReceived {
            action,
            body,
            body_bytes,
            body_truncated,
            headers,
            last_repeat_at: last_repeat_at.map(timestamp),
            repeats,
        },
        Stored::Created { by } => LogKind::Created { by },
        Stored::StatusChanged { from, to, by, note } => {
            LogKind::StatusChanged { by, from, note, to }
        }
        Stored::Comment { author, text, by } => LogKind::Comment { author, by, text },
        Stored::LinkAdded { label, url, by } => LogKind::LinkAdded { by, label, url },
        Stored::Updated { by, fields } => LogKind::Updated { by, fields },
        Stored::Escalated { level, round, notified, skipped } => {
            LogKind::Escalated { level, notified, round, skipped }
        }
        Stored::NotPaged { reason, until } => LogKind::NotPaged { reason, until },
        Stored::NotificationAttempt {
            notification,
            channel,
            recipient,
            attempt,
            outcome,
            detail,
        } => LogKind::NotificationAttempt {
            attempt,
            channel,
            detail,
            notification,
            outcome,
            recipient,
        },
    };
    answers::LogEntry { at: timestamp(entry.at), seq, kind }
}

pub fn notification(notification: &Notification) -> answers::NotificationView {
    answers::NotificationView {
        address: notification.recipient.address.clone(),
        after_minutes: notification.after_minutes,
        attempts: notification.attempts,
        change: notification.change.clone(),
        channel: notification.recipient.channel.clone(),
        created_at: timestamp(notification.created_at),
        held: notification.held,
        id: notification.id,
        idempotency_key: notification.idempotency_key(),
        incident: notification.incident,
        kind: notification.kind,
        last_error: notification.last_error.clone(),
        level: notification.level,
        next_attempt_at: (notification.status == DeliveryStatus::Pending)
            .then(|| timestamp(notification.next_attempt_at)),
        person: notification.recipient.person.clone(),
        round: notification.round,
        sent_at: notification.sent_at.map(timestamp),
        status: notification.status,
    }
}

/// The escalation with its newest fired levels and latest people notified.
pub fn escalation(escalation: &Escalation) -> answers::EscalationView {
    let newest = |count: usize| count.saturating_sub(DETAIL_ESCALATION_ITEMS);
    answers::EscalationView {
        fired: escalation.fired[newest(escalation.fired.len())..]
            .iter()
            .map(|fired| answers::FiredView {
                due_at: timestamp(fired.due_at),
                fired_at: timestamp(fired.fired_at),
                level: fired.level,
                round: fired.round,
            })
            .collect(),
        fired_count: escalation.fired.len(),
        held: escalation.held.clone(),
        next_at: escalation.due_at.map(timestamp),
        next_level: escalation.next_level,
        notified: escalation.notified[newest(escalation.notified.len())..]
            .iter()
            .map(crate::notify::engine::describe)
            .collect(),
        notified_count: escalation.notified.len(),
        policy: escalation.policy.clone(),
        round: escalation.round,
        state: escalation.state,
    }
}

pub fn failed_delivery(failure: &FailedDelivery) -> answers::FailedDeliveryView {
    answers::FailedDeliveryView {
        attempts: failure.attempts,
        body_bytes: failure.body_bytes,
        error: failure.error.clone(),
        error_code: failure.error_code.clone(),
        fallback_incident: failure.fallback_incident,
        headers: failure.headers.clone(),
        id: failure.id,
        integration: failure.integration.clone(),
        received_at: timestamp(failure.received_at),
        replayed: failure.replayed.as_ref().map(|replayed| answers::ReplayedView {
            action: replayed.action,
            at: timestamp(replayed.at),
            incident: replayed.incident,
        }),
        source: failure.source.clone(),
    }
}

/// The first outcome of a delivery in full, and every outcome by id.
pub fn event_answer(
    outcomes: &[(crate::store::Action, Incident)],
    failed_delivery: Option<u64>,
) -> answers::EventAnswer {
    let (action, incident) = match outcomes.first() {
        Some((action, first)) => (*action, Some(incident(first))),
        None => (crate::store::Action::Unchanged, None),
    };
    answers::EventAnswer {
        action,
        failed_delivery,
        incident,
        outcomes: outcomes
            .iter()
            .map(|(action, incident)| answers::OutcomeRef {
                action: *action,
                incident_id: incident.id,
            })
            .collect(),
    }
}

/// RFC 3339 in UTC with milliseconds.
pub fn timestamp(millis: Millis) -> String {
    crate::store::rfc3339_millis(millis)
}
