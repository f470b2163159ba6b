//! What a Zendesk status word means for the incident, given the source's
//! settings.
//!
//! Zendesk renders `{{ticket.status}}` as a display name in the requester's
//! language ("Open", "On-hold", Norwegian "Løst"), while the API and some
//! templates use `open`, `hold`. Both are accepted in any case; translations
//! come from the source's `status_aliases` setting.

use crate::outbound::{ON_ACCEPT_STATUS, ON_RESOLVE_STATUS, SYNC_NOTES};
use inbound_sdk::Rejection;
use serde_json::Value;
use std::collections::BTreeMap;

/// The three things a ticket status can mean for its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// New, Open (and On-hold by default): someone should look at it.
    Open,
    /// Pending: an agent has answered and waits for the requester, so the
    /// incident counts as acknowledged.
    Pending,
    /// Solved, Closed: done.
    Solved,
}

/// The built-in words, lower case, as listed to the sender when a word is
/// not recognised. `hold` and its spellings are resolved through `on_hold`.
const BUILT_IN: [&str; 8] =
    ["new", "open", "pending", "hold", "on-hold", "on hold", "solved", "closed"];

/// The settings' names.
pub const STATUS_ALIASES: &str = "status_aliases";
pub const ON_HOLD: &str = "on_hold";

/// The source's status settings, read from `request.settings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWords {
    /// Normalised alias -> the built-in word it stands for.
    aliases: BTreeMap<String, &'static str>,
    on_hold: TicketStatus,
}

impl Default for StatusWords {
    fn default() -> Self {
        StatusWords { aliases: BTreeMap::new(), on_hold: TicketStatus::Open }
    }
}

impl StatusWords {
    /// Reads the source's settings (a JSON object, `{}` when none). Keys this
    /// plugin does not know are refused: a misspelt `status_aliases` would
    /// otherwise silently turn every translated status into a 400.
    pub fn from_settings(settings: &str) -> Result<StatusWords, Rejection> {
        let settings = settings.trim();
        if settings.is_empty() {
            return Ok(StatusWords::default());
        }
        let value: Value = serde_json::from_str(settings).map_err(|error| {
            invalid_settings(format!("the source's settings are not valid JSON: {error}"))
        })?;
        let Value::Object(table) = value else {
            return Err(invalid_settings(
                "the source's settings must be a table of keys".to_string(),
            ));
        };
        let mut words = StatusWords::default();
        for (key, value) in &table {
            match key.as_str() {
                STATUS_ALIASES => words.aliases = aliases(value)?,
                ON_HOLD => words.on_hold = on_hold(value)?,
                // Judged by `crate::outbound`.
                ON_ACCEPT_STATUS | ON_RESOLVE_STATUS | SYNC_NOTES => {}
                other => {
                    return Err(invalid_settings(format!(
                        "unknown setting \"{other}\" for a Zendesk source; known settings: status_aliases, on_hold, on_accept_status, on_resolve_status, sync_notes"
                    )));
                }
            }
        }
        Ok(words)
    }

    /// What `word` means. Aliases are looked up first, so an operator can
    /// also redefine a built-in word.
    pub fn classify(&self, word: &str) -> Result<TicketStatus, Rejection> {
        let normal = normalise(word);
        match self.aliases.get(&normal).copied().or_else(|| built_in(&normal)) {
            Some("new" | "open") => Ok(TicketStatus::Open),
            Some("pending") => Ok(TicketStatus::Pending),
            Some("hold" | "on-hold" | "on hold") => Ok(self.on_hold),
            Some("solved" | "closed") => Ok(TicketStatus::Solved),
            _ => Err(self.unknown(word)),
        }
    }

