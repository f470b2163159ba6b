//! Acting back on the sender (plugin API 0.5.0): what a plugin sends when a
//! person or the host changes one of its incidents. Override
//! [`Plugin::on_change`](crate::Plugin::on_change) and return requests
//! built here; the host adds the credentials and sends them to the origin
//! the operator configured (`[sources.outbound] url`).
//!
//! ```no_run
//! use inbound_sdk::outbound::{Change, ChangeKind, OutboundRequest};
//! use inbound_sdk::Incident;
//!
//! fn on_change(change: &Change, incident: &Incident) -> Vec<OutboundRequest> {
//!     match change.kind {
//!         ChangeKind::Accepted => vec![OutboundRequest::put_json(
//!             &format!("/api/tickets/{}", incident.key),
//!             &serde_json::json!({ "note": format!("Accepted by {} [{}]", change.by, change.marker) }),
//!         )],
//!         _ => Vec::new(),
//!     }
//! }
//! ```

pub use crate::bindings::exports::inbound::plugin::outbound::{
    Change, ChangeKind, Method, OutboundRequest,
};

impl OutboundRequest {
    /// A request with no body and no headers.
    pub fn new(method: Method, path: &str) -> Self {
        OutboundRequest {
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            remember_as: None,
        }
    }

    /// A request carrying `body` as JSON (`content-type: application/json`).
    pub fn json(method: Method, path: &str, body: &serde_json::Value) -> Self {
        let mut request = Self::new(method, path);
        request.headers.push(("content-type".into(), "application/json".into()));
        request.body = serde_json::to_vec(body).unwrap_or_default();
        request
    }

    pub fn post_json(path: &str, body: &serde_json::Value) -> Self {
        Self::json(Method::Post, path, body)
    }

    pub fn put_json(path: &str, body: &serde_json::Value) -> Self {
        Self::json(Method::Put, path, body)
    }

    pub fn delete(path: &str) -> Self {
        Self::new(Method::Delete, path)
    }

    /// Keep a 2xx answer's body in the source's state under `key`.
    pub fn remember_as(mut self, key: &str) -> Self {
        self.remember_as = Some(key.to_string());
        self
    }
}

impl ChangeKind {
    /// As the host's logs name it: `accepted`, `escalation-exhausted`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Accepted => "accepted",
            ChangeKind::Resolved => "resolved",
            ChangeKind::Noted => "noted",
            ChangeKind::EscalationExhausted => "escalation-exhausted",
            ChangeKind::HeldForMaintenance => "held-for-maintenance",
        }
    }
}

/// Whether `text` carries a marker the host gave an `on-change` call
/// (`inbound-<incident>-<n>`): the sender is echoing what this plugin sent,
/// and `handle` should change nothing for it.
pub fn carries_marker(text: &str) -> bool {
    text.match_indices("inbound-").any(|(at, _)| {
        let rest = &text[at + "inbound-".len()..];
        let mut parts = rest.splitn(3, '-');
        let digits = |part: Option<&str>| {
            part.map(|p| p.chars().take_while(char::is_ascii_digit).count()).unwrap_or(0)
        };
        let first = parts.next();
        let incident_digits = digits(first);
        incident_digits > 0
            && first.is_some_and(|p| p.len() == incident_digits)
            && digits(parts.next()) > 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_recognised_inside_text() {
        assert!(carries_marker("Accepted in inbound by ada [inbound-42-17]"));
        assert!(carries_marker("inbound-1-2"));
        assert!(!carries_marker("inbound-42 was mentioned"));
        assert!(!carries_marker("inbound-x-1"));
        assert!(!carries_marker("a note from a person"));
    }

    #[test]
    fn json_requests_say_their_content_type() {
        let request = OutboundRequest::put_json("/x", &serde_json::json!({"a": 1}));
        assert_eq!(request.headers, [("content-type".to_string(), "application/json".to_string())]);
        assert_eq!(request.body, br#"{"a":1}"#);
        assert!(request.remember_as.is_none());
        assert_eq!(
            OutboundRequest::delete("/y").remember_as("k").remember_as.as_deref(),
            Some("k")
        );
    }
}
