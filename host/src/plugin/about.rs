//! What a plugin says about itself (`inbound:plugin/about`, since 0.3.0):
//! its name, version and the settings it accepts, and the host's check of a
//! source's settings against them.
//!
//! The host checks names, kinds and required settings itself, so every
//! plugin refuses a misspelt key the same way; the plugin's
//! `validate-settings` judges the values after that. What a plugin returns
//! here is lifted under the call's hostcall fuel (its memory limit, see
//! `PluginHost::new_store`), then cut to the sizes below (by the
//! conversions beside its bindings, `wit/since_v0_4_0.rs`).

use serde::Serialize;
use serde_json::{Map, Value};

/// Longest name, version or setting name taken from a plugin, in bytes.
pub(super) const MAX_NAME_BYTES: usize = 128;
/// Longest description taken from a plugin, in bytes.
pub(super) const MAX_DESCRIPTION_BYTES: usize = 2048;
/// Most settings a plugin may declare; more are dropped (a source using
/// one of those is refused as if it were unknown).
pub(super) const MAX_SETTINGS: usize = 256;
/// Most problems taken from one `validate-settings` answer.
const MAX_PROBLEMS: usize = 32;

/// Who a plugin is and what settings it accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    /// `None`: the plugin does not list its settings; any key passes the
    /// host's check and only `validate-settings` judges them.
    pub settings: Option<Vec<SettingSpec>>,
}

/// One setting a plugin accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingSpec {
    pub name: String,
    pub kind: SettingKind,
    pub required: bool,
    pub description: String,
}

/// The type a setting's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingKind {
    Text,
    Integer,
    Number,
    Boolean,
    TextList,
    TextMap,
    Any,
}

impl SettingKind {
    /// As `config.toml` would say it, for messages and `plugin check`.
    pub fn describe(self) -> &'static str {
        match self {
            SettingKind::Text => "a string",
            SettingKind::Integer => "a whole number",
            SettingKind::Number => "a number",
            SettingKind::Boolean => "true or false",
            SettingKind::TextList => "a list of strings",
            SettingKind::TextMap => "a table of strings",
            SettingKind::Any => "any value",
        }
    }

    fn fits(self, value: &Value) -> bool {
        match self {
            SettingKind::Text => value.is_string(),
            SettingKind::Integer => value.is_i64() || value.is_u64(),
            SettingKind::Number => value.is_number(),
            SettingKind::Boolean => value.is_boolean(),
            SettingKind::TextList => {
                value.as_array().is_some_and(|items| items.iter().all(Value::is_string))
            }
            SettingKind::TextMap => {
                value.as_object().is_some_and(|table| table.values().all(Value::is_string))
            }
            SettingKind::Any => true,
        }
    }
}

/// One thing wrong with a source's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingsProblem {
    /// The key at fault, when it is one.
    pub setting: Option<String>,
    pub message: String,
}

impl std::fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.setting {
            Some(setting) => write!(f, "{setting}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The host's half of judging `settings` (a JSON object): every key must be
/// declared, of its kind, and every required one present. Empty when the
/// plugin does not declare its settings.
pub fn check_declared(info: &PluginInfo, settings: &Map<String, Value>) -> Vec<SettingsProblem> {
    let Some(declared) = &info.settings else { return Vec::new() };
    let mut problems = Vec::new();
    for (key, value) in settings {
        match declared.iter().find(|spec| spec.name == *key) {
            Some(spec) if !spec.kind.fits(value) => problems.push(SettingsProblem {
                setting: Some(key.clone()),
                message: format!("must be {}, not {}", spec.kind.describe(), json_kind(value)),
            }),
            Some(_) => {}
            None => problems.push(SettingsProblem {
                setting: Some(key.clone()),
                message: format!("no such setting; this plugin takes {}", accepted(declared)),
            }),
        }
    }
    for spec in declared.iter().filter(|spec| spec.required) {
        if !settings.contains_key(&spec.name) {
            problems.push(SettingsProblem {
                setting: Some(spec.name.clone()),
                message: format!(
                    "missing; this plugin requires it ({}): {}",
                    spec.kind.describe(),
                    spec.description
                ),
            });
        }
    }
    problems
}

fn accepted(declared: &[SettingSpec]) -> String {
    if declared.is_empty() {
        return "none: remove the source's settings table".to_string();
    }
    declared.iter().map(|spec| spec.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "true or false",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a whole number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// A plugin's problems, cut to a readable number.
pub fn bounded(mut problems: Vec<SettingsProblem>) -> Vec<SettingsProblem> {
    if problems.len() > MAX_PROBLEMS {
        let cut = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(SettingsProblem { setting: None, message: format!("... {cut} more") });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(settings: Option<Vec<SettingSpec>>) -> PluginInfo {
        PluginInfo {
            name: "zendesk".into(),
            version: "1.0.0".into(),
            description: String::new(),
            settings,
        }
    }

    fn spec(name: &str, kind: SettingKind, required: bool) -> SettingSpec {
        SettingSpec { name: name.into(), kind, required, description: "what it does".into() }
    }

    fn check(info: &PluginInfo, settings: Value) -> Vec<SettingsProblem> {
        check_declared(info, settings.as_object().unwrap())
    }

    #[test]
    fn declared_settings_of_their_kind_pass() {
        let info = info(Some(vec![
            spec("on_hold", SettingKind::Text, false),
            spec("status_aliases", SettingKind::TextMap, false),
            spec("limit", SettingKind::Integer, true),
        ]));
        let settings = json!({"on_hold": "open", "status_aliases": {"løst": "solved"}, "limit": 3});
        assert_eq!(check(&info, settings), []);
    }

    #[test]
    fn an_unknown_key_names_the_known_ones() {
        let info = info(Some(vec![spec("on_hold", SettingKind::Text, false)]));
        let problems = check(&info, json!({"onhold": "open"}));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].setting.as_deref(), Some("onhold"));
        assert_eq!(problems[0].to_string(), "onhold: no such setting; this plugin takes on_hold");
    }

    #[test]
    fn a_plugin_without_settings_refuses_any() {
        let problems = check(&info(Some(vec![])), json!({"x": 1}));
        assert!(problems[0].message.contains("takes none"), "{}", problems[0]);
    }

    #[test]
    fn wrong_kinds_and_missing_required_settings_are_named() {
        let info = info(Some(vec![
            spec("limit", SettingKind::Integer, true),
            spec("names", SettingKind::TextList, false),
            spec("token", SettingKind::Text, true),
        ]));
        let problems = check(&info, json!({"limit": 2.5, "names": ["a", 1]}));
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "limit: must be a whole number, not a decimal number",
                "names: must be a list of strings, not a list",
                "token: missing; this plugin requires it (a string): what it does",
            ]
        );
    }

    #[test]
    fn an_undeclaring_plugin_leaves_every_key_to_itself() {
        assert_eq!(check(&info(None), json!({"anything": [1, 2]})), []);
    }

    #[test]
    fn many_problems_are_cut() {
        let many = (0..100)
            .map(|i| SettingsProblem { setting: None, message: i.to_string() })
            .collect::<Vec<_>>();
        let cut = bounded(many);
        assert_eq!(cut.len(), MAX_PROBLEMS + 1);
        assert_eq!(cut.last().unwrap().message, "... 68 more");
    }
}
