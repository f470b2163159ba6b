//! The host API's checks of what a plugin asks for: sizes, counts and
//! shapes. Each failure is an `api-error` the plugin can handle.

use super::HostResult;
use super::types::{self, ApiError};
use crate::plugin::CallState;

impl CallState {
    /// Passes `result` back to the plugin, remembering a limit it hit: a
    /// call that fails after one is the plugin's failure, not the sender's.
    pub(super) fn noted<T>(
        &mut self,
        result: Result<T, ApiError>,
    ) -> HostResult<Result<T, ApiError>> {
        /// Errors kept per kind: enough to explain, bounded however often
        /// the plugin retries.
        const KEPT: usize = 8;
        let (kept, text) = match &result {
            Ok(_) => return Ok(result),
            Err(ApiError::LimitExceeded(what)) => (&mut self.limit_errors, what.clone()),
            Err(ApiError::Invalid(why)) => (&mut self.api_errors, why.clone()),
            Err(ApiError::NotFound(id)) => {
                (&mut self.api_errors, format!("incident {id} is not one of this source's"))
            }
        };
        if kept.len() < KEPT {
            kept.push(crate::plugin::printable(&text, 512));
        }
        Ok(result)
    }

    pub(super) fn check_text(&self, what: &str, text: &str, max: usize) -> Result<(), ApiError> {
        if text.len() > max {
            return Err(ApiError::LimitExceeded(format!(
                "{what} is {} bytes; the limit is {max}",
                text.len()
            )));
        }
        Ok(())
    }

    pub(super) fn check_key(&self, key: &str) -> Result<(), ApiError> {
        if key.trim().is_empty() {
            return Err(ApiError::Invalid("the incident key must not be empty".into()));
        }
        check_storable("the incident key", key)?;
        self.check_text("the incident key", key, self.limits.max_key_bytes)
    }

    pub(super) fn check_link(&self, link: &types::Link) -> Result<(), ApiError> {
        self.check_text("the link label", &link.label, self.limits.max_key_bytes)?;
        self.check_url("the link url", &link.url)
    }

    /// A web URL (`plugin::web_url`). Size first, so a huge URL is a limit
    /// error and is never parsed.
    pub(super) fn check_url(&self, what: &str, url: &str) -> Result<(), ApiError> {
        self.check_text(what, url, self.limits.max_url_bytes)?;
        crate::plugin::web_url::check(url).map_err(|reason| {
            let shown = crate::store::cut_chars(url, 80);
            ApiError::Invalid(format!(
                "{what} {shown:?} is not an absolute http(s) URL: it {reason}"
            ))
        })
    }

    pub(super) fn check_link_count(&self, count: usize) -> Result<(), ApiError> {
        if count > self.limits.max_links_per_incident {
            return Err(ApiError::LimitExceeded(format!(
                "an incident may have at most {} links",
                self.limits.max_links_per_incident
            )));
        }
        Ok(())
    }

    /// Room for one more change; [`Self::spend_change`] once it is made.
    pub(super) fn check_action_budget(&self) -> Result<(), ApiError> {
        if self.read_only {
            return Err(ApiError::Invalid(
                "the host API only reads in `on-change`: incidents and state change through webhooks (`handle`); keep an answer with `remember-as`".into(),
            ));
        }
        if self.changes_made >= self.limits.max_writes_per_call {
            return Err(ApiError::LimitExceeded(format!(
                "a call may make at most {} changes",
                self.limits.max_writes_per_call
            )));
        }
        Ok(())
    }

    pub(super) fn spend_change(&mut self) {
        self.changes_made += 1;
    }

    /// Room for `bytes` more stored bytes in this call; [`Self::spend_change`]
    /// with the same figure once the change is made.
    pub(super) fn check_stored_bytes(&self, bytes: usize) -> Result<(), ApiError> {
        if self.stored_bytes + bytes > self.limits.max_stored_bytes_per_call {
            return Err(ApiError::LimitExceeded(format!(
                "a call may store at most {} bytes; this change would bring it to {}",
                self.limits.max_stored_bytes_per_call,
                self.stored_bytes + bytes
            )));
        }
        Ok(())
    }

    pub(super) fn spend_stored_bytes(&mut self, bytes: usize) {
        self.stored_bytes += bytes;
    }
}

/// Keys are stored as text, and PostgreSQL's text cannot hold U+0000: a key
/// with one is refused on every engine alike, never a storage failure.
pub(super) fn check_storable(what: &str, key: &str) -> Result<(), ApiError> {
    if is_storable(key) {
        Ok(())
    } else {
        Err(ApiError::Invalid(format!("{what} must not contain the character U+0000 (NUL)")))
    }
}

/// False for a key that [`check_storable`] refuses, so no record can have it:
/// a lookup of one finds nothing without asking the store.
pub(super) fn is_storable(key: &str) -> bool {
    !key.contains('\0')
}
