//! The web console: server-rendered pages under `/ui/` for the people who
//! answer incidents (docs/ui.md).
//!
//! It is a second face of the same host, a peer of the JSON API
//! ([`crate::http`]) and not its client: neither imports the other, and
//! `server::router` composes both under the layers they share. Pages
//! read through the store's bounded reads, and actions go through the same
//! paths as the API ([`crate::respond`] for accept and resolve, the ingest
//! path for replay), so the console cannot disagree with the API about any
//! incident rule. Sign-in takes an API token from `[[api.tokens]]` and keeps
//! it in a server-side session, checked against the live tokens on every
//! request: removing a token and reloading signs its sessions out.
//!
//! - [`session`]: sign-in sessions and the cookie that names one.
//! - [`error`]: what went wrong, as a status and a sentence; [`render`] turns
//!   it, and every page, into HTML.
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
mod render;
mod security;
mod session;
mod view;

use crate::app::AppState;
use axum::Router;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};
use std::sync::Arc;

pub use error::UiError;

/// What console handlers share: the host's state and the sign-in sessions.
pub struct Console {
    pub app: Arc<AppState>,
    pub sessions: session::Sessions,
}

/// The console's routes, to be merged into the host's router beside the
/// API's. They are not in the API's route list: that list is what
/// `openapi.json` describes. While `[ui] enabled = false`, the host's router
/// answers these paths like unknown ones.
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
        .with_state(console.clone());
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .with_state(console)
        .merge(pages)
}