    fn unknown(&self, word: &str) -> Rejection {
        let received = if word.trim().is_empty() {
            "field \"status\" is missing or blank".to_string()
        } else {
            format!("field \"status\" has an unknown value {}", serde_json::Value::from(word))
        };
        let mut accepted = BUILT_IN.join(", ");
        if !self.aliases.is_empty() {
            let aliases: Vec<&str> = self.aliases.keys().map(String::as_str).collect();
            accepted
                .push_str(&format!("; aliases configured for this source: {}", aliases.join(", ")));
        }
        Rejection::new(
            "invalid-status",
            format!(
                "{received}; accepted (any case): {accepted}. \
                 Use {{{{ticket.status}}}} in the trigger body, or add the word to the source's status_aliases setting"
            ),
        )
    }
}

/// Case and surrounding space never matter; Unicode lower-casing so that
/// `LØST` matches an alias written `løst`.
fn normalise(word: &str) -> String {
    word.trim().to_lowercase()
}

fn built_in(normal: &str) -> Option<&'static str> {
    BUILT_IN.iter().copied().find(|known| *known == normal)
}

fn aliases(value: &Value) -> Result<BTreeMap<String, &'static str>, Rejection> {
    let Value::Object(table) = value else {
        return Err(invalid_settings(
            "setting \"status_aliases\" must be a table of word = status, e.g. { \"løst\" = \"solved\" }".to_string(),
        ));
    };
    let mut aliases = BTreeMap::new();
    for (word, target) in table {
        let normal = normalise(word);
        if normal.is_empty() {
            return Err(invalid_settings(
                "setting \"status_aliases\" has a blank word".to_string(),
            ));
        }
        let target =
            target.as_str().map(normalise).and_then(|t| built_in(&t)).ok_or_else(|| {
                invalid_settings(format!(
                    "setting \"status_aliases\" maps {} to {}; expected one of: {}",
                    Value::from(word.as_str()),
                    target,
                    BUILT_IN.join(", ")
                ))
            })?;
        aliases.insert(normal, target);
    }
    Ok(aliases)
}

fn on_hold(value: &Value) -> Result<TicketStatus, Rejection> {
    match value.as_str().map(normalise).as_deref() {
        Some("open") => Ok(TicketStatus::Open),
        Some("pending") => Ok(TicketStatus::Pending),
        _ => Err(invalid_settings(format!(
            "setting \"on_hold\" is {value}; expected \"open\" (the default) or \"pending\""
        ))),
    }
}

