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

type HostResult<T> = wasmtime::Result<T>;
type Changed = HostResult<Result<Incident, ApiError>>;

impl incidents::Host for CallState {
    fn find_open(&mut self, key: String) -> HostResult<Option<Incident>> {
        latest::incidents::Host::find_open(self, key)
    }

    fn find_latest(&mut self, key: String) -> HostResult<Option<Incident>> {
        latest::incidents::Host::find_latest(self, key)
    }

    fn get(&mut self, id: IncidentId) -> HostResult<Option<Incident>> {
        latest::incidents::Host::get(self, id)
    }

    fn create(&mut self, new: NewIncident) -> Changed {
        latest::incidents::Host::create(self, new)
    }

    fn accept(&mut self, id: IncidentId, note: Option<String>) -> Changed {
        latest::incidents::Host::accept(self, id, note)
    }

    fn resolve(&mut self, id: IncidentId, note: Option<String>) -> Changed {
        latest::incidents::Host::resolve(self, id, note)
    }

    fn comment(&mut self, id: IncidentId, author: Option<String>, text: String) -> Changed {
        latest::incidents::Host::comment(self, id, author, text)
    }

    fn add_link(&mut self, id: IncidentId, link: Link) -> Changed {
        latest::incidents::Host::add_link(self, id, link)
    }
}

impl state::Host for CallState {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        latest::state::Host::get(self, key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), ApiError>> {
        latest::state::Host::set(self, key, value)
    }

    fn delete(&mut self, key: String) -> HostResult<()> {
        latest::state::Host::delete(self, key)
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) -> HostResult<()> {
        let level = match level {
            log::Level::Trace => latest::log::Level::Trace,
            log::Level::Debug => latest::log::Level::Debug,
            log::Level::Info => latest::log::Level::Info,
            log::Level::Warn => latest::log::Level::Warn,
            log::Level::Error => latest::log::Level::Error,
        };
        latest::log::Host::log(self, level, message)
    }
}

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
