//! The web console: server-rendered pages under `/ui/` for the people who
//! answer incidents (docs/ui.md).
//!
//! It is a second face of the same host, not a client of the JSON API: pages
//! read through the store's bounded reads, and actions go through the same
//! paths as the API ([`crate::respond`] for accept and resolve, the ingest
//! path for replay), so the console cannot disagree with the API about any
//! incident rule. Sign-in takes an API token from `[[api.tokens]]` and keeps
//! it in a server-side session, checked against the live tokens on every
//! request: removing a token and reloading signs its sessions out.
//!
//! - [`session`]: sign-in sessions and the cookie that names one.
//! - [`csrf`]: the token every form POST carries, and the origin check.
//! - [`security`]: the response headers of every console answer.
//! - [`pages`]: one module per page.
//! - [`live`]: the server-sent events that keep the incident list current.
//! - [`view`]: shared helpers turning stored values into safe display text.

mod assets;
mod csrf;
mod error;
mod live;
mod pages;
mod security;
mod session;
mod view;

use crate::app::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

pub use error::UiError;

/// What console handlers share: the host's state and the sign-in sessions.
pub struct Console {
    pub app: Arc<AppState>,
    pub sessions: session::Sessions,
}

/// The console's routes, to be merged into the host's router. They are not
/// part of [`crate::http::routes`]: that list is the JSON API that
/// `openapi.json` describes.
pub fn router(app: Arc<AppState>) -> Router {
    let console = Arc::new(Console { app, sessions: session::Sessions::default() });
    let pages = Router::new()
        .route("/ui/", get(pages::incidents::list))
        .route("/ui/incidents/{id}", get(pages::incident::show))
        .route("/ui/incidents/{id}/accept", post(pages::incident::accept))
        .route("/ui/incidents/{id}/resolve", post(pages::incident::resolve))
        .route("/ui/failed", get(pages::failed::list))
        .route("/ui/failed/{id}", get(pages::failed::show))
        .route("/ui/failed/{id}/replay", post(pages::failed::replay))
        .route("/ui/sources", get(pages::sources::list))
        .route("/ui/live", get(live::events))
        .route("/ui/sign-in", get(pages::sign_in::form).post(pages::sign_in::submit))
        .route("/ui/sign-out", post(pages::sign_in::sign_out))
        .route("/ui/assets/{name}", get(assets::serve))
        .route("/ui/{*unknown}", get(error::not_found_page))
        .layer(middleware::from_fn(security::headers))
        .route_layer(middleware::from_fn_with_state(console.clone(), only_when_enabled))
        .with_state(console.clone());
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route_layer(middleware::from_fn_with_state(console.clone(), only_when_enabled))
        .with_state(console)
        .merge(pages)
}

/// `[ui] enabled = false` turns the console off, also on reload: its paths
/// then answer like any unknown route.
async fn only_when_enabled(
    State(console): State<Arc<Console>>,
    request: Request,
    next: Next,
) -> Response {
    if console.app.live.load().config.ui.enabled {
        next.run(request).await
    } else {
        crate::http::ApiError::not_found(
            "no-route",
            "the web console is turned off ([ui] enabled = false)",
        )
        .into_response()
    }
}
