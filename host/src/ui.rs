//! The web console: server-rendered pages under `/ui/` for the people who
//! answer incidents (docs/ui.md).
//!
//! It is a second face of the same host, a peer of the JSON API
//! ([`crate::http`]) and not its client: neither imports the other, and
//! `server::router` composes both under the layers they share. Pages
//! read through the store's bounded reads, and actions go through the same
//! paths as the API ([`crate::respond`] for accept and resolve, the ingest
//! path for replay), so the console cannot disagree with the API about any
//! incident rule. People sign in as themselves (a password, or OpenID
//! Connect), machines' owners with an API token; the session is kept in the
//! database and checked against the live config on every request
//! (docs/people.md). Each route needs a role ([`routes`]), checked by
//! [`access`] before its handler runs.
//!
//! - [`session`]: sign-in sessions and the cookie that names one.
//! - [`access`]: the role check in front of every signed-in route.
//! - [`error`]: what went wrong, as a status and a sentence; [`render`] turns
//!   it, and every page, into HTML.
//! - [`csrf`]: the token every form POST carries, and the origin check.
//! - [`security`]: the response headers of every console answer.
//! - [`pages`]: one module per page.
//! - [`live`]: the server-sent events that keep the incident list current.
//! - [`view`]: shared helpers turning stored values into safe display text.

mod access;
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
use crate::roles::{Access, Role};
use axum::Router;
use axum::http::Method;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{MethodRouter, get, post};
use std::sync::Arc;

pub use error::UiError;

/// What console handlers share.
pub struct Console {
    pub app: Arc<AppState>,
}

/// Every console route: method, path, who may use it, handler. Like the
/// API's table ([`crate::http::routes`]), the one place its access rules
/// are written; a test tries each route with each role.
pub fn routes() -> Vec<(Method, &'static str, Access, MethodRouter<Arc<Console>>)> {
    use Access::Open;
    use Role::*;
    const fn needs(role: Role) -> Access {
        Access::Needs(role)
    }
    vec![
        (Method::GET, "/ui/", needs(Viewer), get(pages::incidents::list)),
        (Method::GET, "/ui/incidents/{id}", needs(Viewer), get(pages::incident::show)),
        (
            Method::POST,
            "/ui/incidents/{id}/accept",
            needs(Responder),
            post(pages::incident::accept),
        ),
        (
            Method::POST,
            "/ui/incidents/{id}/resolve",
            needs(Responder),
            post(pages::incident::resolve),
        ),
        (Method::POST, "/ui/incidents/{id}/notes", needs(Responder), post(pages::incident::note)),
        (Method::GET, "/ui/failed", needs(Responder), get(pages::failed::list)),
        (Method::GET, "/ui/failed/{id}", needs(Responder), get(pages::failed::show)),
        (Method::POST, "/ui/failed/{id}/replay", needs(Responder), post(pages::failed::replay)),
        (Method::GET, "/ui/mine", needs(Viewer), get(pages::mine::list)),
        (Method::POST, "/ui/mine/test", needs(Viewer), post(pages::mine::test)),
        (Method::GET, "/ui/oncall", needs(Viewer), get(pages::oncall::show)),
        (Method::POST, "/ui/oncall/{schedule}/take", needs(Responder), post(pages::oncall::take)),
        (
            Method::POST,
            "/ui/oncall/{schedule}/shifts/{id}/cancel",
            needs(Responder),
            post(pages::oncall::cancel),
        ),
        (Method::GET, "/ui/maintenance", needs(Viewer), get(pages::quiet::show)),
        (Method::POST, "/ui/maintenance", needs(Responder), post(pages::quiet::start)),
        (Method::POST, "/ui/maintenance/{name}/end", needs(Responder), post(pages::quiet::end)),
        (Method::POST, "/ui/calendar-key", needs(Viewer), post(pages::oncall::new_calendar_key)),
        (Method::GET, "/ui/sources", needs(Admin), get(pages::sources::list)),
        (Method::GET, "/ui/audit", needs(Admin), get(pages::audit::list)),
        (Method::GET, "/ui/live", needs(Viewer), get(live::events)),
        (Method::GET, "/ui/sign-in", Open, get(pages::sign_in::form)),
        (Method::POST, "/ui/sign-in", Open, post(pages::sign_in::submit)),
        (Method::GET, "/ui/sign-in/oidc", Open, get(pages::oidc::start)),
        (Method::GET, "/ui/sign-in/oidc/callback", Open, get(pages::oidc::callback)),
        (Method::POST, "/ui/sign-out", needs(Viewer), post(pages::sign_in::sign_out)),
        (Method::GET, "/ui/assets/{name}", Open, get(assets::serve)),
    ]
}

/// The console's routes, to be merged into the host's router beside the
/// API's. They are not in the API's route list: that list is what
/// `openapi.json` describes. While `[ui] enabled = false`, the host's router
/// answers these paths like unknown ones.
pub fn router(app: Arc<AppState>) -> Router {
    let console = Arc::new(Console { app });
    let mut pages = Router::new();
    for (_, path, access, handler) in routes() {
        let handler = match access {
            Access::Open => handler,
            Access::Needs(role) => handler.route_layer(middleware::from_fn_with_state(
                (console.clone(), role),
                access::require,
            )),
        };
        pages = pages.route(path, handler);
    }
    let pages = pages
        .route("/ui/{*unknown}", get(error::not_found_page))
        .layer(middleware::from_fn(security::headers))
        .with_state(console.clone());
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .with_state(console)
        .merge(pages)
}
