//! What one plugin call read, kept so another call can be shown the same
//! world: a shadow plugin runs after the live call has committed, yet must
//! judge the event as the live plugin did, before its changes.
//!
//! [`Seen`] is filled by a recording [`Session`](super::Session) as its
//! snapshot answers. [`SeenFirst`] is a snapshot that answers from it, and
//! asks a fresh snapshot only for what the live call never read (counted in
//! [`SeenFirst::beyond`], since that answer may include the live call's own
//! changes). The same on both engines: nothing here asks for a database
//! snapshot older than now, which PostgreSQL's statement reads cannot give.

use super::engine::{Snapshot, SnapshotReads};
use super::error::Error;
use super::model::{Incident, IncidentId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The answers a call's snapshot gave, before any of the call's writes.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub(super) open_by_key: HashMap<String, Option<IncidentId>>,
    pub(super) latest_by_key: HashMap<String, Option<IncidentId>>,
    pub(super) incidents: HashMap<IncidentId, Option<Incident>>,
    pub(super) state: HashMap<String, Option<Vec<u8>>>,
    pub(super) state_bytes: Option<u64>,
}

/// A snapshot that answers from what another call saw, and from `fresh`
/// for the rest.
pub struct SeenFirst {
    seen: Arc<Seen>,
    fresh: Snapshot,
    beyond: Arc<AtomicU32>,
}

impl SeenFirst {
    /// The snapshot, and a counter of the reads it could not answer from
    /// `seen`.
    pub fn snapshot(seen: Arc<Seen>, fresh: Snapshot) -> (Snapshot, Arc<AtomicU32>) {
        let beyond = Arc::new(AtomicU32::new(0));
        (Box::new(SeenFirst { seen, fresh, beyond: beyond.clone() }), beyond)
    }

    fn or_fresh<T: Clone>(
        &self,
        seen: Option<&T>,
        fresh: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        match seen {
            Some(value) => Ok(value.clone()),
            None => {
                self.beyond.fetch_add(1, Ordering::Relaxed);
                fresh()
            }
        }
    }
}

impl SnapshotReads for SeenFirst {
    fn open_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        self.or_fresh(self.seen.open_by_key.get(key), || self.fresh.open_incident_id(source, key))
    }

    fn latest_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        self.or_fresh(self.seen.latest_by_key.get(key), || {
            self.fresh.latest_incident_id(source, key)
        })
    }

    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        self.or_fresh(self.seen.incidents.get(&id), || self.fresh.incident(id))
    }

    fn state(&self, source: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.or_fresh(self.seen.state.get(key), || self.fresh.state(source, key))
    }

    fn state_bytes(&self, source: &str) -> Result<u64, Error> {
        self.or_fresh(self.seen.state_bytes.as_ref(), || self.fresh.state_bytes(source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot that knows one incident and fails every other read.
    struct Now(Incident);

    impl SnapshotReads for Now {
        fn open_incident_id(&self, _: &str, _: &str) -> Result<Option<IncidentId>, Error> {
            Ok(Some(self.0.id))
        }
        fn latest_incident_id(&self, _: &str, _: &str) -> Result<Option<IncidentId>, Error> {
            Ok(Some(self.0.id))
        }
        fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
            Ok((id == self.0.id).then(|| self.0.clone()))
        }
        fn state(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, Error> {
            Ok(Some(b"now".to_vec()))
        }
        fn state_bytes(&self, _: &str) -> Result<u64, Error> {
            Ok(99)
        }
    }

    fn incident(id: IncidentId) -> Incident {
        Incident {
            id,
            source: "s".into(),
            key: "k".into(),
            status: super::super::model::Status::Pending,
            summary: "now".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: vec![],
            escalation_policy: "p".into(),
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn what_was_seen_wins_and_the_rest_is_read_fresh_and_counted() {
        let mut seen = Seen::default();
        // The live call found no open incident for k and no state, then created 7.
        seen.open_by_key.insert("k".into(), None);
        seen.state.insert("fingerprint".into(), None);
        let (view, beyond) = SeenFirst::snapshot(Arc::new(seen), Box::new(Now(incident(7))));
        assert_eq!(view.open_incident_id("s", "k").unwrap(), None);
        assert_eq!(view.state("s", "fingerprint").unwrap(), None);
        assert_eq!(beyond.load(Ordering::Relaxed), 0);
        // Never read by the live call: answered now, and counted.
        assert_eq!(view.latest_incident_id("s", "k").unwrap(), Some(7));
        assert_eq!(view.state("s", "other").unwrap(), Some(b"now".to_vec()));
        assert_eq!(beyond.load(Ordering::Relaxed), 2);
    }
}
