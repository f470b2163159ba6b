//! The incident page's escalation panel: the policy and its levels, which
//! fired when, what comes next and when, and every notification with its
//! state and attempts. Read with the page; refreshed live like the list.

use crate::config::Config;
use crate::store::{DeliveryStatus, Escalation, EscalationState, Notification, NotificationKind};
use crate::ui::view::{Time, time};

/// What the panel shows.
pub struct EscalationView {
    pub policy: String,
    /// In words: "escalating", "accepted: no further levels", ...
    pub state: String,
    /// "level 2 (schedule:primary)" and when, while levels are still due.
    pub next: Option<(String, Time)>,
    pub levels: Vec<LevelRow>,
    pub notifications: Vec<NotificationRow>,
}

pub struct LevelRow {
    pub number: u32,
    pub delay_minutes: u32,
    pub targets: String,
    /// When it fired, each round.
    pub fired: Vec<Time>,
}

pub struct NotificationRow {
    pub id: u64,
    pub kind: &'static str,
    pub level: u32,
    pub channel: String,
    pub person: String,
    pub status: &'static str,
    pub attempts: u32,
    pub detail: String,
}

pub fn view(
    config: &Config,
    escalation: &Escalation,
    notifications: &[Notification],
) -> EscalationView {
    let levels = config
        .escalation_policy(&escalation.policy)
        .map(|policy| policy.levels.as_slice())
        .unwrap_or_default();
    let state = match escalation.state {
        EscalationState::Active if escalation.due_at.is_some() => "escalating",
        EscalationState::Active => "waiting",
        EscalationState::Accepted => "accepted: no further levels",
        EscalationState::Exhausted => "every level fired; nobody accepted",
        EscalationState::ResolvedNoticeDue => "resolved: telling everyone notified",
        EscalationState::Closed => "closed",
    };
    let state = match &escalation.held {
        Some(held) if escalation.state == EscalationState::Active => {
            format!("not paging: {}", held.reason)
        }
        _ => state.to_string(),
    };
    let next = match (escalation.state, escalation.due_at) {
        (EscalationState::Active, Some(due)) => {
            let number = escalation.next_level;
            let targets = levels
                .get(number as usize)
                .map(|level| level.notify.join(", "))
                .unwrap_or_default();
            Some((format!("level {} ({targets})", number + 1), time(due)))
        }
        _ => None,
    };
    let levels = levels
        .iter()
        .enumerate()
        .map(|(index, level)| LevelRow {
            number: index as u32 + 1,
            delay_minutes: level.delay_minutes,
            targets: level.notify.join(", "),
            fired: escalation
                .fired
                .iter()
                .filter(|fired| fired.level == index as u32)
                .map(|fired| time(fired.fired_at))
                .collect(),
        })
        .collect();
    EscalationView {
        policy: escalation.policy.clone(),
        state,
        next,
        levels,
        notifications: notifications.iter().map(row).collect(),
    }
}

fn row(notification: &Notification) -> NotificationRow {
    let status = match notification.status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Cancelled => "cancelled",
    };
    let detail = match (notification.status, &notification.last_error, notification.sent_at) {
        (DeliveryStatus::Sent, _, Some(at)) => format!("sent {}", time(at).text),
        (DeliveryStatus::Pending, Some(error), _) => {
            format!("retrying at {}: {error}", time(notification.next_attempt_at).text)
        }
        (_, Some(error), _) => error.clone(),
        _ => String::new(),
    };
    NotificationRow {
        id: notification.id,
        kind: match notification.kind {
            NotificationKind::Triggered => "page",
            NotificationKind::Resolved => "resolved notice",
            NotificationKind::Outbound => "update to the sender",
        },
        level: notification.level + 1,
        channel: notification.recipient.channel.clone(),
        person: notification.recipient.person.clone().unwrap_or_else(|| "-".into()),
        status,
        attempts: notification.attempts,
        detail,
    }
}
