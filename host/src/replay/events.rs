//! A source's stored events, read back for a replay: every `event_received`
//! entry in its incidents' logs, and every failed delivery not yet replayed
//! (a replayed one is in a log already), oldest first.

use crate::store::{self, Action, FailureId, IncidentId, ListQuery, LogKind, Millis, Store};
use std::collections::BTreeMap;

/// Log entries and incidents read per page while collecting.
const PAGE: usize = 500;

/// One event as it was received, and what it came to live.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub received_at: Millis,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub recorded: Recorded,
}

/// What the live plugin did with the event, as the store recorded it.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Logged on these incidents with these actions (by incident id).
    Logged(Vec<(Action, IncidentId)>),
    /// The plugin failed; kept as this failed delivery.
    Failed { failure: FailureId, code: String },
}

/// The events found, and those left out.
#[derive(Debug, Default)]
pub struct Collected {
    /// Oldest first: the newest `limit` of the window.
    pub events: Vec<StoredEvent>,
    /// Events whose body the log cut at `storage.event_body_cap_bytes`: a
    /// replay would judge a different body, so they are not replayed.
    pub truncated: usize,
    /// Events in the window beyond `limit` (the oldest are left out).
    pub over_limit: usize,
}

/// The newest `limit` stored events of `source` received at `since` or
/// later. Blocking: reads every log of the source's incidents a page at a
/// time (an event about several incidents is in each of their logs, and
/// counted once).
pub fn collect(
    store: &Store,
    source: &str,
    since: Millis,
    limit: usize,
) -> Result<Collected, store::Error> {
    // By (time, content): the same webhook logged on several incidents.
    let mut events: BTreeMap<(Millis, u64), StoredEvent> = BTreeMap::new();
    let mut truncated = 0;
    let mut query =
        ListQuery { source: Some(source.to_string()), limit: PAGE, ..ListQuery::default() };
    loop {
        let page = store.list(&query)?;
        for incident in &page.items {
            let mut after = None;
            loop {
                let log = store.log_after(incident.id, after, PAGE)?;
                for (_, entry) in log.items {
                    let LogKind::EventReceived { action, headers, body, body_truncated, .. } =
                        entry.kind
                    else {
                        continue;
                    };
                    if entry.at < since {
                        continue;
                    }
                    if body_truncated {
                        truncated += 1;
                        continue;
                    }
                    let key = (entry.at, content_hash(&headers, body.as_bytes()));
                    let event = events.entry(key).or_insert_with(|| StoredEvent {
                        received_at: entry.at,
                        headers,
                        body: body.into_bytes(),
                        recorded: Recorded::Logged(Vec::new()),
                    });
                    if let Recorded::Logged(outcomes) = &mut event.recorded {
                        outcomes.push((action, incident.id));
                        outcomes.sort_by_key(|(_, id)| *id);
                    }
                }
                match log.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        match page.next {
            Some(next) => query.before = Some(next),
            None => break,
        }
    }
    collect_failures(store, source, since, &mut events)?;
    let over_limit = events.len().saturating_sub(limit);
    let events = events.into_values().skip(over_limit).collect();
    Ok(Collected { events, truncated, over_limit })
}

/// Failed deliveries of `source` since `since` that no replay has handled.
fn collect_failures(
    store: &Store,
    source: &str,
    since: Millis,
    events: &mut BTreeMap<(Millis, u64), StoredEvent>,
) -> Result<(), store::Error> {
    let mut before = None;
    loop {
        let page = store.failures(before, PAGE)?;
        for failure in &page.items {
            if failure.source != source || failure.replayed.is_some() {
                continue;
            }
            if failure.received_at < since {
                continue;
            }
            let Some((failure, body)) = store.failure(failure.id)? else { continue };
            let key = (failure.received_at, content_hash(&failure.headers, &body));
            events.insert(
                key,
                StoredEvent {
                    received_at: failure.received_at,
                    headers: failure.headers,
                    body,
                    recorded: Recorded::Failed { failure: failure.id, code: failure.error_code },
                },
            );
        }
        // Failures are listed newest first and numbered in time order.
        let older_only = page.items.last().is_some_and(|last| last.received_at < since);
        match page.next {
            Some(next) if !older_only => before = Some(next),
            _ => return Ok(()),
        }
    }
}

fn content_hash(headers: &[(String, String)], body: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    headers.hash(&mut hasher);
    body.hash(&mut hasher);
    hasher.finish()
}

/// The actions of an outcome, one per incident (the first, as the log
/// records it) and sorted, to compare a recorded outcome with a replayed
/// one without the ids, which a replay never shares.
pub fn actions_of(outcomes: &[(Action, IncidentId)]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut actions = Vec::new();
    for (action, id) in outcomes {
        if !seen.contains(id) {
            seen.push(*id);
            actions.push(format!("{action:?}").to_lowercase());
        }
    }
    actions.sort();
    actions
}
