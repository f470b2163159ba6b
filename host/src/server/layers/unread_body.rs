//! `Connection: close` on an answer given before the request's body was read.
//!
//! Most refusals (a client or source over its rate limit, an unknown key, a
//! full disk, a wrong token) answer without reading the body. The connection
//! cannot carry another request until that body is gone, so hyper closes it
//! after the answer; without saying so, a keep-alive client or a reverse
//! proxy that pools connections sends its next request into a closing socket
//! (a proxy turns that into a 502 for somebody else). Saying
//! `Connection: close` lets them open a fresh connection instead.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Middleware: marks the answer `Connection: close` when the request's body
/// was not read to its end.
pub async fn close_if_body_unread(request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let read_to_end = Arc::new(AtomicBool::new(false));
    let request = request
        .map(|body| Body::new(Watched { inner: body, read_to_end: Arc::clone(&read_to_end) }));
    let mut response = next.run(request).await;
    if !read_to_end.load(Ordering::Acquire) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that records when it has been read to its end.
struct Watched {
    inner: Body,
    read_to_end: Arc<AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read_to_end.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route("/refuse", post(|| async { "refused without reading" }))
            .route("/read", post(|body: Bytes| async move { format!("{} bytes", body.len()) }))
            .layer(axum::middleware::from_fn(close_if_body_unread))
    }

    async fn connection_header(path: &str, body: &'static str) -> Option<String> {
        let request =
            Request::post(path).header("content-length", body.len()).body(Body::from(body));
        let response = app().oneshot(request.unwrap()).await.unwrap();
        let value = response.headers().get(header::CONNECTION)?;
        Some(value.to_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn an_answer_before_the_body_is_read_closes_the_connection() {
        assert_eq!(connection_header("/refuse", "{\"id\": 1}").await.as_deref(), Some("close"));
    }

    #[tokio::test]
    async fn an_answer_after_the_body_is_read_keeps_it() {
        assert_eq!(connection_header("/read", "{\"id\": 1}").await, None);
    }

    #[tokio::test]
    async fn a_request_without_a_body_keeps_it() {
        assert_eq!(connection_header("/refuse", "").await, None);
    }
}
