//! Errors a plugin returns. A [`Rejection`] is the sender's mistake: the host
//! answers `400 {"error": {"code", "message"}}` and applies nothing, so the
//! message must tell the person who set up the sender what to fix.

use crate::{ApiError, Rejection};

impl Rejection {
    /// A rejection with a machine-readable `code` and a human `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection { code: code.into(), message: message.into() }
    }

    /// `missing-field`: a required field is absent or null.
    pub fn missing_field(path: &str, expected: &str) -> Self {
        Rejection::new(
            "missing-field",
            format!("the field `{path}` is missing; expected {expected}"),
        )
    }

    /// `invalid-field`: a field is there but not usable; `why` says how.
    pub fn invalid_field(path: &str, why: impl std::fmt::Display) -> Self {
        Rejection::new("invalid-field", format!("the field `{path}` {why}"))
    }

    /// `invalid-settings`: the source's settings in the host's config are
    /// wrong. The operator, not the sender, has to fix this.
    pub fn invalid_settings(why: impl std::fmt::Display) -> Self {
        Rejection::new(
            "invalid-settings",
            format!("the source's settings in config.toml are invalid: {why}"),
        )
    }
}

/// A readable sentence for a host API error. (wit-bindgen's own `Display`
/// prints the `Debug` form.)
pub fn describe_api_error(error: &ApiError) -> String {
    match error {
        ApiError::NotFound(id) => format!("incident {id} not found"),
        ApiError::Invalid(why) => format!("invalid call: {why}"),
        ApiError::LimitExceeded(what) => format!("limit exceeded: {what}"),
    }
}

/// A host API error inside `handle` is a bug or a limit, not the sender's
/// fault; turning it into a rejection still applies nothing and tells the
/// operator what happened. (After a `limit-exceeded` the host reports the
/// call as the plugin's failure, not as a 400.)
impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Self {
        Rejection::new("host-api-error", describe_api_error(&error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field_and_the_expectation() {
        let missing = Rejection::missing_field("alerts[0].status", "\"firing\" or \"resolved\"");
        assert_eq!(missing.code, "missing-field");
        assert_eq!(
            missing.message,
            "the field `alerts[0].status` is missing; expected \"firing\" or \"resolved\""
        );
        let invalid = Rejection::invalid_field("version", "is \"3\"; expected \"4\"");
        assert_eq!(invalid.message, "the field `version` is \"3\"; expected \"4\"");
    }

    #[test]
    fn api_errors_read_as_sentences() {
        assert_eq!(Rejection::from(ApiError::NotFound(7)).message, "incident 7 not found");
        assert_eq!(
            describe_api_error(&ApiError::LimitExceeded("16 links".into())),
            "limit exceeded: 16 links"
        );
    }
}
