//! The Rust SDK for inbound plugins.
//!
//! A plugin implements [`Plugin`] and registers it with [`register_plugin!`]:
//!
//! ```no_run
//! use inbound_sdk::{Action, NewIncident, Outcome, Plugin, Rejection, Request, incidents, json};
//!
//! struct MyIntegration;
//!
//! impl Plugin for MyIntegration {
//!     fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
//!         let body = json::parse_lenient(&request.body)?;
//!         let key = json::str_field(&body, "", "id")?;
//!         let (action, incident) = incidents::open_or_create(NewIncident::new(key, "Something broke"))?;
//!         inbound_sdk::info!("{key}: {action}");
//!         Ok(vec![Outcome::new(action, &incident)])
//!     }
//! }
//!
//! inbound_sdk::register_plugin!(MyIntegration);
//! ```
//!
//! A plugin says which settings a source of it accepts by overriding
//! [`Plugin::settings`] (see [`about`]); the host then refuses a source
//! with a misspelt or mistyped setting when it starts, not at the first
//! webhook.
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the `.wasm`
//! file is the component the host loads. The SDK builds against the newest
//! plugin API (see `README.md` for which hosts load it).
//!
//! - [`about`]: the settings a plugin accepts, and its judgement of them.
//! - [`incidents`], [`state`]: the host API, plus helpers for common patterns.
//! - [`outbound`]: what to send back to the sender when a person acts.
//! - [`json`]: lenient parsing, and field readers whose errors name the
//!   field; serde_json's `Value` and `Map`, re-exported.
//! - [`error`]: rejections (the sender's 400) and host API errors.
//! - [`log`]: `trace!` .. `error!` into the host's log.
//! - [`text`]: character-safe truncation.

// The generated bindings and the exported macros name this crate by its
// path; inside the crate itself that path must resolve too.
extern crate self as inbound_sdk;

pub mod about;
pub mod error;
pub mod incidents;
pub mod json;
pub mod log;
pub mod outbound;
pub mod panic;
pub mod state;
pub mod text;
pub mod web_url;

/// Bindings generated from the WIT package the host implements
/// (`wit/plugin.wit` in this crate, `inbound:plugin@0.5.0`). Most plugins
/// use the re-exports below instead.
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "inbound_sdk::bindings",
        runtime_path: "inbound_sdk::__private::wit_bindgen::rt",
    });
}

pub use bindings::inbound::plugin::types::{
    Action, ApiError, Incident, IncidentId, IncidentStatus, Link, NewIncident, Outcome, Priority,
    Rejection, Request,
};

/// The `inbound:plugin` version this SDK builds against.
pub const API_VERSION: &str = "0.5.0";

/// What an integration implements: one webhook request in, the incidents it
/// concerned out.
pub trait Plugin {
    /// Handles one request. Return `Err(Rejection)` for a request the sender
    /// got wrong (the host answers 400 and applies nothing). A panic fails
    /// the call (5xx, nothing applied, the event kept for replay) and its
    /// message reaches the operator.
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection>;

    /// Every setting a source of this plugin may have. The host refuses a
    /// source with a key not listed, a value of another kind, or a required
    /// one missing. The default, `None`, says nothing: the host passes any
    /// settings on. Return `Some(vec![])` for a plugin that takes none.
    fn settings() -> Option<Vec<about::Setting>> {
        None
    }

    /// Judges a source's settings (a JSON object, `{}` when none) after the
    /// host checked them against [`Plugin::settings`]: values out of range,
    /// words the plugin does not know. Called when the host starts or
    /// reloads, outside any request: the host API is not available here.
    /// The default accepts.
    fn validate_settings(settings: &str) -> Result<(), Vec<about::SettingsProblem>> {
        let _ = settings;
        Ok(())
    }

