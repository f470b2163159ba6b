//! What a plugin call reads on redb: a consistent view at the last commit.

use super::records;
use super::tables::*;
use crate::store::engine::SnapshotReads;
use crate::store::error::Error;
use crate::store::model::{Incident, IncidentId};
use redb::ReadTransaction;
use std::sync::Arc;

/// A consistent read-only view of the database at one moment.
pub struct EmbeddedSnapshot {
    /// Shared with the other snapshots taken since the last commit.
    pub txn: Arc<ReadTransaction>,
}

impl SnapshotReads for EmbeddedSnapshot {
    fn open_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        Ok(records::id_for_key(&self.txn.open_table(OPEN_BY_KEY)?, source, key)?)
    }

    fn latest_incident_id(&self, source: &str, key: &str) -> Result<Option<IncidentId>, Error> {
        Ok(records::id_for_key(&self.txn.open_table(LATEST_BY_KEY)?, source, key)?)
    }

    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        Ok(records::incident(&self.txn.open_table(INCIDENTS)?, id)?)
    }

    fn state(&self, source: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(records::state_value(&self.txn.open_table(PLUGIN_STATE)?, source, key)?)
    }

    fn state_bytes(&self, source: &str) -> Result<u64, Error> {
        Ok(self.txn.open_table(STATE_BYTES)?.get(source)?.map_or(0, |v| v.value()))
    }
}
