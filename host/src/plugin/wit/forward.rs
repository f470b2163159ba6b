//! The host functions 0.2.0 and 0.3.0 import, forwarded to the newest
//! host API: those versions' `incidents`, `state` and `log` are 0.4.0's
//! minus `incidents.update`, over the same shared `types`, so each function
//! only calls the newest. Expanded inside each version's bindings module,
//! whose `inbound::plugin` names are that version's.

/// Implements that version's `incidents`, `state` and `log` hosts on
/// `CallState` by calling the newest ones.
macro_rules! forward_to_latest {
    () => {
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
    };
}

pub(super) use forward_to_latest;
