//! What a plugin call reads on PostgreSQL: single statements, each read
//! recorded in the call's change set and checked again by the writer under
//! locks, so a read that changed meanwhile costs a retry, never a wrong
//! commit.

use super::link::{Connection, Link};
use super::reads::{decode, id_of, incident, row, state, state_bytes};
use super::{block_on, timed};
use crate::store::engine::SnapshotReads;
use crate::store::error::Error;
use crate::store::model::{Incident, IncidentId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// A plugin call's reads. Not one transaction (see the module's comment),
/// but an incident found by its key is kept with the id, so the call sees
/// the record it found: another host resolving it in between cannot hand
/// the plugin an "open" incident that is resolved. Every record it reads is
/// checked again at commit.
pub struct PostgresSnapshot {
    link: Arc<Link>,
    runtime: tokio::runtime::Handle,
    seen: std::sync::Mutex<HashMap<IncidentId, Incident>>,
}

impl PostgresSnapshot {
    pub fn new(link: Arc<Link>, runtime: tokio::runtime::Handle) -> PostgresSnapshot {
        PostgresSnapshot { link, runtime, seen: Default::default() }
    }

    fn read<T: Send, F, Fut>(&self, read: F) -> Result<T, Error>
    where
        F: FnOnce(Arc<Connection>) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send,
    {
        let connection = self.link.get()?;
        block_on(&self.runtime, timed(read(connection)))
    }

    /// The id of the incident `sql` finds for (source, key), its record kept.
    fn by_key(
        &self,
        sql: &'static str,
        source: &str,
        key: &str,
    ) -> Result<Option<IncidentId>, Error> {
        let found = self.read(|db| async move {
            match row(&db, sql, &[&source, &key]).await? {
                Some(row) => Ok(Some((id_of(&row, 0), decode::<Incident>(row.get(1))?))),
                None => Ok(None),
            }
        })?;
        Ok(found.map(|(id, incident)| {
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(id, incident);
            id
        }))
    }
}

impl SnapshotReads for PostgresSnapshot {
    fn open_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        let sql = "SELECT id, record FROM incidents WHERE source = $1 AND key = $2 AND status <> 2";
        self.by_key(sql, source, key)
    }

    fn latest_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        let sql = "SELECT id, record FROM incidents WHERE source = $1 AND key = $2 \
                   ORDER BY id DESC LIMIT 1";
        self.by_key(sql, source, key)
    }

    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        if let Some(seen) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(Some(seen.clone()));
        }
        let found = self.read(|db| async move { incident(&db, id).await })?;
        if let Some(incident) = &found {
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(id, incident.clone());
        }
        Ok(found)
    }

    fn state(&self, source: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.read(|db| async move { state(&db, source, key).await })
    }

    fn state_bytes(&self, source: &str) -> Result<u64, Error> {
        self.read(|db| async move { state_bytes(&db, source).await })
    }
}
