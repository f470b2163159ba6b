//! Diagnostics for the operator, in the host's log with the source's name:
//! `inbound_sdk::info!("ticket {} ignored", id)`. The host keeps at most
//! 16 KiB per call and drops the rest, so log decisions, not payloads.

pub use crate::bindings::inbound::plugin::log::Level;

/// Writes `message` to the host's log at `level`.
pub fn log(level: Level, message: &str) {
    crate::bindings::inbound::plugin::log::log(level, message)
}

#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Trace, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, &format!($($arg)*)) };
}
