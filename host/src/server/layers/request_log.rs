//! Every answer carries an `x-request-id`, and every refused request (any
//! 4xx or 5xx) is logged once, so an operator whose sender shows failed
//! deliveries can find each one: request id, method, path with the key
//! redacted, status, code, message, source when known, client address.
//!
//! Refusals hyper answers itself, before a request exists (431, a malformed
//! head, a head that never arrives), are logged by the accept loop with
//! [`log_connection_refusal`].

use crate::app::{AppState, Live};
use crate::request_extensions::{ClientAddress, ForSource, Refusal, RequestId};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;

pub const REQUEST_ID: &str = "x-request-id";

/// Longest message logged; the rest is cut with a marker.
const MESSAGE_MAX_BYTES: usize = 1024;
const PATH_MAX_BYTES: usize = 256;
const WEBHOOKS: &str = "/api/v1/events/";

pub async fn log_refusals(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = request_id(request.headers());
    let method = request.method().clone();
    let path = redact(request.uri().path(), &app.live.load());
    let client = request.extensions().get::<ClientAddress>().copied();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let refusal = response.extensions().get::<Refusal>();
        let code = refusal.map_or("", |r| r.code.as_str());
        let reason = cut(refusal.map_or("", |r| r.message.as_str()), MESSAGE_MAX_BYTES);
        let source = response.extensions().get::<ForSource>().map(|s| s.0.as_str());
        // A direct client as its socket address; a forwarded one as its
        // address, with the proxy it came through.
        let (client, via) = match client {
            Some(c) if c.peer.ip().to_canonical() != c.client => {
                (Some(c.client.to_string()), Some(c.peer.to_string()))
            }
            Some(c) => (Some(c.peer.to_string()), None),
            None => (None, None),
        };
        macro_rules! refused {
            ($level:ident) => {
                tracing::$level!(
                    request_id = %id,
                    %method,
                    %path,
                    status = status.as_u16(),
                    code,
                    source,
                    client,
                    via,
                    reason = %reason,
                    "request refused"
                )
            };
        }
        // A 5xx is the host's or a plugin's trouble; a 4xx the sender's.
        if status.is_server_error() { refused!(warn) } else { refused!(info) }
    }
    response
}

/// A refusal hyper answered (or closed) before a request reached the router.
pub fn log_connection_refusal(
    status: StatusCode,
    code: &str,
    client: SocketAddr,
    error: &dyn std::fmt::Display,
) {
    tracing::info!(
        request_id = %new_request_id(),
        status = status.as_u16(),
        code,
        client = %client,
        reason = %error,
        "request refused"
    );
}

/// The caller's `x-request-id` when it is a plausible id (a proxy's, so both
/// logs match), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(new_request_id, str::to_string)
}

fn new_request_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The path without secrets: a webhook's key (everything after the
/// integration), an integration name no source uses (it may be a key sent
/// in the wrong place), and any segment that is a configured key.
fn redact(path: &str, live: &Live) -> String {
    let redacted = match path.strip_prefix(WEBHOOKS) {
        Some(rest) => {
            let (integration, key) = match rest.split_once('/') {
                Some((integration, key)) => (integration, Some(key)),
                None => (rest, None),
            };
            let known = |name: &str| live.config.sources.iter().any(|s| s.integration == name);
            let integration = if integration.is_empty() || known(integration) {
                integration
            } else {
                "<redacted>"
            };
            match key {
                Some("") => format!("{WEBHOOKS}{integration}/"),
                Some(_) => format!("{WEBHOOKS}{integration}/<key>"),
                None => format!("{WEBHOOKS}{integration}"),
            }
        }
        None => {
            let is_key =
                |segment: &str| live.config.sources.iter().any(|source| source.key() == segment);
            path.split('/')
                .map(|segment| if is_key(segment) { "<key>" } else { segment })
                .collect::<Vec<_>>()
                .join("/")
        }
    };
    cut(&redacted, PATH_MAX_BYTES)
}

/// At most `max` bytes of `text`, cut on a character boundary with a marker.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plausible_caller_id_is_kept_and_anything_else_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc-123_x.y"));
        assert_eq!(request_id(&headers), "abc-123_x.y");
        for odd in ["", "a b", "<script>", &"x".repeat(65)] {
            headers.insert(REQUEST_ID, HeaderValue::from_str(odd).unwrap());
            let id = request_id(&headers);
            assert_ne!(id, odd);
            assert_eq!(id.len(), 16);
        }
    }

    #[test]
    fn long_text_is_cut_with_a_marker_on_a_character_boundary() {
        assert_eq!(cut("short", 10), "short");
        let cut_text = cut(&"ø".repeat(10), 5);
        assert!(cut_text.starts_with("øø…"), "{cut_text}");
        assert!(cut_text.ends_with("(16 bytes cut)"), "{cut_text}");
    }
}
