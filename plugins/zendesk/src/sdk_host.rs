//! The lifecycle's [`Host`] backed by the real host imports. Only meaningful
//! inside the component: natively the import stubs panic, so tests use
//! `crate::fake_host` instead.

use crate::lifecycle::Host;
use inbound_sdk::{ApiError, Incident, IncidentId, NewIncident, incidents, state};

pub struct SdkHost;

impl Host for SdkHost {
    fn find_open(&mut self, key: &str) -> Option<Incident> {
        incidents::find_open(key)
    }

    fn find_latest(&mut self, key: &str) -> Option<Incident> {
        incidents::find_latest(key)
    }

    fn create(&mut self, new: &NewIncident) -> Result<Incident, ApiError> {
        incidents::create(new)
    }

    fn accept(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError> {
        incidents::accept(id, Some(note))
    }

    fn resolve(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError> {
        incidents::resolve(id, Some(note))
    }

    fn comment(
        &mut self,
        id: IncidentId,
        author: Option<&str>,
        text: &str,
    ) -> Result<Incident, ApiError> {
        incidents::comment(id, author, text)
    }

    fn state_get(&mut self, key: &str) -> Option<Vec<u8>> {
        state::get(key)
    }

    fn state_set(&mut self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        state::set(key, value)
    }

    fn state_delete(&mut self, key: &str) {
        state::delete(key)
    }
}
