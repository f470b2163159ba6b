//! The `outbound` export (plugin API 0.5.0): asking a source's plugin what
//! to send back to its sender about a change, and checking its answer
//! before anything leaves the host.

use super::wit::latest::exports::inbound::plugin::outbound as wit;
use super::{CallError, printable};
use crate::store::{ChangeKind, SenderChange};

/// Most requests one change may send.
pub const MAX_REQUESTS: usize = 8;
/// Longest path (with its query), in bytes.
pub const MAX_PATH_BYTES: usize = 2048;
/// Largest request body.
pub const MAX_BODY_BYTES: usize = 64 << 10;
/// Most headers one request may carry.
pub const MAX_HEADERS: usize = 32;
/// Most of a 2xx answer `remember-as` keeps in the source's state.
pub const MAX_REMEMBERED_BYTES: usize = 16 << 10;
/// Headers the host sets on every request to a sender; a plugin naming one
/// is refused (the credentials are the host's and never the plugin's).
pub const HOST_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "idempotency-key",
    "user-agent",
    "cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "proxy-authorization",
];

/// One request a plugin wants sent to its sender, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SenderRequest {
    pub method: &'static str,
    /// Starts with one `/`: on the source's configured origin.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub remember_as: Option<String>,
}

/// The change as the plugin sees it; `marker` is the outbox entry's
/// idempotency key.
pub fn change_to_wit(change: &SenderChange, marker: String) -> wit::Change {
    wit::Change {
        kind: match change.kind {
            ChangeKind::Accepted => wit::ChangeKind::Accepted,
            ChangeKind::Resolved => wit::ChangeKind::Resolved,
            ChangeKind::Noted => wit::ChangeKind::Noted,
            ChangeKind::EscalationExhausted => wit::ChangeKind::EscalationExhausted,
            ChangeKind::HeldForMaintenance => wit::ChangeKind::HeldForMaintenance,
        },
        by: change.by.clone(),
        text: change.text.clone(),
        at: change.at,
        marker,
    }
}

/// The plugin's requests, each checked, or why the answer is refused (the
/// whole answer: sending half of what a plugin meant is worse than none).
pub fn checked(
    requests: Vec<wit::OutboundRequest>,
    max_key_bytes: usize,
) -> Result<Vec<SenderRequest>, CallError> {
    if requests.len() > MAX_REQUESTS {
        return Err(invalid(format!(
            "it returned {} requests; the limit is {MAX_REQUESTS}",
            requests.len()
        )));
    }
    requests
        .into_iter()
        .enumerate()
        .map(|(index, request)| {
            check(request, max_key_bytes)
                .map_err(|why| invalid(format!("request {}: {why}", index + 1)))
        })
        .collect()
}

fn invalid(why: String) -> CallError {
    CallError::InvalidResult(printable(&why, 512))
}

fn check(request: wit::OutboundRequest, max_key_bytes: usize) -> Result<SenderRequest, String> {
    let path = request.path;
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("its path is {} bytes; the limit is {MAX_PATH_BYTES}", path.len()));
    }
    let shown = printable(&path, 80);
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(format!(
            "its path {shown:?} must start with a single `/`: requests go only to the source's [sources.outbound] url"
        ));
    }
    if path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\' || c == '#') {
        return Err(format!("its path {shown:?} has spaces, control characters, `\\` or `#`"));
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(format!(
            "its body is {} bytes; the limit is {MAX_BODY_BYTES}",
            request.body.len()
        ));
    }
    if request.headers.len() > MAX_HEADERS {
        return Err(format!(
            "it has {} headers; the limit is {MAX_HEADERS}",
            request.headers.len()
        ));
    }
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if HOST_HEADERS.contains(&lower.as_str()) {
            return Err(format!(
                "it sets the header {:?}, which only the host sets",
                printable(name, 64)
            ));
        }
        if reqwest::header::HeaderName::from_bytes(lower.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(value).is_err()
        {
            return Err(format!("the header {:?} is not a valid header", printable(name, 64)));
        }
    }
    if let Some(key) = &request.remember_as
        && (key.is_empty() || key.len() > max_key_bytes || key.contains('\0'))
    {
        return Err(format!("its remember-as key must be 1 to {max_key_bytes} bytes without NUL"));
    }
    let method = match request.method {
        wit::Method::Get => "GET",
        wit::Method::Post => "POST",
        wit::Method::Put => "PUT",
        wit::Method::Patch => "PATCH",
        wit::Method::Delete => "DELETE",
    };
    Ok(SenderRequest {
        method,
        path,
        headers: request.headers,
        body: request.body,
        remember_as: request.remember_as,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str) -> wit::OutboundRequest {
        wit::OutboundRequest {
            method: wit::Method::Put,
            path: path.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
            remember_as: None,
        }
    }

    #[test]
    fn a_path_on_the_origin_passes() {
        let sent = checked(vec![request("/api/v2/tickets/7.json?x=1")], 256).unwrap();
        assert_eq!(sent[0].method, "PUT");
        assert_eq!(sent[0].path, "/api/v2/tickets/7.json?x=1");
    }

    #[test]
    fn anything_that_could_leave_the_origin_is_refused() {
        for path in ["https://evil.example/x", "//evil.example/x", "x", "", "/a b", "/a\\b", "/a#b"]
        {
            let error = checked(vec![request(path)], 256).unwrap_err();
            assert!(matches!(error, CallError::InvalidResult(_)), "{path}: {error}");
        }
    }

    #[test]
    fn credentials_and_host_headers_are_the_hosts() {
        for name in ["Authorization", "host", "Idempotency-Key", "cookie"] {
            let mut bad = request("/x");
            bad.headers.push((name.into(), "v".into()));
            let error = checked(vec![bad], 256).unwrap_err().to_string();
            assert!(error.contains("only the host sets"), "{error}");
        }
    }

    #[test]
    fn counts_and_sizes_are_bounded() {
        let many = (0..=MAX_REQUESTS).map(|_| request("/x")).collect();
        assert!(checked(many, 256).unwrap_err().to_string().contains("the limit is 8"));
        let mut big = request("/x");
        big.body = vec![b'a'; MAX_BODY_BYTES + 1];
        assert!(checked(vec![big], 256).unwrap_err().to_string().contains("body"));
        let mut key = request("/x");
        key.remember_as = Some("k".repeat(257));
        assert!(checked(vec![key], 256).unwrap_err().to_string().contains("remember-as"));
    }
}
