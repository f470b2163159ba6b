//! Checks that several tables share: names that are non-empty, bounded and
//! unique, numbers that must be positive, and the list of what is declared
//! that an "unknown ..." error offers.

use super::errors::{ConfigError, Errors};
use std::collections::HashSet;

/// The names of one array of tables (`[[sources]]`, `[[channels]]`, ...):
/// each non-empty, at most [`UniqueNames::longest`] characters when set, and
/// unique. Checked entry by entry, in the loop that checks the rest of each
/// entry, so the first mistake in the file is the one reported.
pub(super) struct UniqueNames<'a> {
    errors: &'a Errors<'a>,
    /// The array's key, e.g. `sources` or `api.tokens`.
    table: &'a str,
    /// What one entry is, e.g. `source`.
    kind: &'a str,
    missing: String,
    longest: Option<usize>,
    duplicate: Duplicate,
    seen: HashSet<String>,
}

/// How a second entry with a name is reported.
enum Duplicate {
    /// `sources[1].name (source "x"): another source has this name; ...`
    Named,
    /// `api.tokens[1].name: another token has this name; ...`
    Unnamed,
    /// `escalation_policies[1].name: the escalation policy "x" is declared twice; ...`
    DeclaredTwice,
}

impl<'a> UniqueNames<'a> {
    /// An empty name is refused with "a {kind} needs a name; set name = \"...\"".
    pub fn new(errors: &'a Errors<'a>, table: &'a str, kind: &'a str) -> Self {
        UniqueNames {
            errors,
            table,
            kind,
            missing: format!("a {kind} needs a name; set name = \"...\""),
            longest: None,
            duplicate: Duplicate::Named,
            seen: HashSet::new(),
        }
    }

    /// What an empty name's error says instead.
    pub fn missing(self, message: impl Into<String>) -> Self {
        UniqueNames { missing: message.into(), ..self }
    }

    /// Refuses names of more than `chars` characters.
    pub fn longest(self, chars: usize) -> Self {
        UniqueNames { longest: Some(chars), ..self }
    }

    /// A duplicate's key is shown without the name.
    pub fn unnamed(self) -> Self {
        UniqueNames { duplicate: Duplicate::Unnamed, ..self }
    }

    /// A duplicate is "declared twice" (the name in the message, not the key).
    pub fn declared_twice(self) -> Self {
        UniqueNames { duplicate: Duplicate::DeclaredTwice, ..self }
    }

    /// Checks the name of entry `index`.
    pub fn check(&mut self, index: usize, name: &str) -> Result<(), ConfigError> {
        let key = format!("{}[{index}].name", self.table);
        let kind = self.kind;
        if name.trim().is_empty() {
            return Err(self.errors.at(key, self.missing.clone()));
        }
        if let Some(longest) = self.longest
            && name.chars().count() > longest
        {
            return Err(self
                .errors
                .at(key, format!("a {kind}'s name may have at most {longest} characters")));
        }
        if self.seen.insert(name.to_string()) {
            return Ok(());
        }
        Err(match self.duplicate {
            Duplicate::Named => self.errors.at_key(
                &key,
                format!("{key} ({kind} {name:?})"),
                format!("another {kind} has this name; names must be unique, rename one"),
            ),
            Duplicate::Unnamed => self
                .errors
                .at(key, format!("another {kind} has this name; names must be unique, rename one")),
            Duplicate::DeclaredTwice => self
                .errors
                .at(key, format!("the {kind} {name:?} is declared twice; rename or remove one")),
        })
    }

    /// The names checked so far.
    pub fn into_seen(self) -> HashSet<String> {
        self.seen
    }
}

/// Refuses the first key whose value is 0.
pub(super) fn all_positive(errors: &Errors, values: &[(&str, u64)]) -> Result<(), ConfigError> {
    match values.iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => {
            Err(errors.at(*key, "must be greater than 0; remove the key to use its default"))
        }
        None => Ok(()),
    }
}

/// What an "unknown ..." error offers instead: the declared names, or
/// that there are none.
pub(super) fn known<'n>(names: impl Iterator<Item = &'n str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() { "none declared".to_string() } else { names.join(", ") }
}
