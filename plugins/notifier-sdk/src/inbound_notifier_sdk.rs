//! The Rust SDK for inbound notifier plugins.
//!
//! A notifier renders one notification into messages (HTTP requests to the
//! channel's destination, or emails); the host delivers them. Implement
//! [`Notifier`] and register it with [`register_notifier!`]:
//!
//! ```no_run
//! use inbound_notifier_sdk::{Channel, Message, Notification, Notifier, RenderError};
//!
//! struct Hello;
//!
//! impl Notifier for Hello {
//!     fn render(notification: Notification, _channel: Channel) -> Result<Vec<Message>, RenderError> {
//!         let text = format!("incident {}: {}", notification.incident.id, notification.incident.summary);
//!         Ok(vec![Message::post_json("", &serde_json::json!({ "text": text }))])
//!     }
//! }
//!
//! inbound_notifier_sdk::register_notifier!(Hello);
//! ```
//!
//! It is a separate crate from `inbound-sdk` because a component carries the
//! type of exactly one world: an integration exports `handler`, a notifier
//! `renderer`, and a crate linking both would have to export both.

extern crate self as inbound_notifier_sdk;

/// Bindings generated from `wit/notifier.wit` in this crate (`inbound:notifier@0.1.0`).
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "notifier",
        pub_export_macro: true,
        export_macro_name: "__export_notifier",
        default_bindings_module: "inbound_notifier_sdk::bindings",
        runtime_path: "inbound_notifier_sdk::__private::wit_bindgen::rt",
    });
}

pub use bindings::inbound::notifier::types::{
    Channel, Email, HttpRequest, Incident, Kind, Message, Notification, Recipient, RenderError,
};

/// The `inbound:notifier` version this SDK builds against.
pub const API_VERSION: &str = "0.1.0";

/// What a notifier implements: one notification in, messages out.
pub trait Notifier {
    /// Renders `notification` for `channel`. An `Err` fails the notification
    /// without retry (the message is shown to the operator); a panic fails
    /// it too, with the panic message.
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError>;
}

impl RenderError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        RenderError { code: code.into(), message: message.into() }
    }

    /// `invalid-settings`: the channel's settings in config.toml are wrong.
    pub fn invalid_settings(why: impl std::fmt::Display) -> Self {
        RenderError::new(
            "invalid-settings",
            format!("the channel's settings in config.toml are invalid: {why}"),
        )
    }
}

impl Channel {
    /// The channel's settings, deserialized; unknown or mistyped keys become
    /// an `invalid-settings` error naming them.
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, RenderError> {
        serde_json::from_str(&self.settings).map_err(RenderError::invalid_settings)
    }
}

impl Message {
    /// A `POST` of `body` as JSON to `url` (empty: the channel's URL).
    pub fn post_json(url: &str, body: &serde_json::Value) -> Message {
        Message::Http(HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
    }

    /// Adds a header to an HTTP message (no-op for an email).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Message {
        if let Message::Http(request) = &mut self {
            request.headers.push((name.to_ascii_lowercase(), value.into()));
        }
        self
    }
}

impl Kind {
    /// `triggered` or `resolved`, as written in JSON bodies.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Triggered => "triggered",
            Kind::Resolved => "resolved",
        }
    }
}

/// Exports a [`Notifier`] as the component's `renderer`.
// rustfmt cannot parse `with_types_in` and would misplace a brace.
#[rustfmt::skip]
#[macro_export]
macro_rules! register_notifier {
    ($notifier:ty) => {
        #[cfg(target_family = "wasm")]
        const _: () = {
            struct __InboundRenderer;
            type __Answer = ::std::result::Result<
                ::std::vec::Vec<$crate::Message>,
                $crate::RenderError,
            >;
            impl $crate::bindings::exports::inbound::notifier::renderer::Guest for __InboundRenderer {
                fn render(notification: $crate::Notification, channel: $crate::Channel) -> __Answer {
                    <$notifier as $crate::Notifier>::render(notification, channel)
                }
            }
            $crate::bindings::__export_notifier!(__InboundRenderer with_types_in $crate::bindings);
        };
        #[cfg(not(target_family = "wasm"))]
        const _: () = {
            type __Answer = ::std::result::Result<
                ::std::vec::Vec<$crate::Message>,
                $crate::RenderError,
            >;
            const _: fn($crate::Notification, $crate::Channel) -> __Answer =
                <$notifier as $crate::Notifier>::render;
        };
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
