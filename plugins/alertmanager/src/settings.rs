//! The source's settings: `incident_per`, what one incident stands for;
//! `silence_on_accept` and `silence_hours`, the silence an accept in
//! inbound creates (`crate::outbound`).

use inbound_sdk::Rejection;
use serde_json::Value;

pub const INCIDENT_PER: &str = "incident_per";
pub const SILENCE_ON_ACCEPT: &str = "silence_on_accept";
pub const SILENCE_HOURS: &str = "silence_hours";

/// Every setting, as listed in the message for an unknown one.
const KNOWN: [&str; 3] = [INCIDENT_PER, SILENCE_ON_ACCEPT, SILENCE_HOURS];

/// How long a silence lasts: a day unless the source says otherwise, at
/// most a week.
pub const DEFAULT_SILENCE_HOURS: u32 = 24;
pub const MAX_SILENCE_HOURS: u32 = 168;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentPer {
    /// One incident per alert, keyed by its fingerprint.
    #[default]
    Alert,
    /// One incident per Alertmanager group, keyed by its `groupKey`.
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub incident_per: IncidentPer,
    /// Whether an accept in inbound silences the incident's alerts.
    pub silence_on_accept: bool,
    /// How long that silence lasts, 1 to [`MAX_SILENCE_HOURS`].
    pub silence_hours: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            incident_per: IncidentPer::default(),
            silence_on_accept: true,
            silence_hours: DEFAULT_SILENCE_HOURS,
        }
    }
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
pub fn read(settings: &str) -> Result<Settings, Refused> {
    let settings = settings.trim();
    let mut read = Settings::default();
    if settings.is_empty() {
        return Ok(read);
    }
    let general = |message: String| Refused { setting: None, message };
    let Ok(Value::Object(table)) = serde_json::from_str::<Value>(settings) else {
        return Err(general("the settings are not a table of keys".into()));
    };
    if let Some(other) = table.keys().find(|key| !KNOWN.contains(&key.as_str())) {
        let known: Vec<String> = KNOWN.iter().map(|key| format!("\"{key}\"")).collect();
        return Err(general(format!(
            "unknown setting \"{other}\"; the Alertmanager plugin takes {}",
            known.join(", ")
        )));
    }
    let refused = |setting, message: String| Refused { setting: Some(setting), message };
    match table.get(INCIDENT_PER) {
        None => {}
        Some(Value::String(word)) if word == "alert" => read.incident_per = IncidentPer::Alert,
        Some(Value::String(word)) if word == "group" => read.incident_per = IncidentPer::Group,
        Some(other) => {
            return Err(refused(
                INCIDENT_PER,
                format!(
                    "is {other}; expected \"alert\" (the default: one incident per alert) or \"group\" (one per Alertmanager group)"
                ),
            ));
        }
    }
    if let Some(value) = table.get(SILENCE_ON_ACCEPT) {
        read.silence_on_accept = value.as_bool().ok_or_else(|| {
            refused(SILENCE_ON_ACCEPT, format!("is {value}; expected true (the default) or false"))
        })?;
    }
    if let Some(value) = table.get(SILENCE_HOURS) {
        read.silence_hours = value
            .as_u64()
            .filter(|hours| (1..=u64::from(MAX_SILENCE_HOURS)).contains(hours))
            .and_then(|hours| u32::try_from(hours).ok())
            .ok_or_else(|| {
                refused(
                    SILENCE_HOURS,
                    format!(
                        "is {value}; expected a whole number of hours from 1 to {MAX_SILENCE_HOURS} (a week), {DEFAULT_SILENCE_HOURS} by default"
                    ),
                )
            })?;
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident_per(settings: &str) -> Result<IncidentPer, Refused> {
        read(settings).map(|read| read.incident_per)
    }

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
        assert!(
            unknown.message.contains("\"incident_per\", \"silence_on_accept\", \"silence_hours\""),
            "{unknown:?}"
        );
    }

    #[test]
    fn a_silence_lasts_a_day_unless_set_to_between_an_hour_and_a_week() {
        assert_eq!(read("{}").unwrap(), Settings::default());
        assert_eq!(
            (Settings::default().silence_on_accept, Settings::default().silence_hours),
            (true, 24)
        );
        let set = read(r#"{"silence_on_accept": false, "silence_hours": 168}"#).unwrap();
        assert_eq!((set.silence_on_accept, set.silence_hours), (false, 168));
        assert_eq!(read(r#"{"silence_hours": 1}"#).unwrap().silence_hours, 1);
        for hours in ["0", "169", "-1", "1.5", "\"24\"", "4294967297"] {
            let refused = read(&format!(r#"{{"silence_hours": {hours}}}"#)).unwrap_err();
            assert_eq!(refused.setting, Some(SILENCE_HOURS), "{hours}");
            assert!(refused.message.contains("from 1 to 168"), "{hours}: {refused:?}");
        }
        let refused = read(r#"{"silence_on_accept": "yes"}"#).unwrap_err();
        assert_eq!(refused.setting, Some(SILENCE_ON_ACCEPT));
        assert!(refused.message.contains("expected true (the default) or false"), "{refused:?}");
    }
}
