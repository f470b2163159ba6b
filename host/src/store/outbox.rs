//! Escalations and the notification outbox: the model both engines store.
//!
//! An [`Escalation`] is kept per incident and derived by the writer from the
//! incident's status, like an index: created with the incident (level 0 due
//! at once), stopped when it is accepted, turned into "resolved notices due"
//! when it is resolved. Because the writer does it ([`escalation_after`]),
//! the timer is in the same durable commit as the change that schedules it,
//! whichever path made the change (webhook, API, one-click link). The notify
//! engine then fires due escalations into [`Notification`]s (the outbox) and
//! delivers them; each of those steps is one commit guarded by the versions
//! it read, so a level never fires twice and a delivery is never recorded
//! twice.

use super::model::{Incident, IncidentId, Millis, Status};
use serde::{Deserialize, Serialize};

pub type NotificationId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Levels fire while nobody accepts.
    Active,
    /// Someone accepted: no further levels.
    Accepted,
    /// Levels (and repeats) are used up; nobody accepted.
    Exhausted,
    /// Resolved; the "resolved" notices to everyone notified are due.
    ResolvedNoticeDue,
    /// Resolved and everything is sent (or there was no one to tell).
    Closed,
}

/// Someone (or some channel) a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub channel: String,
    /// The person from `[[people]]`; none for a `channel:` target.
    pub person: Option<String>,
    pub address: Option<String>,
}

impl Recipient {
    /// Who a throttle counts for (`notify/throttle.rs`): the channel and the
    /// address, or the channel alone for a `channel:` target. Also the name
    /// of the contact's keyed record.
    pub fn contact_key(&self) -> String {
        format!("{}\u{1f}{}", self.channel, self.address.as_deref().unwrap_or_default())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredLevel {
    pub level: u32,
    pub round: u32,
    /// When it was due and when it fired (later after downtime).
    pub due_at: Millis,
    pub fired_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub incident: IncidentId,
    pub policy: String,
    /// The level that fires next.
    pub next_level: u32,
    /// 0 on the first run through the levels, n on the n-th repeat.
    pub round: u32,
    /// When the engine must act next; none when nothing is left to do.
    pub due_at: Option<Millis>,
    pub state: EscalationState,
    /// Everyone notified so far, once each: the resolved notice goes to them.
    pub notified: Vec<Recipient>,
    pub fired: Vec<FiredLevel>,
    /// Why levels are not firing now (a maintenance window, low urgency);
    /// none while paging goes on. Absent in records from before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    pub version: u64,
}

/// Why an escalation waits instead of paging (`noise/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Held {
    /// As logged: `maintenance deploy`, `low urgency: outside working hours`.
    pub reason: String,
    /// The maintenance window holding it, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The window says `after = "quiet"`: when it ends, nobody is paged.
    #[serde(default)]
    pub then_quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Triggered,
    Resolved,
    /// Requests back to the incident's sender about a [`SenderChange`]:
    /// rendered by the source's plugin (`on-change`), sent to the source's
    /// `[sources.outbound]` origin (`notify/outbound.rs`).
    Outbound,
}

/// What a person or the host did to an incident, for its source's plugin to
/// tell the sender (two-way integrations). Changes made by the source's own
/// webhooks are never one: the sender already knows, and a loop could form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SenderChange {
    pub kind: ChangeKind,
    /// A person's name, or `inbound` for the host's own changes.
    pub by: String,
    /// The person's note, or the maintenance window's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = u64)]
    pub at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Accepted,
    Resolved,
    Noted,
    EscalationExhausted,
    HeldForMaintenance,
}

/// The recipient of a source's requests back to its sender: one "contact"
/// per incident, so an incident's requests go out in order, one at a time.
pub fn sender_of(source: &str, incident: IncidentId) -> Recipient {
    Recipient {
        channel: format!("{OUTBOUND_CHANNEL_PREFIX}{source}"),
        person: None,
        address: Some(incident.to_string()),
    }
}

/// Outbound entries' `channel`: `outbound:<source>`. Channel names are
/// identifiers without `:`, so no configured channel can take it.
pub const OUTBOUND_CHANNEL_PREFIX: &str = "outbound:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
    /// A person's later rule, not sent: the incident was accepted or
    /// resolved before it was due.
    Cancelled,
}

