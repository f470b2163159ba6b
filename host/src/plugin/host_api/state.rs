//! `inbound:plugin/state`: a small key-value store per source, under a quota.

use super::checks::{check_storable, is_storable};
use super::types::ApiError;
use super::{HostResult, storage_trap};
use crate::plugin::CallState;
use crate::plugin::wit::latest::inbound::plugin::state;

impl state::Host for CallState {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        if !is_storable(&key) {
            return Ok(None);
        }
        self.session()?.state_get(&key).map_err(storage_trap)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), ApiError>> {
        let checks = check_storable("the state key", &key)
            .and_then(|_| self.check_text("the state key", &key, self.limits.max_key_bytes))
            .and_then(|_| {
                if value.len() > self.limits.max_state_value_bytes {
                    Err(ApiError::LimitExceeded(format!(
                        "a state value is {} bytes; the limit is {}",
                        value.len(),
                        self.limits.max_state_value_bytes
                    )))
                } else {
                    Ok(())
                }
            })
            .and_then(|_| self.check_action_budget())
            .and_then(|_| self.check_stored_bytes(key.len() + value.len()));
        if let Err(error) = checks {
            return self.noted(Err(error));
        }
        let total =
            self.session()?.state_bytes_after(&key, Some(value.len())).map_err(storage_trap)?;
        if total > self.limits.max_state_bytes_per_source {
            return self.noted(Err(ApiError::LimitExceeded(format!(
                "the source's state would be {total} bytes; the limit is {}",
                self.limits.max_state_bytes_per_source
            ))));
        }
        self.spend_stored_bytes(key.len() + value.len());
        let quota = self.limits.max_state_bytes_per_source;
        self.session()?.state_set(&key, value, quota);
        self.spend_change();
        Ok(Ok(()))
    }

    /// Deleting cannot fail (the WIT gives it no error to return): a delete
    /// of an over-long key or one with NUL (neither can exist) or past the
    /// change budget is dropped.
    fn delete(&mut self, key: String) -> HostResult<()> {
        if key.len() <= self.limits.max_key_bytes
            && is_storable(&key)
            && self.check_action_budget().is_ok()
        {
            self.session()?.state_delete(&key);
            self.spend_change();
        }
        Ok(())
    }
}
