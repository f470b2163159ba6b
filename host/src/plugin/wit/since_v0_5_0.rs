//! Bindings of `inbound:plugin@0.5.0` (`host/wit/v0.5.0`), the newest version.
//! `host_api.rs` implements its host interfaces directly.

wasmtime::component::bindgen!({
    path: "wit/v0.5.0",
    world: "plugin",
    imports: { default: trappable },
});

use crate::plugin::about::{
    MAX_DESCRIPTION_BYTES, MAX_NAME_BYTES, MAX_SETTINGS, PluginInfo, SettingKind, SettingSpec,
    SettingsProblem,
};
use crate::plugin::printable;
use exports::inbound::plugin::about as wit;

impl From<wit::PluginInfo> for PluginInfo {
    /// Everything a plugin says is cut to size and made printable: it ends
    /// up in terminals, logs and error messages.
    fn from(info: wit::PluginInfo) -> Self {
        PluginInfo {
            name: printable(&info.name, MAX_NAME_BYTES),
            version: printable(&info.version, MAX_NAME_BYTES),
            description: printable(&info.description, MAX_DESCRIPTION_BYTES),
            settings: info.settings.map(|settings| {
                settings.into_iter().take(MAX_SETTINGS).map(SettingSpec::from).collect()
            }),
        }
    }
}

impl From<wit::Setting> for SettingSpec {
    fn from(setting: wit::Setting) -> Self {
        SettingSpec {
            name: printable(&setting.name, MAX_NAME_BYTES),
            kind: setting.kind.into(),
            required: setting.required,
            description: printable(&setting.description, MAX_DESCRIPTION_BYTES),
        }
    }
}

impl From<wit::SettingKind> for SettingKind {
    fn from(kind: wit::SettingKind) -> Self {
        match kind {
            wit::SettingKind::Text => SettingKind::Text,
            wit::SettingKind::Integer => SettingKind::Integer,
            wit::SettingKind::Number => SettingKind::Number,
            wit::SettingKind::Boolean => SettingKind::Boolean,
            wit::SettingKind::TextList => SettingKind::TextList,
            wit::SettingKind::TextMap => SettingKind::TextMap,
            wit::SettingKind::Any => SettingKind::Any,
        }
    }
}

impl From<wit::SettingsProblem> for SettingsProblem {
    fn from(problem: wit::SettingsProblem) -> Self {
        SettingsProblem {
            setting: problem.setting.map(|name| printable(&name, MAX_NAME_BYTES)),
            message: printable(&problem.message, MAX_DESCRIPTION_BYTES),
        }
    }
}
