//! The bearer-token check in front of every `Access::Token` route. Every
//! refusal is the same 401, whether the token is missing, wrong, or no token
//! is configured at all; a client over `api.failed_auth_per_minute` gets 429
//! without its token being compared ([`crate::app::Live::authenticate`]).

use super::ApiError;
use crate::app::{AppState, Refused};
use crate::request_extensions::ClientAddress;
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
    let client = request.extensions().get::<ClientAddress>().map(|address| address.client);
    let authenticated = app.live.load().authenticate(client, presented);
    match authenticated {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(Refused::Blocked(refused)) => {
            if refused.first {
                tracing::warn!(client = %refused.client, "too many wrong API tokens from this client; refusing its tokens unchecked for a while (api.failed_auth_per_minute)");
            }
            ApiError::from(refused).into_response()
        }
        Err(Refused::Missing | Refused::Wrong) => unauthorized(),
    }
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
