//! The escalation engine: turns a due escalation into notifications.
//!
//! Each due escalation becomes one change set: the notifications of the
//! level (the outbox entries), the escalation advanced to its next level and
//! timer, and a log entry, committed together and only if neither the
//! escalation nor the incident changed since they were read. So a level
//! fires once, even across a crash between commit and delivery, and never
//! after an accept that committed first.

use super::setup::{Paged, Setup};
use crate::noise::{self, Decision, Window};
use crate::store::{
    ChangeKind, ChangeSet, DeliveryStatus, Escalation, EscalationState, FiredLevel, Incident,
    LogEntry, LogKind, Millis, Notification, NotificationKind, ReadCheck, Recipient, SenderChange,
    Status, Store, Write,
};

/// What one due escalation commits, and whether it held a page back.
#[derive(Debug)]
pub struct Plan {
    pub changes: ChangeSet,
    /// `maintenance` or `low_urgency` when a level was due and, for the
    /// first time for this reason, paged nobody (for `/metrics`).
    pub held: Option<&'static str>,
}

/// What to commit for one due escalation at `now`; `windows` are the
/// maintenance windows known at this pass.
pub fn plan(
    setup: &Setup,
    store: &Store,
    windows: &[Window],
    escalation: &Escalation,
    incident: Option<&Incident>,
    now: Millis,
) -> Result<Plan, crate::store::Error> {
    let mut held = None;
    let mut changes = changes(setup, store, windows, escalation, incident, now, &mut held)?;
    if let Some(incident) = incident.filter(|i| setup.config.outbound(&i.source).is_some()) {
        let next = changes.writes.iter().find_map(|write| match write {
            Write::PutEscalation(next) => Some(next),
            _ => None,
        });
        if let Some(change) = next.and_then(|next| told_sender(escalation, next, now)) {
            changes.writes.push(super::senders::entry(store, incident, change)?);
        }
    }
    Ok(Plan { changes, held })
}

/// What the incident's sender should hear of this step: that paging ran
/// out with nobody accepting, or that a maintenance window began holding
/// it. Once each: the step that changes it, never a recheck.
fn told_sender(before: &Escalation, after: &Escalation, now: Millis) -> Option<SenderChange> {
    let by = "inbound".to_string();
    let window = |escalation: &Escalation| escalation.held.as_ref()?.window.clone();
    if after.state == EscalationState::Exhausted
        && before.state != EscalationState::Exhausted
        && !after.fired.is_empty()
    {
        return Some(SenderChange {
            kind: ChangeKind::EscalationExhausted,
            by,
            text: None,
            at: now,
        });
    }
    match window(after) {
        Some(name) if window(before).as_ref() != Some(&name) => Some(SenderChange {
            kind: ChangeKind::HeldForMaintenance,
            by,
            text: Some(name),
            at: now,
        }),
        _ => None,
    }
}