    /// What to send the sender's API after `change` (a person's accept,
    /// resolve or note; escalation exhausted; a maintenance window) to
    /// `incident` (as it is now). Put `change.marker` into whatever the
    /// sender will send back, so [`Plugin::handle`] can recognise the echo
    /// ([`outbound::carries_marker`]). Called only for sources with a
    /// `[sources.outbound]` table; the host API only reads here. The
    /// default sends nothing.
    fn on_change(
        change: &outbound::Change,
        incident: &Incident,
        settings: &str,
    ) -> Result<Vec<outbound::OutboundRequest>, String> {
        let _ = (change, incident, settings);
        Ok(Vec::new())
    }
}

impl Action {
    /// The action as the host's answers and logs name it: `created`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Accepted => "accepted",
            Action::Resolved => "resolved",
            Action::Commented => "commented",
            Action::Unchanged => "unchanged",
        }
    }
}

/// `created`, not `Action::Created`: log lines read as the host's answers do.
impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Request {
    /// The value of the first header called `name`, in any case. `headers`
    /// holds `(name, value)` pairs, names in lower case, in the order
    /// received; a header sent twice is there twice.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Exports a [`Plugin`] implementation as the component's `handler`, with
/// the SDK's panic hook installed; its `about`: the name (the crate's,
/// without `inbound-`), version and description from the plugin's
/// `Cargo.toml`, and [`Plugin::settings`]; and its `outbound`
/// ([`Plugin::on_change`]).
///
/// The export exists only in wasm builds: the export's symbol name
/// (`inbound:plugin/handler@0.5.0#handle`) is not one a native linker accepts,
/// and a plugin crate is also built natively (as an rlib) for its unit tests.
// rustfmt cannot parse `with_types_in` and would misplace a brace.
#[rustfmt::skip]
#[macro_export]
macro_rules! register_plugin {
    ($plugin:ty) => {
        #[cfg(target_family = "wasm")]
        const _: () = {
            struct __InboundHandler;
            type __Answer =
                ::std::result::Result<::std::vec::Vec<$crate::Outcome>, $crate::Rejection>;
            impl $crate::bindings::exports::inbound::plugin::handler::Guest for __InboundHandler {
                fn handle(request: $crate::Request) -> __Answer {
                    $crate::panic::install_hook();
                    <$plugin as $crate::Plugin>::handle(request)
                }
            }
            impl $crate::bindings::exports::inbound::plugin::about::Guest for __InboundHandler {
                fn describe() -> $crate::about::PluginInfo {
                    $crate::panic::install_hook();
                    $crate::about::PluginInfo {
                        name: $crate::about::default_name(env!("CARGO_PKG_NAME")),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        description: env!("CARGO_PKG_DESCRIPTION").to_string(),
                        settings: <$plugin as $crate::Plugin>::settings(),
                    }
                }
                fn validate_settings(
                    settings: ::std::string::String,
                ) -> ::std::result::Result<(), ::std::vec::Vec<$crate::about::SettingsProblem>> {
                    $crate::panic::install_hook();
                    <$plugin as $crate::Plugin>::validate_settings(&settings)
                }
            }
            impl $crate::bindings::exports::inbound::plugin::outbound::Guest for __InboundHandler {
                fn on_change(
                    change: $crate::outbound::Change,
                    incident: $crate::Incident,
                    settings: ::std::string::String,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::outbound::OutboundRequest>,
                    ::std::string::String,
                > {
                    $crate::panic::install_hook();
                    <$plugin as $crate::Plugin>::on_change(&change, &incident, &settings)
                }
            }
            $crate::bindings::__export_plugin!(__InboundHandler with_types_in $crate::bindings);
        };
        // Natively nothing calls the plugin; naming its entry point keeps
        // the type from being reported as dead code in unit-test builds.
        #[cfg(not(target_family = "wasm"))]
        const _: () = {
            type __Answer =
                ::std::result::Result<::std::vec::Vec<$crate::Outcome>, $crate::Rejection>;
            const _: fn($crate::Request) -> __Answer = <$plugin as $crate::Plugin>::handle;
            const _: fn() -> ::std::option::Option<::std::vec::Vec<$crate::about::Setting>> =
                <$plugin as $crate::Plugin>::settings;
        };
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
