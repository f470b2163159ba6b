//! The Rust SDK for inbound notifier plugins.
//!
//! A notifier renders one notification into messages (HTTP requests to the
//! channel's destination, or emails); the host delivers them. When a
//! contact's throttle held notifications, the host sends them later as one
//! [`Digest`]: [`Notifier::render_digest`] renders it, by default through
//! `render` with [`Digest::title`] as the summary and [`Digest::text`] as the
//! details, so a notifier that does nothing more still sends a readable
//! digest. Implement [`Notifier`] and register it with [`register_notifier!`]:
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

/// Bindings generated from `wit/notifier.wit` in this crate (`inbound:notifier@0.2.0`).
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
    Channel, Digest, Email, HttpRequest, Incident, Kind, Message, Notification, Recipient,
    RenderError,
};

/// The `inbound:notifier` version this SDK builds against.
pub const API_VERSION: &str = "0.2.0";

/// What a notifier implements: one notification in, messages out.
pub trait Notifier {
    /// Renders `notification` for `channel`. An `Err` fails the notification
    /// without retry (the message is shown to the operator); a panic fails
    /// it too, with the panic message.
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError>;

    /// Renders a digest of held notifications for `channel`. By default:
    /// `render` of [`Digest::as_notification`] (the title as its summary,
    /// the plain-text list as its details). Errors fail every notification
    /// in the digest, as `render`'s fail one.
    fn render_digest(digest: Digest, channel: Channel) -> Result<Vec<Message>, RenderError> {
        Self::render(digest.as_notification(), channel)
    }
}

impl Digest {
    /// "12 more incidents from support" (sources in order of appearance).
    pub fn title(&self) -> String {
        let mut sources: Vec<&str> = Vec::new();
        for notification in &self.notifications {
            let source = notification.incident.source.as_str();
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
        let from = match sources.as_slice() {
            [] => String::new(),
            [one] => format!(" from {one}"),
            [first, second] => format!(" from {first} and {second}"),
            [first, rest @ ..] => format!(" from {first} and {} other sources", rest.len()),
        };
        let resolved =
            self.notifications.iter().filter(|n| matches!(n.kind, Kind::Resolved)).count();
        let count = self.notifications.len();
        match resolved {
            0 => format!("{count} more incidents{from}"),
            all if all == count => format!("{count} incidents resolved{from}"),
            some => format!("{count} more incidents{from} ({some} resolved)"),
        }
    }

    /// ` (resolved)` after a resolved notice's line, nothing after a page's.
    pub fn resolved_mark(notification: &Notification) -> &'static str {
        match notification.kind {
            Kind::Resolved => " (resolved)",
            Kind::Triggered => "",
        }
    }

    /// The digest as plain text: the title, then each incident with its
    /// priority, its link and its one-click accept link.
    ///
    /// ```text
    /// 2 more incidents from support:
    ///
    /// - #42 Printer on fire (urgent)
    ///   Open:   https://example.zendesk.com/agent/tickets/42
    ///   Accept: https://inbound.example.com/ack/...
    /// - #43 Coffee machine empty
    /// ```
    pub fn text(&self) -> String {
        let mut text = format!("{}:\n", self.title());
        for notification in &self.notifications {
            text.push_str(&format!("\n{}", Digest::item(notification)));
        }
        text
    }

    /// One incident of [`Digest::text`]: a line, and its links indented.
    pub fn item(notification: &Notification) -> String {
        let incident = &notification.incident;
        let summary = incident.summary.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut item = format!("- #{} {summary}", incident.id);
        if let Some(priority) = &incident.priority {
            item.push_str(&format!(" ({priority})"));
        }
        item.push_str(Digest::resolved_mark(notification));
        item.push('\n');
        if let Some(url) = &incident.url {
            item.push_str(&format!("  Open:   {url}\n"));
        }
        if let Some(url) = &notification.accept_url {
            item.push_str(&format!("  Accept: {url}\n"));
        }
        item
    }