impl DeliveryStatus {
    /// Stable one-byte code used in index keys. Never renumber.
    pub fn code(self) -> u8 {
        match self {
            DeliveryStatus::Pending => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Failed => 2,
            DeliveryStatus::Cancelled => 3,
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "sent" => Some(DeliveryStatus::Sent),
            "failed" => Some(DeliveryStatus::Failed),
            "cancelled" => Some(DeliveryStatus::Cancelled),
            _ => None,
        }
    }
}

/// One message to one recipient through one channel: an outbox entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub incident: IncidentId,
    pub kind: NotificationKind,
    pub level: u32,
    pub round: u32,
    pub recipient: Recipient,
    pub created_at: Millis,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Millis,
    /// Messages of the rendered list already delivered: a retry resumes there.
    pub messages_sent: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<Millis>,
    pub version: u64,
    /// Held by its contact's throttle: pending until a slot frees, then sent
    /// in a digest with the contact's other held notifications.
    #[serde(default, skip_serializing_if = "is_false")]
    pub held: bool,
    /// For [`NotificationKind::Outbound`]: the change to tell the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<SenderChange>,
    /// A person's later notification rule: due this many minutes after the
    /// level fired, and cancelled at delivery if the incident is no longer
    /// pending. 0: at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub after_minutes: u32,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Notification {
    /// Stable across retries and restarts: receivers drop a resend by it.
    /// For an outbound entry it is also the change's marker, which the
    /// plugin writes into what the sender echoes back.
    pub fn idempotency_key(&self) -> String {
        format!("inbound-{}-{}", self.incident, self.id)
    }

    /// An outbound entry telling `source`'s sender about `change`, due at once.
    pub fn to_sender(
        id: NotificationId,
        source: &str,
        incident: IncidentId,
        change: SenderChange,
    ) -> Notification {
        Notification {
            id,
            incident,
            kind: NotificationKind::Outbound,
            level: 0,
            round: 0,
            recipient: sender_of(source, incident),
            created_at: change.at,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: change.at,
            messages_sent: 0,
            last_error: None,
            sent_at: None,
            version: 0,
            held: false,
            change: Some(change),
            after_minutes: 0,
        }
    }

    /// The source whose sender an outbound entry goes to.
    pub fn outbound_source(&self) -> Option<&str> {
        self.recipient.channel.strip_prefix(OUTBOUND_CHANNEL_PREFIX)
    }
}

/// The escalation `incident` should have after changing from `previous`
/// (none: it is new), given the escalation `stored` for it; `None` when
/// nothing is to be written. Both engines' writers call it in the commit
/// that changes the incident.
pub fn escalation_after(
    previous: Option<&Incident>,
    stored: Option<Escalation>,
    incident: &Incident,
) -> Option<Escalation> {
    if previous.is_some_and(|old| old.status == incident.status) {
        return None;
    }
    let mut escalation = match previous {
        None => Escalation {
            incident: incident.id,
            policy: incident.escalation_policy.clone(),
            next_level: 0,
            round: 0,
            due_at: Some(incident.created_at),
            state: EscalationState::Active,
            notified: Vec::new(),
            fired: Vec::new(),
            held: None,
            version: 0,
        },
        // Incidents from before escalations existed have none.
        Some(_) => stored.clone()?,
    };
    match incident.status {
        Status::Pending => {}
        Status::Accepted => {
            if matches!(escalation.state, EscalationState::Active | EscalationState::Exhausted) {
                escalation.state = EscalationState::Accepted;
                escalation.due_at = None;
            }
        }
        Status::Resolved => {
            if !matches!(
                escalation.state,
                EscalationState::ResolvedNoticeDue | EscalationState::Closed
            ) {
                if escalation.notified.is_empty() {
                    escalation.state = EscalationState::Closed;
                    escalation.due_at = None;
                } else {
                    escalation.state = EscalationState::ResolvedNoticeDue;
                    escalation.due_at = Some(incident.updated_at);
                }
            }
        }
    }
    let unchanged = stored
        .as_ref()
        .is_some_and(|old| old.state == escalation.state && old.due_at == escalation.due_at);
    if unchanged {
        return None;
    }
    escalation.version += 1;
    Some(escalation)
}
