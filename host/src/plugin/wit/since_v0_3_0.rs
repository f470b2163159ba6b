//! Bindings of the frozen `inbound:plugin@0.3.0` (`host/wit/v0.3.0`), served
//! by the newest host API: 0.3.0 is 0.4.0 without `incidents.update`, and its
//! `types` interface is the same, so the types are shared (`with:`) and each
//! host function only forwards. Its `about` answers are converted to 0.4.0's,
//! whose conversions into the host's types live with the newest bindings.

use self::exports::inbound::plugin::about as wit;
use self::inbound::plugin::{incidents, log, state};
use super::latest::exports::inbound::plugin::about as latest_about;
use super::latest::inbound::plugin as latest;
use crate::plugin::CallState;
use crate::plugin::about::{PluginInfo, SettingsProblem};
use latest::types::{ApiError, Incident, IncidentId, Link, NewIncident};

wasmtime::component::bindgen!({
    path: "wit/v0.3.0",
    world: "plugin",
    imports: { default: trappable },
    // Only `types`: it declares no functions, so sharing it registers
    // nothing under the wrong version's name (see `wit::add_to_linker`).
    with: { "inbound:plugin/types@0.3.0": super::since_v0_4_0::inbound::plugin::types },
});

super::forward::forward_to_latest!();

impl From<wit::PluginInfo> for PluginInfo {
    fn from(info: wit::PluginInfo) -> Self {
        latest_about::PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            settings: info.settings.map(|settings| settings.into_iter().map(setting).collect()),
        }
        .into()
    }
}

fn setting(setting: wit::Setting) -> latest_about::Setting {
    use latest_about::SettingKind as Latest;
    latest_about::Setting {
        name: setting.name,
        kind: match setting.kind {
            wit::SettingKind::Text => Latest::Text,
            wit::SettingKind::Integer => Latest::Integer,
            wit::SettingKind::Number => Latest::Number,
            wit::SettingKind::Boolean => Latest::Boolean,
            wit::SettingKind::TextList => Latest::TextList,
            wit::SettingKind::TextMap => Latest::TextMap,
            wit::SettingKind::Any => Latest::Any,
        },
        required: setting.required,
        description: setting.description,
    }
}

impl From<wit::SettingsProblem> for SettingsProblem {
    fn from(problem: wit::SettingsProblem) -> Self {
        latest_about::SettingsProblem { setting: problem.setting, message: problem.message }.into()
    }
}
