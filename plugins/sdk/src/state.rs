//! The source's private key-value state, plus JSON helpers for storing
//! small typed records (e.g. what a plugin must remember about a ticket).

pub use crate::bindings::inbound::plugin::state::{delete, get, set};

use crate::ApiError;

/// The value under `key` as JSON. A value that no longer parses (written by
/// an older plugin release) reads as `None`, so a plugin upgrade never
/// wedges a source.
pub fn get_json<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    get(key).and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Stores `value` under `key` as JSON.
pub fn set_json<T: serde::Serialize>(key: &str, value: &T) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|error| ApiError::Invalid(format!("cannot encode state: {error}")))?;
    set(key, &bytes)
}