fn invalid_settings(message: String) -> Rejection {
    Rejection::new("invalid-settings", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    fn default_words() -> StatusWords {
        StatusWords::from_settings("{}").unwrap()
    }

    fn settings_error(settings: &str) -> Rejection {
        StatusWords::from_settings(settings).expect_err("settings should be refused")
    }

    #[test]
    fn display_names_and_api_values_in_any_case() {
        let words = default_words();
        let cases = [
            ("New", Open),
            ("Open", Open),
            ("Pending", Pending),
            ("On-hold", Open),
            ("Solved", Solved),
            ("Closed", Solved),
            ("new", Open),
            ("open", Open),
            ("pending", Pending),
            ("hold", Open),
            ("on hold", Open),
            ("solved", Solved),
            ("closed", Solved),
        ];
        for (word, expected) in cases {
            for variant in
                [word.to_string(), word.to_uppercase(), word.to_lowercase(), format!("  {word}\n")]
            {
                assert_eq!(words.classify(&variant).unwrap(), expected, "{variant:?}");
            }
        }
        assert_eq!(words.classify("oN-HoLd").unwrap(), Open);
    }

    #[test]
    fn empty_settings_are_the_defaults() {
        assert_eq!(StatusWords::from_settings("").unwrap(), StatusWords::default());
        assert_eq!(default_words(), StatusWords::default());
    }

    #[test]
    fn on_hold_can_mean_pending() {
        let words = StatusWords::from_settings(r#"{"on_hold": "pending"}"#).unwrap();
        for word in ["On-hold", "hold", "on hold"] {
            assert_eq!(words.classify(word).unwrap(), Pending, "{word}");
        }
        assert_eq!(words.classify("Open").unwrap(), Open);
    }

    #[test]
    fn on_hold_open_is_the_default_spelled_out() {
        let words = StatusWords::from_settings(r#"{"on_hold": "Open"}"#).unwrap();
        assert_eq!(words.classify("On-hold").unwrap(), Open);
    }

    #[test]
    fn aliases_translate_words_in_any_case() {
        let words = StatusWords::from_settings(
            r#"{"status_aliases": {"Løst": "solved", "åpen": "Open", "venter": "pending"}}"#,
        )
        .unwrap();
        assert_eq!(words.classify("løst").unwrap(), Solved);
        assert_eq!(words.classify("LØST").unwrap(), Solved);
        assert_eq!(words.classify("Åpen").unwrap(), Open);
        assert_eq!(words.classify("venter").unwrap(), Pending);
        assert_eq!(words.classify("Solved").unwrap(), Solved, "built-in words still work");
    }

    #[test]
    fn alias_to_hold_follows_on_hold() {
        let words = StatusWords::from_settings(
            r#"{"on_hold": "pending", "status_aliases": {"i vent": "on-hold"}}"#,
        )
        .unwrap();
        assert_eq!(words.classify("I vent").unwrap(), Pending);
    }

    #[test]
    fn alias_may_redefine_a_built_in_word() {
        let words =
            StatusWords::from_settings(r#"{"status_aliases": {"new": "pending"}}"#).unwrap();
        assert_eq!(words.classify("New").unwrap(), Pending);
    }

    #[test]
    fn unknown_status_lists_every_accepted_word() {
        let error = default_words().classify("Escalated").unwrap_err();
        assert_eq!(error.code, "invalid-status");
        assert!(error.message.contains("\"Escalated\""), "{}", error.message);
        for word in BUILT_IN {
            assert!(error.message.contains(word), "{word} missing from: {}", error.message);
        }
        assert!(!error.message.contains("aliases configured"), "{}", error.message);
        assert!(error.message.contains("{{ticket.status}}"), "{}", error.message);
    }

    #[test]
    fn unknown_status_lists_configured_aliases_too() {
        let words =
            StatusWords::from_settings(r#"{"status_aliases": {"løst": "solved", "åpen": "open"}}"#)
                .unwrap();
        let error = words.classify("Gelöst").unwrap_err();
        assert!(error.message.contains("løst"), "{}", error.message);
        assert!(error.message.contains("åpen"), "{}", error.message);
    }

    #[test]
    fn empty_status_is_rejected_with_the_list() {
        for word in ["", "   "] {
            let error = default_words().classify(word).unwrap_err();
            assert_eq!(error.code, "invalid-status");
            assert!(error.message.contains("missing or blank"), "{}", error.message);
            assert!(error.message.contains("solved"), "{}", error.message);
        }
    }

    #[test]
    fn invalid_on_hold_names_the_key() {
        let error = settings_error(r#"{"on_hold": "solved"}"#);
        assert_eq!(error.code, "invalid-settings");
        assert!(error.message.contains("on_hold"), "{}", error.message);
        assert!(error.message.contains("\"solved\""), "{}", error.message);
        assert_eq!(settings_error(r#"{"on_hold": true}"#).code, "invalid-settings");
    }

    #[test]
    fn invalid_aliases_name_the_key() {
        for settings in [
            r#"{"status_aliases": ["løst"]}"#,
            r#"{"status_aliases": {"løst": "done"}}"#,
            r#"{"status_aliases": {"løst": 3}}"#,
            r#"{"status_aliases": {" ": "open"}}"#,
        ] {
            let error = settings_error(settings);
            assert_eq!(error.code, "invalid-settings", "{settings}");
            assert!(error.message.contains("status_aliases"), "{settings}: {}", error.message);
        }
    }

    #[test]
    fn unknown_setting_names_the_key() {
        let error = settings_error(r#"{"status_alias": {}}"#);
        assert_eq!(error.code, "invalid-settings");
        assert!(error.message.contains("\"status_alias\""), "{}", error.message);
    }

    #[test]
    fn settings_that_are_not_a_json_object() {
        assert_eq!(settings_error("[]").code, "invalid-settings");
        assert_eq!(settings_error("{").code, "invalid-settings");
    }
}
