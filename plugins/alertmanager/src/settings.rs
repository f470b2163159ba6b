//! The source's settings: `incident_per`, what one incident stands for.

use inbound_sdk::Rejection;
use serde_json::Value;

pub const INCIDENT_PER: &str = "incident_per";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentPer {
    /// One incident per alert, keyed by its fingerprint.
    #[default]
    Alert,
    /// One incident per Alertmanager group, keyed by its `groupKey`.
    Group,
}

/// A refused setting: which one (when it is one) and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub setting: Option<&'static str>,
    pub message: String,
}

impl From<Refused> for Rejection {
    fn from(refused: Refused) -> Rejection {
        let message = match refused.setting {
            Some(setting) => format!("\"{setting}\" {}", refused.message),
            None => refused.message,
        };
        Rejection::invalid_settings(message)
    }
}

/// Reads the settings (a JSON object, `{}` when none). The host has already
/// refused unknown keys and values of another kind when it started; they
/// are refused here too, for a host that could not ask.
pub fn incident_per(settings: &str) -> Result<IncidentPer, Refused> {
    let settings = settings.trim();
    if settings.is_empty() {
        return Ok(IncidentPer::default());
    }
    let general = |message: String| Refused { setting: None, message };
    let Ok(Value::Object(table)) = serde_json::from_str::<Value>(settings) else {
        return Err(general("the settings are not a table of keys".into()));
    };
    if let Some(other) = table.keys().find(|key| *key != INCIDENT_PER) {
        return Err(general(format!(
            "unknown setting \"{other}\"; the Alertmanager plugin takes \"{INCIDENT_PER}\""
        )));
    }
    match table.get(INCIDENT_PER) {
        None => Ok(IncidentPer::default()),
        Some(Value::String(word)) if word == "alert" => Ok(IncidentPer::Alert),
        Some(Value::String(word)) if word == "group" => Ok(IncidentPer::Group),
        Some(other) => Err(Refused {
            setting: Some(INCIDENT_PER),
            message: format!(
                "is {other}; expected \"alert\" (the default: one incident per alert) or \"group\" (one per Alertmanager group)"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_is_the_default() {
        assert_eq!(incident_per(""), Ok(IncidentPer::Alert));
        assert_eq!(incident_per("{}"), Ok(IncidentPer::Alert));
        assert_eq!(incident_per(r#"{"incident_per": "alert"}"#), Ok(IncidentPer::Alert));
        assert_eq!(incident_per(r#"{"incident_per": "group"}"#), Ok(IncidentPer::Group));
    }

    #[test]
    fn other_values_and_keys_are_refused_by_name() {
        let refused = incident_per(r#"{"incident_per": "Group"}"#).unwrap_err();
        assert_eq!(refused.setting, Some(INCIDENT_PER));
        assert!(refused.message.starts_with("is \"Group\"; expected \"alert\""), "{refused:?}");
        let rejection = Rejection::from(refused);
        assert_eq!(rejection.code, "invalid-settings");
        assert!(
            rejection.message.contains("\"incident_per\" is \"Group\""),
            "{}",
            rejection.message
        );
        assert!(incident_per(r#"{"incident_per": 1}"#).is_err());
        let unknown = incident_per(r#"{"incident": "group"}"#).unwrap_err();
        assert_eq!(unknown.setting, None);
        assert!(unknown.message.contains("unknown setting \"incident\""), "{unknown:?}");
    }
}
