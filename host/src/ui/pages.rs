//! One module per page of the console; each reads what it shows through the
//! store's bounded reads and renders one template.

pub mod audit;
pub mod escalation;
pub mod failed;
pub mod incident;
pub mod incidents;
pub mod mine;
pub mod oidc;
pub mod oncall;
pub mod quiet;
pub mod sign_in;
pub mod sources;

use super::UiError;

/// An id from a path or a query: a positive number, or a 400 that says so.
pub fn parse_id(text: &str, what: &str) -> Result<u64, UiError> {
    text.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| UiError::bad_request(format!("{text:?} is not {what} (a positive number)")))
}

/// An optional id from the query string: empty counts as absent.
pub fn parse_optional_id(text: Option<&str>, what: &str) -> Result<Option<u64>, UiError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => parse_id(text, what).map(Some),
    }
}

/// Form bodies that do not parse: the status the extractor chose, in words.
pub fn form_error(rejection: axum::extract::rejection::FormRejection) -> UiError {
    UiError::new(rejection.status(), "Form not understood", rejection.body_text())
}

/// Query strings that do not parse.
pub fn query_error(rejection: axum::extract::rejection::QueryRejection) -> UiError {
    UiError::bad_request(rejection.body_text())
}
