//! Headers on every console answer. The policy allows scripts and styles from
//! the console's own assets only (no inline script, so an injected `<script>`
//! would not run even if escaping failed), no framing, and no referrer to
//! other sites: a link out of an incident must not carry the console's URLs
//! to a sender's site. (`no-referrer` would also blank the `Origin` of the
//! console's own form posts, which [`super::csrf`] checks.)

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        // Pages show incident data: keep them out of shared and back-button caches.
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
