//! The Rust SDK for inbound plugins.
//!
//! A plugin implements [`Plugin`] and registers it with [`register_plugin!`]:
//!
//! ```no_run
//! use inbound_sdk::{Plugin, Request, Outcome, Rejection};
//!
//! struct MyIntegration;
//!
//! impl Plugin for MyIntegration {
//!     fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
//!         let body = inbound_sdk::json::parse_lenient(&request.body)?;
//!         // ... call inbound_sdk::incidents::* ...
//!         Ok(vec![])
//!     }
//! }
//!
//! inbound_sdk::register_plugin!(MyIntegration);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the `.wasm`
//! file is the component the host loads.

// The generated bindings and the exported macros name this crate by its
// path; inside the crate itself that path must resolve too.
extern crate self as inbound_sdk;

pub mod json;
pub mod text;

/// Bindings generated from the WIT package the host implements
/// (`host/wit/plugin.wit`). Most plugins use the re-exports below instead.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../host/wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "inbound_sdk::bindings",
        runtime_path: "inbound_sdk::__private::wit_bindgen::rt",
    });
}

pub use bindings::inbound::plugin::types::{
    Action, ApiError, Incident, IncidentId, IncidentStatus, NewIncident, Outcome, Priority,
    Rejection, Request,
};

/// The host API for incidents of the source being served.
pub use bindings::inbound::plugin::incidents;
/// The host API for the source's private key-value state.
pub use bindings::inbound::plugin::state;

/// What an integration implements: one webhook request in, the incidents it
/// concerned out.
pub trait Plugin {
    /// Handles one request. Return `Err(Rejection)` for a request the sender
    /// got wrong (the host answers 400 and applies nothing).
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection>;
}

impl Rejection {
    /// A rejection with a machine-readable `code` and a human `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection { code: code.into(), message: message.into() }
    }
}

/// wit-bindgen already implements `Display` for `api-error` (as its `Debug`
/// form), so the readable text lives here.
fn describe_api_error(error: &ApiError) -> String {
    match error {
        ApiError::NotFound(id) => format!("incident {id} not found"),
        ApiError::Invalid(why) => format!("invalid call: {why}"),
        ApiError::LimitExceeded(what) => format!("limit exceeded: {what}"),
    }
}

/// A host API error inside `handle` is a bug or a limit, not the sender's
/// fault; turning it into a rejection still applies nothing and tells the
/// operator what happened.
impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Self {
        Rejection::new("host-api-error", describe_api_error(&error))
    }
}

/// Writes a message to the host's log, tagged with the source's name.
pub fn log(level: bindings::inbound::plugin::log::Level, message: &str) {
    bindings::inbound::plugin::log::log(level, message)
}

/// Log macros: `inbound_sdk::info!("ticket {} ignored", id)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log($crate::bindings::inbound::plugin::log::Level::Info, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log($crate::bindings::inbound::plugin::log::Level::Warn, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log($crate::bindings::inbound::plugin::log::Level::Debug, &format!($($arg)*)) };
}

/// Exports a [`Plugin`] implementation as the component's `handler`.
///
/// The export exists only in wasm builds: the export's symbol name
/// (`inbound:plugin/handler@0.1.0#handle`) is not one a native linker accepts,
/// and a plugin crate is also built natively (as an rlib and cdylib) for its
/// unit tests.
#[macro_export]
macro_rules! register_plugin {
    ($plugin:ty) => {
        #[cfg(target_family = "wasm")]
        const _: () = {
            struct __InboundHandler;
            impl $crate::bindings::exports::inbound::plugin::handler::Guest for __InboundHandler {
                fn handle(
                    request: $crate::Request,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::Outcome>, $crate::Rejection> {
                    <$plugin as $crate::Plugin>::handle(request)
                }
            }
            $crate::bindings::__export_plugin!(__InboundHandler with_types_in $crate::bindings);
        };
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
