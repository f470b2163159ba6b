//! Bindings of the frozen `inbound:plugin@0.4.0` (`host/wit/v0.4.0`), served
//! by the newest host API: 0.4.0 is 0.5.0 without the `outbound` export, and its `types` interface is the same, so the types are
//! shared (`with:`) and each host function only forwards. Its `about`
//! answers are converted to the newest's, whose conversions into the host's
//! types live with the newest bindings.

use self::exports::inbound::plugin::about as wit;
use self::inbound::plugin::{incidents, log, state};
use super::latest::exports::inbound::plugin::about as latest_about;
use super::latest::inbound::plugin as latest;
use crate::plugin::CallState;
use crate::plugin::about::{PluginInfo, SettingsProblem};
use latest::types::{ApiError, Incident, IncidentId, Link, NewIncident};

wasmtime::component::bindgen!({
    path: "wit/v0.4.0",
    world: "plugin",
    imports: { default: trappable },
    // Only `types`: it declares no functions, so sharing it registers
    // nothing under the wrong version's name (see `wit::add_to_linker`).
    with: { "inbound:plugin/types@0.4.0": super::since_v0_5_0::inbound::plugin::types },
});

super::forward::forward_to_latest! {
    fn update(&mut self, id: IncidentId, changes: incidents::IncidentUpdate) -> Changed {
        let changes = latest::incidents::IncidentUpdate {
            summary: changes.summary,
            details: changes.details,
            priority: changes.priority,
        };
        latest::incidents::Host::update(self, id, changes)
    }
}
super::forward::about_to_latest!();
