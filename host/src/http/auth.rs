//! The bearer-token and role check in front of every `Access::Needs` route.
//! Every refusal of the token is the same 401, whether it is missing, wrong,
//! or no token is configured at all; a client over
//! `api.failed_auth_per_minute` gets 429 without its token being compared
//! ([`crate::app::Live::authenticate`]). A right token whose role is below
//! the route's gets 403 with a code naming the role it lacks, and the
//! refusal goes to the audit trail.

use super::ApiError;
use crate::app::{AppState, Caller, Refused, audit};
use crate::request_extensions::ClientAddress;
use crate::roles::Role;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn require_role(
    State((app, needed)): State<(Arc<AppState>, Role)>,
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
        Ok(caller) if caller.role.allows(needed) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(caller) => {
            // The route's template, not the path asked for: bounded, and
            // what the route table names.
            let template = request.extensions().get::<axum::extract::MatchedPath>();
            let template = template.map(|matched| matched.as_str().to_string());
            let route = format!("{} {}", request.method(), template.unwrap_or_default());
            app.audit(audit::Entry::refused(&caller, client, needed, &route));
            forbidden(&caller, needed).into_response()
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

/// `403`: the caller is known, but its role is below the route's.
pub fn forbidden(caller: &Caller, needed: Role) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        needed.refusal_code(),
        format!(
            "this route needs the {needed} role; {} has {} (docs/people.md)",
            caller.principal(),
            caller.role
        ),
    )
}
