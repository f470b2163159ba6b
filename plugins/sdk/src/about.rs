//! What a plugin says about itself (`inbound:plugin/about`): the settings a
//! source of it accepts, and its judgement of a source's settings. The host
//! asks when it starts or reloads, so a bad setting stops the start with the
//! file and line instead of turning every webhook into a 400.
//!
//! ```
//! use inbound_sdk::about::{Setting, SettingKind, SettingsProblem};
//!
//! let settings = vec![
//!     Setting::new("region", SettingKind::Text, "The sender's region, e.g. `eu`.").required(),
//!     Setting::new("labels", SettingKind::TextList, "Labels copied into the details."),
//! ];
//! let problem = SettingsProblem::of("region", "expected eu or us");
//! assert_eq!(problem.setting.as_deref(), Some("region"));
//! # let _ = settings;
//! ```

pub use crate::bindings::exports::inbound::plugin::about::{
    PluginInfo, Setting, SettingKind, SettingsProblem,
};

impl Setting {
    /// An optional setting; `description` is one sentence for the operator:
    /// what it changes, and the default.
    pub fn new(name: &str, kind: SettingKind, description: &str) -> Setting {
        Setting {
            name: name.to_string(),
            kind,
            required: false,
            description: description.to_string(),
        }
    }

    /// A source without this setting is refused.
    pub fn required(mut self) -> Setting {
        self.required = true;
        self
    }
}

impl SettingsProblem {
    /// Something wrong with one setting.
    pub fn of(setting: &str, message: impl Into<String>) -> SettingsProblem {
        SettingsProblem { setting: Some(setting.to_string()), message: message.into() }
    }

    /// Something wrong with the settings as a whole (two that contradict).
    pub fn general(message: impl Into<String>) -> SettingsProblem {
        SettingsProblem { setting: None, message: message.into() }
    }
}

/// `zendesk` for the crate `inbound-zendesk`: the name a plugin gives when
/// it does not choose one.
#[doc(hidden)]
pub fn default_name(crate_name: &str) -> String {
    crate_name.strip_prefix("inbound-").unwrap_or(crate_name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_drops_the_family_prefix() {
        assert_eq!(default_name("inbound-zendesk"), "zendesk");
        assert_eq!(default_name("my-alerts"), "my-alerts");
    }

    #[test]
    fn settings_are_optional_until_required() {
        let setting = Setting::new("region", SettingKind::Text, "where");
        assert!(!setting.required);
        assert!(setting.required().required);
    }
}
