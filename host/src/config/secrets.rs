//! Secrets (webhook keys, signing secrets, API tokens): written in the file
//! or named by an environment variable, checked for strength and uniqueness.

use super::errors::{ConfigError, Errors};
use std::collections::HashSet;

/// Shortest accepted key or token: 22 random URL-safe characters carry 128 bits.
pub const MIN_KEY_CHARS: usize = 22;

/// Fewest different characters a key, token or link secret may have. A
/// length says nothing about randomness (`"0" * 22` is long enough), and
/// no check can prove a value random; this one refuses what is plainly not.
/// Low enough that random hex passes: 32 hex characters (`openssl rand -hex
/// 16`, `inbound sources add`) have fewer than 8 different ones about once
/// in 30 million, 64 (`-hex 32`) about once in 10^19.
pub const MIN_DISTINCT_CHARS: usize = 8;

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
                    "the {field} must be at least {MIN_KEY_CHARS} characters {alphabet}; generate one with `openssl rand -hex 16`"
                ),
            ));
        }
        self.random_looking(field, env, &value, "openssl rand -hex 16")?;
        if !seen.insert(value.clone()) {
            return Err(self.error(
                field,
                env,
                format!("another {owner} has the same {field}; {field}s must be unique, generate a new one with `openssl rand -hex 16`"),
            ));
        }
        Ok(value)
    }

    /// Refuses a value that is plainly not random (see [`weakness`]); the
    /// error says why, never the value, and how to make one.
    pub fn random_looking(
        &self,
        field: &str,
        env: Option<&str>,
        value: &str,
        generator: &str,
    ) -> Result<(), ConfigError> {
        match weakness(value) {
            None => Ok(()),
            Some(why) => Err(self.error(
                field,
                env,
                format!(
                    "the {field} {why}, so it is easy to guess; generate a random one with `{generator}`"
                ),
            )),
        }
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

/// Why `value` is plainly not random, if it is: one character repeated, a
/// shorter run repeated (`abab...`, `changemechangeme`), or fewer than
/// [`MIN_DISTINCT_CHARS`] different characters.
pub fn weakness(value: &str) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    let distinct = chars.iter().collect::<HashSet<_>>().len();
    if distinct <= 1 {
        return Some("is one character repeated".into());
    }
    if let Some(period) = shortest_period(&chars)
        && period <= chars.len() / 2
    {
        return Some(format!("repeats the same {period} characters"));
    }
    if distinct < MIN_DISTINCT_CHARS {
        return Some(format!(
            "has only {distinct} different characters (a random one has at least {MIN_DISTINCT_CHARS})"
        ));
    }
    None
}

/// The length of the shortest run that, repeated, makes up `chars` (the
/// last repeat may be cut short).
fn shortest_period(chars: &[char]) -> Option<usize> {
    (1..chars.len()).find(|&period| chars.iter().zip(&chars[period..]).all(|(a, b)| a == b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plainly_chosen_secrets_are_weak() {
        for weak in [
            "aaaaaaaaaaaaaaaaaaaaaa",
            "0000000000000000000000",
            "abababababababababababab",
            "0123456789abcdef0123456789abcdef",
            "changemechangemechangeme",
            "passwordpasswordpasswor",
            "aaaaaaaaaaaaaaaaaaaaab",
            "1111111111222222222223333333",
        ] {
            assert!(weakness(weak).is_some(), "{weak} passed");
        }
    }

    #[test]
    fn random_and_example_values_pass() {
        for fine in [
            "6f1d0c0e9b2a4f3c8d7e6a5b4c3d2e1f",
            "example-token-change-me-0123456789",
            "test-key-0123456789abcdefghij",
            "Zx3_9QkLmP2-vR7tYw1sAa",
        ] {
            assert_eq!(weakness(fine), None, "{fine}");
        }
    }

    /// What `inbound sources add` and `openssl rand -hex 16|32` make passes:
    /// 32 and 64 random hex characters, many times over.
    #[test]
    fn random_hex_passes() {
        use rand::Rng;
        for _ in 0..1_000 {
            let bytes: [u8; 32] = rand::rng().random();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(weakness(&hex), None, "{hex}");
            assert_eq!(weakness(&hex[..32]), None, "{}", &hex[..32]);
        }
    }

    #[test]
    fn messages_say_why() {
        assert_eq!(weakness("aaaaaaaaaaaaaaaaaaaaaa").unwrap(), "is one character repeated");
        assert_eq!(weakness("abababababababababababab").unwrap(), "repeats the same 2 characters");
        assert!(weakness("aaaaaaaaaaaaaaaaaaaaab").unwrap().contains("only 2 different"));
    }
}
