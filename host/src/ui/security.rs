//! Headers on every console answer, on top of those every HTML answer gets
//! ([`crate::http::page_headers`]: the Content-Security-Policy, no framing,
//! no sniffing). The referrer goes to the console itself only: a link out of
//! an incident must not carry the console's URLs to a sender's site, and
//! `no-referrer` would also blank the `Origin` of the console's own form
//! posts, which [`super::csrf`] checks.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // Assets and the live stream too, not only pages.
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages show incident data: keep them out of shared and back-button caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
