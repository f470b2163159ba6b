//! The host API a plugin imports (`incidents`, `state`, `log`), implemented
//! over the call's [`Session`](crate::store::Session) for the newest API
//! version; older versions adapt to it (`wit/since_*.rs`).
//!
//! Storage failures trap the call (nothing is applied); misuse and limits
//! come back to the plugin as `api-error`.

mod checks;
mod convert;
mod incidents;
mod log;
mod state;

pub use convert::action_from_wit;

use super::CallState;
use super::wit::latest::inbound::plugin::types;

type HostResult<T> = wasmtime::Result<T>;

/// A storage failure during a call: the call traps and nothing is applied.
fn storage_trap(error: crate::store::Error) -> wasmtime::Error {
    wasmtime::Error::msg(format!("storage read failed: {error}"))
}

impl types::Host for CallState {}
