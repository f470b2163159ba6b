//! The mistake every first plugin makes once: a complete `Plugin`, never
//! registered. It builds (only dead-code warnings), and the component
//! exports nothing the host can call.

use inbound_sdk::{Outcome, Plugin, Rejection, Request};

// The warning this crate is about; silenced so the workspace's lint passes.
#[allow(dead_code)]
struct Forgotten;

impl Plugin for Forgotten {
    fn handle(_request: Request) -> Result<Vec<Outcome>, Rejection> {
        Ok(Vec::new())
    }
}

// No `inbound_sdk::register_plugin!(Forgotten);` here, on purpose.