fn changes(
    setup: &Setup,
    store: &Store,
    windows: &[Window],
    escalation: &Escalation,
    incident: Option<&Incident>,
    now: Millis,
    held_metric: &mut Option<&'static str>,
) -> Result<ChangeSet, crate::store::Error> {
    let mut next = escalation.clone();
    next.version += 1;
    let mut writes = Vec::new();
    let mut reads = vec![ReadCheck::EscalationVersion {
        incident: escalation.incident,
        expected: Some(escalation.version),
    }];
    let Some(incident) = incident else {
        next.state = EscalationState::Closed;
        next.due_at = None;
        return Ok(ChangeSet { reads, writes: vec![Write::PutEscalation(next)] });
    };
    reads.push(ReadCheck::IncidentVersion { id: incident.id, expected: Some(incident.version) });
    let due_at = escalation.due_at.unwrap_or(now);
    let new_notification = |kind, level, round, recipient: &Recipient| {
        Ok::<_, crate::store::Error>(Notification {
            id: store.allocate_notification_id()?,
            incident: incident.id,
            kind,
            level,
            round,
            recipient: recipient.clone(),
            created_at: now,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            messages_sent: 0,
            last_error: None,
            sent_at: None,
            version: 1,
            held: false,
            change: None,
            after_minutes: 0,
        })
    };
    match escalation.state {
        EscalationState::Active if incident.status == Status::Pending => {
            let policy = setup.config.escalation_policy(&escalation.policy);
            let levels = policy.map(|p| p.levels.as_slice()).unwrap_or_default();
            let level_index = escalation.next_level as usize;
            let Some(level) = levels.get(level_index) else {
                next.state = EscalationState::Exhausted;
                next.due_at = None;
                // A policy without levels notifies nobody by design: no log.
                if policy.is_none() {
                    let why =
                        format!("escalation policy {:?} is not configured", escalation.policy);
                    writes.push(log(incident, now, 0, escalation.round, vec![], vec![why]));
                }
                writes.insert(0, Write::PutEscalation(next));
                return Ok(ChangeSet { reads, writes });
            };
            // The first level may itself wait: it is due that long after the
            // incident opened, not when it was created.
            let first_due = incident.created_at + setup.delay(level.delay_minutes);
            if level_index == 0
                && escalation.round == 0
                && escalation.fired.is_empty()
                && now < first_due
            {
                next.due_at = Some(first_due);
                return Ok(ChangeSet { reads, writes: vec![Write::PutEscalation(next)] });
            }
            let scale =
                |millis: Millis| millis / setup.config.notifications.time_scale.max(1) as u64;
            let previous = escalation.held.as_ref();
            match noise::decide(&setup.config, windows, incident, previous, now, scale) {
                Decision::Page => next.held = None,
                Decision::Wait { held, recheck_at, pages_at } => {
                    // From the first level again once it pages: nobody has
                    // seen it while it was held.
                    next.next_level = 0;
                    next.round = 0;
                    next.due_at = Some(recheck_at.max(now + 1));
                    if previous != Some(&held) {
                        *held_metric =
                            Some(if held.window.is_some() { "maintenance" } else { "low_urgency" });
                        writes.push(not_paged(incident, now, held.reason.clone(), pages_at));
                    }
                    next.held = Some(held);
                    writes.insert(0, Write::PutEscalation(next));
                    return Ok(ChangeSet { reads, writes });
                }
                Decision::Never { reason } => {
                    *held_metric = Some(if previous.is_some_and(|h| h.window.is_some()) {
                        "maintenance"
                    } else {
                        "low_urgency"
                    });
                    next.state = EscalationState::Exhausted;
                    next.due_at = None;
                    next.held = None;
                    writes.push(not_paged(incident, now, reason, None));
                    writes.insert(0, Write::PutEscalation(next));
                    return Ok(ChangeSet { reads, writes });
                }
            }
            let shifts = store.shifts(now)?;
            let resolved = setup.resolve(&level.notify, now, &shifts);
            let mut notified = Vec::new();
            for Paged { recipient, after_minutes } in &resolved.recipients {
                let mut notification = new_notification(
                    NotificationKind::Triggered,
                    level_index as u32,
                    escalation.round,
                    recipient,
                )?;
                if *after_minutes > 0 {
                    // A person's later rule: durable in the outbox, due
                    // then, skipped at delivery if accepted by then.
                    notification.next_attempt_at = now + setup.delay(*after_minutes);
                    notification.after_minutes = *after_minutes;
                    notified.push(format!("{} after {after_minutes} min", describe(recipient)));
                } else {
                    notified.push(describe(recipient));
                    // The resolved notice goes to contacts paged at once.
                    if !next.notified.contains(recipient) {
                        next.notified.push(recipient.clone());
                    }
                }
                writes.push(Write::PutNotification(notification));
            }
            next.fired.push(FiredLevel {
                level: level_index as u32,
                round: escalation.round,
                due_at,
                fired_at: now,
            });
            // The next level is due its delay after this one was due (not
            // after it fired), so after downtime overdue levels follow in order.
            let repeat = policy.map_or(0, |p| p.repeat);
            if let Some(following) = levels.get(level_index + 1) {
                next.next_level += 1;
                next.due_at = Some(due_at + setup.delay(following.delay_minutes));
            } else if escalation.round < repeat {
                next.next_level = 0;
                next.round += 1;
                let after = policy.map_or(0, |p| p.repeat_after_minutes);
                next.due_at = Some(due_at + setup.delay(after));
            } else {
                next.state = EscalationState::Exhausted;
                next.due_at = None;
            }
            writes.push(log(
                incident,
                now,
                level_index as u32,
                escalation.round,
                notified,
                resolved.skipped,
            ));
        }
        EscalationState::ResolvedNoticeDue => {
            let mut notified = Vec::new();
            for recipient in &escalation.notified {
                let level = escalation.fired.last().map_or(0, |f| f.level);
                writes.push(Write::PutNotification(new_notification(
                    NotificationKind::Resolved,
                    level,
                    escalation.round,
                    recipient,
                )?));
                notified.push(describe(recipient));
            }
            next.state = EscalationState::Closed;
            next.due_at = None;
            writes.push(Write::AppendLog {
                incident: incident.id,
                entry: LogEntry {
                    at: now,
                    kind: LogKind::Escalated {
                        level: escalation.fired.last().map_or(0, |f| f.level),
                        round: escalation.round,
                        notified: notified
                            .into_iter()
                            .map(|n| format!("resolved notice to {n}"))
                            .collect(),
                        skipped: vec![],
                    },
                },
            });
        }
        // Accepted or resolved in between (the writer normally clears the
        // timer with the change itself): nothing left to do.
        _ => {
            next.due_at = None;
            if escalation.state == EscalationState::Active {
                next.state = EscalationState::Accepted;
            }
        }
    }
    writes.insert(0, Write::PutEscalation(next));
    Ok(ChangeSet { reads, writes })
}

fn not_paged(incident: &Incident, now: Millis, reason: String, until: Option<Millis>) -> Write {
    Write::AppendLog {
        incident: incident.id,
        entry: LogEntry { at: now, kind: LogKind::NotPaged { reason, until } },
    }
}

fn log(
    incident: &Incident,
    now: Millis,
    level: u32,
    round: u32,
    notified: Vec<String>,
    skipped: Vec<String>,
) -> Write {
    Write::AppendLog {
        incident: incident.id,
        entry: LogEntry { at: now, kind: LogKind::Escalated { level, round, notified, skipped } },
    }
}

/// `ada via email` or `channel support-slack`, for logs.
pub fn describe(recipient: &Recipient) -> String {
    if let Some(source) = recipient.channel.strip_prefix(crate::store::OUTBOUND_CHANNEL_PREFIX) {
        return format!("the sender of source {source}");
    }
    match &recipient.person {
        Some(person) => format!("{person} via {}", recipient.channel),
        None => format!("channel {}", recipient.channel),
    }
}
