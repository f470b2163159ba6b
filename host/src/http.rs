//! The JSON API: routes, the JSON error type and views of the model, over
//! the running application ([`crate::app`]). A peer of the web console
//! ([`crate::ui`]), not its host: `server::router` puts the two side by side
//! under the layers they share.
//!
//! [`routes`] is the one list of routes: the router is built from it, and a
//! test holds it equal to the OpenAPI document served at
//! `/api/v1/openapi.json`.

mod admin;
pub mod answers;
mod auth;
mod backup;
mod body;
mod calendar;
mod error;
mod events;
mod failed;
mod health;
mod heartbeats;
mod incidents;
mod maintenance;
mod metrics;
mod notifications;
mod oncall;
mod openapi;
mod params;
mod people;
mod replies;
mod sources;
mod views;

pub use sources::bounds_its_own_time;

pub use error::ApiError;

use crate::app::AppState;
use crate::ingest::{Delivered, DeliveryError};
pub use crate::roles::Access;
use crate::roles::Role;
use axum::Router;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodRouter, delete, get, post, put};
use std::sync::Arc;

/// Every route the host serves: method, path, who may call it, handler.
/// The one place the API's access rules are written (docs/people.md has
/// them as a table, held equal to this one and the console's by a test in
/// `server/router.rs`).
pub fn routes() -> Vec<(Method, &'static str, Access, MethodRouter<Arc<AppState>>)> {
    use Access::Open;
    use Role::*;
    const fn needs(role: Role) -> Access {
        Access::Needs(role)
    }
    vec![
        (Method::POST, "/api/v1/events/{integration}/{key}", Open, post(events::receive)),
        (Method::GET, "/api/v1/incidents", needs(Viewer), get(incidents::list)),
        (Method::GET, "/api/v1/incidents/{id}", needs(Viewer), get(incidents::show)),
        (Method::GET, "/api/v1/incidents/{id}/log", needs(Viewer), get(incidents::log)),
        (Method::POST, "/api/v1/incidents/{id}/accept", needs(Responder), post(incidents::accept)),
        (
            Method::POST,
            "/api/v1/incidents/{id}/resolve",
            needs(Responder),
            post(incidents::resolve),
        ),
        (Method::POST, "/api/v1/incidents/{id}/notes", needs(Responder), post(incidents::note)),
        (Method::GET, "/api/v1/failed", needs(Responder), get(failed::list)),
        (Method::GET, "/api/v1/failed/{id}", needs(Responder), get(failed::show)),
        (Method::POST, "/api/v1/failed/{id}/replay", needs(Responder), post(failed::replay)),
        (Method::GET, "/api/v1/notifications", needs(Viewer), get(notifications::list)),
        (Method::GET, "/api/v1/notifications/{id}", needs(Viewer), get(notifications::show)),
        (
            Method::POST,
            "/api/v1/notifications/{id}/retry",
            needs(Responder),
            post(notifications::retry),
        ),
        (Method::GET, "/api/v1/maintenance", needs(Viewer), get(maintenance::list)),
        (Method::POST, "/api/v1/maintenance", needs(Responder), post(maintenance::start)),
        (Method::DELETE, "/api/v1/maintenance/{name}", needs(Responder), delete(maintenance::end)),
        (Method::GET, "/api/v1/heartbeats", needs(Viewer), get(heartbeats::list)),
        (Method::POST, "/api/v1/heartbeats/{key}", Open, post(heartbeats::ping)),
        (Method::POST, "/api/v1/channels/{name}/inbound", Open, post(replies::receive)),
        (Method::GET, "/api/v1/oncall", needs(Viewer), get(oncall::oncall)),
        (Method::POST, "/api/v1/schedules/{name}/shifts", needs(Responder), post(oncall::take)),
        (
            Method::DELETE,
            "/api/v1/schedules/{name}/shifts/{id}",
            needs(Responder),
            delete(oncall::cancel),
        ),
        (Method::GET, "/api/v1/schedules/{name}/calendar.ics", Open, get(calendar::schedule)),
        (Method::GET, "/api/v1/people/{name}/calendar.ics", Open, get(calendar::person)),
        (Method::GET, "/ack/{token}", Open, get(notifications::confirm)),
        (Method::POST, "/ack/{token}", Open, post(notifications::act)),
        (Method::POST, "/api/v1/admin/reload", needs(Admin), post(admin::reload)),
        (Method::GET, "/api/v1/admin/backup", needs(Admin), get(backup::download)),
        (Method::GET, "/api/v1/people", needs(Admin), get(people::list)),
        (Method::PUT, "/api/v1/people/{name}/password", needs(Admin), put(people::set_password)),
        (Method::POST, "/api/v1/people/{name}/test", needs(Admin), post(people::test_contacts)),
        (Method::GET, "/api/v1/audit", needs(Admin), get(people::audit)),
        (Method::GET, "/api/v1/sources/{name}/shadow", needs(Admin), get(sources::shadow)),
        (Method::POST, "/api/v1/sources/{name}/replay", needs(Admin), post(sources::replay)),
        (Method::GET, "/api/v1/openapi.json", Open, get(openapi::document)),
        (Method::GET, "/metrics", needs(Metrics), get(metrics::render)),
        (Method::GET, "/healthz", Open, get(health::healthz)),
        (Method::GET, "/readyz", Open, get(health::readyz)),
    ]
}

/// The API's routes, each behind its access check, with the JSON answers
/// for an unknown route or method.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (_, path, access, handler) in routes() {
        let handler = match access {
            Access::Open => handler,
            Access::Needs(role) => handler.route_layer(middleware::from_fn_with_state(
                (state.clone(), role),
                auth::require_role,
            )),
        };
        router = router.route(path, handler);
    }
    router
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
}

/// An incident as the API shows it, as JSON (the test harness compares
/// these).
pub fn incident_view(incident: &crate::store::Incident) -> serde_json::Value {
    serde_json::to_value(views::incident(incident)).expect("an incident always serializes")
}

/// What `POST /api/v1/events/...` answers for a delivery, as status and JSON
/// body: the test harness shows authors exactly what a sender would get.
pub fn webhook_answer(result: Result<&Delivered, DeliveryError>) -> (u16, serde_json::Value) {
    match result {
        Ok(delivered) => (
            202,
            serde_json::to_value(events::answer(delivered)).expect("an answer always serializes"),
        ),
        Err(error) => {
            let error = ApiError::from(error);
            (error.status.as_u16(), error.body())
        }
    }
}