    /// The digest as one notification, for a notifier that renders nothing
    /// else: the first incident with the title as its summary and
    /// [`Digest::text`] as its details, the digest's id, and no links (one
    /// link cannot act on every incident; each is in the text).
    pub fn as_notification(&self) -> Notification {
        let first = self.notifications.first();
        let incident = Incident {
            summary: self.title(),
            details: self.text(),
            url: None,
            ..first.map(|n| n.incident.clone()).unwrap_or(Incident {
                id: 0,
                source: String::new(),
                status: "pending".into(),
                summary: String::new(),
                details: String::new(),
                priority: None,
                url: None,
                created_at: 0,
            })
        };
        Notification {
            id: self.id.clone(),
            kind: Kind::Triggered,
            incident,
            level: first.map_or(0, |n| n.level),
            recipient: self.recipient.clone(),
            accept_url: None,
            resolve_url: None,
            sent_at: self.sent_at,
        }
    }
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
                fn render_digest(digest: $crate::Digest, channel: $crate::Channel) -> __Answer {
                    <$notifier as $crate::Notifier>::render_digest(digest, channel)
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
            const _: fn($crate::Digest, $crate::Channel) -> __Answer =
                <$notifier as $crate::Notifier>::render_digest;
        };
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(id: u64, source: &str, accept: Option<&str>) -> Notification {
        Notification {
            id: format!("inbound-{id}-{id}"),
            kind: Kind::Triggered,
            incident: Incident {
                id,
                source: source.into(),
                status: "pending".into(),
                summary: format!("Printer {id}\non fire"),
                details: "long".into(),
                priority: (id == 42).then(|| "urgent".into()),
                url: Some(format!("https://example.com/t/{id}")),
                created_at: 0,
            },
            level: 0,
            recipient: Recipient { person: Some("ada".into()), address: Some("ada".into()) },
            accept_url: accept.map(str::to_string),
            resolve_url: None,
            sent_at: 1,
        }
    }

    fn digest(notifications: Vec<Notification>) -> Digest {
        Digest {
            id: "inbound-digest-1-2-2".into(),
            recipient: Recipient { person: Some("ada".into()), address: Some("ada".into()) },
            notifications,
            sent_at: 1,
        }
    }

    #[test]
    fn the_plain_text_digest_lists_every_incident_with_its_links() {
        let digest = digest(vec![
            notification(42, "support", Some("https://inbound.example.com/ack/a")),
            notification(43, "support", None),
        ]);
        assert_eq!(
            digest.text(),
            "2 more incidents from support:\n\n\
             - #42 Printer 42 on fire (urgent)\n  Open:   https://example.com/t/42\n  Accept: https://inbound.example.com/ack/a\n\n\
             - #43 Printer 43 on fire\n  Open:   https://example.com/t/43\n"
        );
        let one = digest.as_notification();
        assert_eq!(one.id, "inbound-digest-1-2-2");
        assert_eq!(one.incident.summary, "2 more incidents from support");
        assert_eq!(one.accept_url, None);
    }

    #[test]
    fn the_title_names_the_sources() {
        let three = digest(vec![
            notification(1, "support", None),
            notification(2, "alerts", None),
            notification(3, "billing", None),
        ]);
        assert_eq!(three.title(), "3 more incidents from support and 2 other sources");
        let two = digest(vec![notification(1, "support", None), notification(2, "alerts", None)]);
        assert_eq!(two.title(), "2 more incidents from support and alerts");
    }

    #[test]
    fn resolved_notices_are_counted_in_the_title_and_marked_in_the_list() {
        let resolved =
            |id| Notification { kind: Kind::Resolved, ..notification(id, "support", None) };
        let mixed = digest(vec![notification(1, "support", None), resolved(2)]);
        assert_eq!(mixed.title(), "2 more incidents from support (1 resolved)");
        assert!(mixed.text().contains("- #2 Printer 2 on fire (resolved)\n"), "{}", mixed.text());
        assert!(mixed.text().contains("- #1 Printer 1 on fire\n"), "{}", mixed.text());
        let all = digest(vec![resolved(1), resolved(2)]);
        assert_eq!(all.title(), "2 incidents resolved from support");
    }
}
