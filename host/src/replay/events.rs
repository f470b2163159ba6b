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
    /// Events whose body the log cut at `storage.event_body_cap_bytes`, or
    /// keeps as text because it was not UTF-8: a replay would judge a
    /// different body, so they are not replayed.
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
    // Never more than `limit` held: the oldest is dropped as a newer one
    // comes, so a source's whole history is never in memory at once.
    let mut kept = Kept { limit, ..Kept::default() };
    let mut query =
        ListQuery { source: Some(source.to_string()), limit: PAGE, ..ListQuery::default() };
    loop {
        let page = store.list(&query)?;
        for incident in &page.items {
            let mut after = None;
            loop {
                let log = store.log_after(incident.id, after, PAGE)?;
                for (_, entry) in log.items {
                    let LogKind::EventReceived {
                        action,
                        headers,
                        body,
                        body_truncated,
                        body_bytes,
                        ..
                    } = entry.kind
                    else {
                        continue;
                    };
                    if entry.at < since {
                        continue;
                    }
                    let key = (entry.at, content_hash(&headers, body.as_bytes()));
                    if body_truncated || body_bytes != body.len() {
                        kept.cut.insert(key);
                        continue;
                    }
                    kept.log(key, incident.id, action, || StoredEvent {
                        received_at: entry.at,
                        headers,
                        body: body.into_bytes(),
                        recorded: Recorded::Logged(Vec::new()),
                    });
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
    collect_failures(store, source, since, &mut kept)?;
    Ok(Collected {
        events: kept.events.into_values().collect(),
        truncated: kept.cut.len(),
        over_limit: kept.dropped.len(),
    })
}

/// The newest `limit` events found so far, and the keys of those left out.
#[derive(Default)]
struct Kept {
    limit: usize,
    events: BTreeMap<(Millis, u64), StoredEvent>,
    /// Older than the newest `limit`: dropped, and not taken again when the
    /// same event turns up in another incident's log.
    dropped: std::collections::HashSet<(Millis, u64)>,
    /// Bodies the log did not keep whole.
    cut: std::collections::HashSet<(Millis, u64)>,
}

impl Kept {
    /// Records that the event `key` was logged on `incident` with `action`.
    fn log(
        &mut self,
        key: (Millis, u64),
        incident: IncidentId,
        action: Action,
        event: impl FnOnce() -> StoredEvent,
    ) {
        if self.dropped.contains(&key) {
            return;
        }
        let event = self.events.entry(key).or_insert_with(event);
        if let Recorded::Logged(outcomes) = &mut event.recorded {
            outcomes.push((action, incident));
            outcomes.sort_by_key(|(_, id)| *id);
        }
        self.keep_limit();
    }

    fn add(&mut self, key: (Millis, u64), event: StoredEvent) {
        if !self.dropped.contains(&key) {
            self.events.insert(key, event);
            self.keep_limit();
        }
    }

    fn keep_limit(&mut self) {
        while self.events.len() > self.limit {
            if let Some((oldest, _)) = self.events.pop_first() {
                self.dropped.insert(oldest);
            }
        }
    }
}

/// Failed deliveries of `source` since `since` that no replay has handled.
fn collect_failures(
    store: &Store,
    source: &str,
    since: Millis,
    kept: &mut Kept,
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
            kept.add(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: Millis) -> StoredEvent {
        StoredEvent {
            received_at: at,
            headers: vec![],
            body: b"{}".to_vec(),
            recorded: Recorded::Logged(vec![]),
        }
    }

    #[test]
    fn only_the_newest_are_held_and_a_dropped_event_is_not_taken_again() {
        let mut kept = Kept { limit: 2, ..Kept::default() };
        for at in [30, 10, 20] {
            kept.log((at, 1), at, Action::Created, || event(at));
        }
        // 10 was dropped when 20 came; seen again in another incident's log.
        kept.log((10, 1), 99, Action::Created, || event(10));
        // One event in two logs is one event, with both incidents.
        kept.log((30, 1), 31, Action::Commented, || event(30));
        let times: Vec<Millis> = kept.events.keys().map(|(at, _)| *at).collect();
        assert_eq!(times, [20, 30]);
        assert_eq!(kept.dropped.len(), 1);
        assert_eq!(
            kept.events[&(30, 1)].recorded,
            Recorded::Logged(vec![(Action::Created, 30), (Action::Commented, 31)])
        );
    }
}
