//! Secrets (webhook keys, signing secrets, API tokens): written in the file
//! or named by an environment variable, checked for strength and uniqueness.

use super::ConfigError;
use super::validate::Errors;
use std::collections::HashSet;

/// Shortest accepted key or token: 22 URL-safe characters carry 128 bits.
pub const MIN_KEY_CHARS: usize = 22;

/// Webhook keys sit in a URL path.
pub(super) const URL_SAFE: (&str, fn(char) -> bool) =
    ("of A-Z, a-z, 0-9, '-' or '_'", |c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
/// API tokens travel in a header.
pub(super) const NO_SPACES: (&str, fn(char) -> bool) =
    ("without spaces", |c| !(c.is_whitespace() || c.is_control()));

/// A secret that is written in the file (`field`) or named by an
/// environment variable (`field_env`): exactly one of the two.
#[derive(Clone, Copy)]
pub(super) struct Secret<'a> {
    pub errors: &'a Errors<'a>,
    /// Path of the table, e.g. `sources[0]`.
    pub table: &'a str,
    /// Said after the key in messages, e.g. ` (source "support")`.
    pub label: &'a str,
    pub hint: &'a str,
}

impl Secret<'_> {
    pub fn required(
        &self,
        field: &str,
        literal: Option<&str>,
        env: Option<&str>,
    ) -> Result<String, ConfigError> {
        self.optional(field, literal, env)?.ok_or_else(|| {
            self.errors.at_key(
                format!("{}.{field}", self.table),
                format!("{}.{field}{}", self.table, self.label),
                format!("missing: set {field} = \"...\" or {field}_env = \"VARIABLE\" (an environment variable holding it); {}", self.hint),
            )
        })
    }

    pub fn optional(
        &self,
        field: &str,
        literal: Option<&str>,
        env: Option<&str>,
    ) -> Result<Option<String>, ConfigError> {
        match (literal, env) {
            (Some(_), Some(_)) => Err(self.errors.at_key(
                format!("{}.{field}_env", self.table),
                format!("{}.{field}_env{}", self.table, self.label),
                format!("both {field} and {field}_env are set; keep only one of them"),
            )),
            (Some(value), None) => Ok(Some(value.to_string())),
            (None, Some(variable)) => match std::env::var(variable) {
                Ok(value) if !value.is_empty() => Ok(Some(value)),
                _ => Err(self.errors.at_key(
                    format!("{}.{field}_env", self.table),
                    format!("{}.{field}_env{}", self.table, self.label),
                    format!("the environment variable {variable} is not set or empty; export it before starting inbound, or write {field} = \"...\" instead"),
                )),
            },
            (None, None) => Ok(None),
        }
    }

    /// A required secret of at least [`MIN_KEY_CHARS`] characters, each
    /// `allowed`, that no other `owner` in `seen` has.
    pub fn strong(
        &self,
        field: &str,
        literal: Option<&str>,
        env: Option<&str>,
        owner: &str,
        seen: &mut HashSet<String>,
        (alphabet, allowed): (&str, fn(char) -> bool),
    ) -> Result<String, ConfigError> {
        let value = self.required(field, literal, env)?;
        if value.chars().count() < MIN_KEY_CHARS || !value.chars().all(allowed) {
            return Err(self.error(
                field,
                env,
                format!(
                    "the {field} must be at least {MIN_KEY_CHARS} characters (128 bits) {alphabet}; generate one with `openssl rand -hex 16`"
                ),
            ));
        }
        if !seen.insert(value.clone()) {
            return Err(self.error(
                field,
                env,
                format!("another {owner} has the same {field}; {field}s must be unique, generate a new one with `openssl rand -hex 16`"),
            ));
        }
        Ok(value)
    }

    /// An error about the secret's value, pointing at whichever key gave it.
    pub fn error(&self, field: &str, env: Option<&str>, message: String) -> ConfigError {
        let field = if env.is_some() { format!("{field}_env") } else { field.to_string() };
        self.errors.at_key(
            format!("{}.{field}", self.table),
            format!("{}.{field}{}", self.table, self.label),
            message,
        )
    }
}
