//! The host functions older versions import, forwarded to the newest host
//! API: those versions' `incidents`, `state` and `log` are the newest's
//! (0.2.0 and 0.3.0 without `incidents.update`), over the same shared
//! `types`, so each function only calls the newest; and their `about`
//! answers, converted to the newest's. Expanded inside each version's
//! bindings module, whose `inbound::plugin` names are that version's.

/// Implements that version's `incidents`, `state` and `log` hosts on
/// `CallState` by calling the newest ones; `$extra` are the `incidents`
/// functions the version has beyond 0.2.0's.
macro_rules! forward_to_latest {
    ($($extra:item)*) => {
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

            $($extra)*
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
    };
}

/// Converts that version's `about` answers (0.3.0 on) to the newest's, whose
/// conversions into the host's types live with the newest bindings.
macro_rules! about_to_latest {
    () => {
        impl From<wit::PluginInfo> for PluginInfo {
            fn from(info: wit::PluginInfo) -> Self {
                latest_about::PluginInfo {
                    name: info.name,
                    version: info.version,
                    description: info.description,
                    settings: info
                        .settings
                        .map(|settings| settings.into_iter().map(setting).collect()),
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
                latest_about::SettingsProblem { setting: problem.setting, message: problem.message }
                    .into()
            }
        }
    };
}

pub(super) use {about_to_latest, forward_to_latest};
