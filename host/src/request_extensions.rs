//! What the shared layers (`server::layers`) and the handlers of the API
//! and the console tell each other through a request's or an answer's
//! extensions. Plain data, beneath both, so neither face imports the other
//! nor the layers.

use std::net::{IpAddr, SocketAddr};

/// Who sent the request, as far as the host can tell: the peer, or the
/// forwarded address behind `server.trusted_proxies` (see
/// [`crate::app::TrustedProxies`]). Set on the request once, for the request
/// log and the per-client limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    pub client: IpAddr,
    /// The connection's peer: a proxy when it differs from `client`.
    pub peer: SocketAddr,
}

/// The request's id, set on the request by the request log for handlers
/// that log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What a refusal was: set on its answer by the API's error type, read by
/// the request log.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// The source a webhook was for, set on its answer once it is known, so the
/// request log can name it.
#[derive(Debug, Clone)]
pub struct ForSource(pub String);
