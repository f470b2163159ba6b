//! Bindings of the frozen `inbound:plugin@0.1.0` (`host/wit/v0.1.0`), adapted
//! to the newest host API: 0.1.0 is 0.2.0 without links, so an old plugin
//! creates incidents with no links and never sees any.

use self::inbound::plugin::{incidents, log, state, types};
use super::latest::inbound::plugin as latest;
use crate::plugin::CallState;

wasmtime::component::bindgen!({
    path: "wit/v0.1.0",
    world: "plugin",
    imports: { default: trappable },
});

type HostResult<T> = wasmtime::Result<T>;
type Changed = HostResult<Result<types::Incident, types::ApiError>>;

/// Converts an answer of the newest host API to this version's types.
fn changed(
    result: HostResult<Result<latest::types::Incident, latest::types::ApiError>>,
) -> Changed {
    Ok(result?.map(Into::into).map_err(Into::into))
}

impl types::Host for CallState {}

impl incidents::Host for CallState {
    fn find_open(&mut self, key: String) -> HostResult<Option<types::Incident>> {
        Ok(latest::incidents::Host::find_open(self, key)?.map(Into::into))
    }

    fn find_latest(&mut self, key: String) -> HostResult<Option<types::Incident>> {
        Ok(latest::incidents::Host::find_latest(self, key)?.map(Into::into))
    }

    fn get(&mut self, id: types::IncidentId) -> HostResult<Option<types::Incident>> {
        Ok(latest::incidents::Host::get(self, id)?.map(Into::into))
    }

    fn create(&mut self, new: types::NewIncident) -> Changed {
        changed(latest::incidents::Host::create(self, new.into()))
    }

    fn accept(&mut self, id: types::IncidentId, note: Option<String>) -> Changed {
        changed(latest::incidents::Host::accept(self, id, note))
    }

    fn resolve(&mut self, id: types::IncidentId, note: Option<String>) -> Changed {
        changed(latest::incidents::Host::resolve(self, id, note))
    }

    fn comment(&mut self, id: types::IncidentId, author: Option<String>, text: String) -> Changed {
        changed(latest::incidents::Host::comment(self, id, author, text))
    }
}

impl state::Host for CallState {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        latest::state::Host::get(self, key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), types::ApiError>> {
        Ok(latest::state::Host::set(self, key, value)?.map_err(Into::into))
    }

    fn delete(&mut self, key: String) -> HostResult<()> {
        latest::state::Host::delete(self, key)
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) -> HostResult<()> {
        latest::log::Host::log(self, level.into(), message)
    }
}

/// `From` between two generated enums whose cases have the same names.
macro_rules! same_cases {
    ($from:ty => $to:ty: $($case:ident),+) => {
        impl From<$from> for $to {
            fn from(value: $from) -> Self {
                match value {
                    $(<$from>::$case => <$to>::$case,)+
                }
            }
        }
    };
}

same_cases!(types::Priority => latest::types::Priority: Low, Normal, High, Urgent);
same_cases!(latest::types::Priority => types::Priority: Low, Normal, High, Urgent);
same_cases!(latest::types::IncidentStatus => types::IncidentStatus: Pending, Accepted, Resolved);
same_cases!(types::Action => latest::types::Action: Created, Accepted, Resolved, Commented, Unchanged);
same_cases!(log::Level => latest::log::Level: Trace, Debug, Info, Warn, Error);

impl From<latest::types::Incident> for types::Incident {
    fn from(incident: latest::types::Incident) -> Self {
        types::Incident {
            id: incident.id,
            key: incident.key,
            status: incident.status.into(),
            summary: incident.summary,
            details: incident.details,
            priority: incident.priority.map(Into::into),
            url: incident.url,
            created_at: incident.created_at,
            updated_at: incident.updated_at,
        }
    }
}

impl From<types::NewIncident> for latest::types::NewIncident {
    fn from(new: types::NewIncident) -> Self {
        latest::types::NewIncident {
            key: new.key,
            summary: new.summary,
            details: new.details,
            priority: new.priority.map(Into::into),
            url: new.url,
            links: Vec::new(),
        }
    }
}

impl From<latest::types::ApiError> for types::ApiError {
    fn from(error: latest::types::ApiError) -> Self {
        match error {
            latest::types::ApiError::NotFound(id) => types::ApiError::NotFound(id),
            latest::types::ApiError::Invalid(why) => types::ApiError::Invalid(why),
            latest::types::ApiError::LimitExceeded(what) => types::ApiError::LimitExceeded(what),
        }
    }
}

impl From<latest::types::Request> for types::Request {
    fn from(request: latest::types::Request) -> Self {
        types::Request {
            source: request.source,
            headers: request.headers,
            body: request.body,
            settings: request.settings,
        }
    }
}

impl From<types::Outcome> for latest::types::Outcome {
    fn from(outcome: types::Outcome) -> Self {
        latest::types::Outcome { action: outcome.action.into(), incident: outcome.incident }
    }
}

impl From<types::Rejection> for latest::types::Rejection {
    fn from(rejection: types::Rejection) -> Self {
        latest::types::Rejection { code: rejection.code, message: rejection.message }
    }
}
