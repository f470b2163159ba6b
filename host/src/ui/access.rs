//! The console's access check, in front of every `Access::Needs` route of
//! [`super::routes`]: the session's caller must have the route's role.
//! Signed out, a page sends the browser to sign in and come back; an
//! action or the live feed is refused with 401 (a redirect would lose the
//! form). A caller below the route's role gets 403, and the refusal goes
//! to the audit trail, as the API's does.

use super::session::{SignedIn, urlencode};
use super::{Console, UiError};
use crate::app::audit;
use crate::request_extensions::ClientAddress;
use crate::roles::Role;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

pub async fn require(
    State((console, needed)): State<(Arc<Console>, Role)>,
    mut request: Request,
    next: Next,
) -> Response {
    match SignedIn::find(&console, request.headers()).await {
        Some(signed_in) if signed_in.may(needed) => {
            request.extensions_mut().insert(signed_in);
            next.run(request).await
        }
        Some(signed_in) => {
            let client = request.extensions().get::<ClientAddress>().map(|a| a.client);
            // The route's template, not the path asked for: bounded, and
            // what the route table names.
            let template = request.extensions().get::<axum::extract::MatchedPath>();
            let template = template.map(|matched| matched.as_str().to_string());
            let route = format!("{} {}", request.method(), template.unwrap_or_default());
            console.app.audit(audit::Entry::refused(&signed_in.caller, client, needed, &route));
            forbidden(&signed_in, needed).into_response()
        }
        None if request.method() == Method::GET && request.uri().path() != "/ui/live" => {
            let back = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/ui/");
            Redirect::to(&format!("/ui/sign-in?next={}", urlencode(back))).into_response()
        }
        None => UiError::new(
            StatusCode::UNAUTHORIZED,
            "Signed out",
            "Your session has ended or was never opened. Sign in again, then repeat what you were doing.",
        )
        .into_response(),
    }
}

fn forbidden(signed_in: &SignedIn, needed: Role) -> UiError {
    UiError::new(
        StatusCode::FORBIDDEN,
        "Not allowed",
        format!(
            "This needs the {needed} role; you are signed in as {}, a {}. Ask an admin if you should have it.",
            signed_in.caller.name, signed_in.caller.role
        ),
    )
}
