//! Headers on every HTML answer the host gives: the console's pages and
//! error pages, and the one-click link pages (`/ack/<token>`). One layer
//! over the whole router, so a page added anywhere gets them too.
//!
//! The policy allows scripts and styles from the host's own assets only (no
//! inline script, so an injected `<script>` would not run even if escaping
//! failed) and no framing (no click-jacking of an accept button). No
//! referrer leaves a page unless the page set its own policy: a link page's
//! URL holds its token. (The console sets `same-origin`: `no-referrer` would
//! also blank the `Origin` of its form posts, which its CSRF check reads.)

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

pub async fn for_html(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !is_html(headers) {
        return response;
    }
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("no-referrer"));
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_recognised_whatever_its_parameters_and_case() {
        let with = |value: &'static str| {
            HeaderMap::from_iter([(header::CONTENT_TYPE, HeaderValue::from_static(value))])
        };
        assert!(is_html(&with("text/html; charset=utf-8")));
        assert!(is_html(&with("Text/HTML")));
        assert!(!is_html(&with("application/json")));
        assert!(!is_html(&with("text/html-sandboxed")));
        assert!(!is_html(&HeaderMap::new()));
    }
}
