//! The host API the plugin uses, as a trait: the wasm build implements it
//! with the real imports ([`SdkHost`]); the unit tests use an in-memory
//! fake (`crate::fake_host`), because the import stubs panic when called
//! outside a component.

use inbound_sdk::incidents::{self, IncidentUpdate};
use inbound_sdk::log::Level;
use inbound_sdk::{ApiError, Incident, IncidentId, NewIncident, state};

pub trait Host {
    /// The open (pending or accepted) incident for `key`.
    fn find_open(&mut self, key: &str) -> Option<Incident>;
    /// The most recently created incident for `key`, whatever its status.
    fn find_latest(&mut self, key: &str) -> Option<Incident>;
    fn create(&mut self, new: &NewIncident) -> Result<Incident, ApiError>;
    fn update(&mut self, id: IncidentId, changes: &IncidentUpdate) -> Result<Incident, ApiError>;
    fn resolve(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError>;
    fn state_get(&mut self, key: &str) -> Option<Vec<u8>>;
    fn state_set(&mut self, key: &str, value: &[u8]) -> Result<(), ApiError>;
    fn state_delete(&mut self, key: &str);
    fn log(&mut self, level: Level, message: &str);
}

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

    fn update(&mut self, id: IncidentId, changes: &IncidentUpdate) -> Result<Incident, ApiError> {
        incidents::update(id, changes)
    }

    fn resolve(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError> {
        incidents::resolve(id, Some(note))
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

    fn log(&mut self, level: Level, message: &str) {
        inbound_sdk::log::log(level, message)
    }
}
