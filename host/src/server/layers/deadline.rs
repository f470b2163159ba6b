//! `server.request_timeout_ms` over every request, the API's and the
//! console's.

use crate::app::AppState;
use crate::http::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Answers 503 when a request runs past `server.request_timeout_ms`. A
/// webhook cut off this way may still be committed; the sender's retry is
/// then a harmless duplicate.
pub async fn deadline(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    // A replay compiles a candidate and runs it over many events: it keeps
    // its own, longer bound.
    if crate::http::bounds_its_own_time(request.uri().path()) {
        return next.run(request).await;
    }
    let limit = app.live.load().request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request took longer than {} ms (server.request_timeout_ms); retry",
                limit.as_millis()
            ),
        )
        .retry_after(1)
        .into_response(),
    }
}
