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

pub use convert::{action_from_wit, to_wit};

use super::CallState;
use super::wit::latest::inbound::plugin::types;

type HostResult<T> = wasmtime::Result<T>;

/// A storage failure during a call: the call traps and nothing is applied.
/// Kept typed inside the trap, so a database that is away (PostgreSQL
/// restarting) is answered 503 like any unavailable storage, not recorded
/// as the plugin's failure.
#[derive(Debug, thiserror::Error)]
#[error("storage read failed: {0}")]
pub struct StorageFailed(pub crate::store::Error);

fn storage_trap(error: crate::store::Error) -> wasmtime::Error {
    wasmtime::Error::new(StorageFailed(error))
}

impl types::Host for CallState {}
