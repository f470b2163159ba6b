//! The bearer-token check in front of every `Access::Token` route. Every
//! refusal is the same 401, whether the token is missing, wrong, or no token
//! is configured at all.

use super::ApiError;
use super::client::ClientAddress;
use crate::app::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn require_token(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim);
    let live = app.live.load();
    if let Some(caller) = presented.and_then(|token| live.tokens.find(token)) {
        request.extensions_mut().insert(caller);
        return next.run(request).await;
    }
    // A token was presented and is wrong: a guess, or a stale token.
    let client = request.extensions().get::<ClientAddress>().map(|address| address.client);
    if let (Some(guard), Some(client), Some(_)) = (&live.failed_auth, client, presented) {
        if let Err(refused) = guard.check(client) {
            return ApiError::from(refused).into_response();
        }
        if guard.failed(client) {
            tracing::warn!(client = %client, "too many wrong API tokens from this client; answering its wrong tokens 429 for a while (api.failed_auth_per_minute)");
        }
    }
    unauthorized()
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "this route needs a valid API token: send `Authorization: Bearer <token>` with a token from [[api.tokens]] (see docs/api.md)",
    )
    .into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
