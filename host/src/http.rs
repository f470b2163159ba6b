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
mod error;
mod events;
mod failed;
mod health;
mod incidents;
mod metrics;
mod notifications;
mod openapi;
mod params;
mod views;

pub use error::ApiError;

use crate::app::AppState;
use crate::ingest::{Delivered, DeliveryError};
use axum::Router;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};
use std::sync::Arc;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health checks, the API description, and webhooks (whose key
    /// in the path is their secret).
    Open,
    /// `Authorization: Bearer <token>` with a token from `[[api.tokens]]`.
    Token,
}

/// Every route the host serves: method, path, who may call it, handler.
pub fn routes() -> Vec<(Method, &'static str, Access, MethodRouter<Arc<AppState>>)> {
    use Access::*;
    vec![
        (Method::POST, "/api/v1/events/{integration}/{key}", Open, post(events::receive)),
        (Method::GET, "/api/v1/incidents", Token, get(incidents::list)),
        (Method::GET, "/api/v1/incidents/{id}", Token, get(incidents::show)),
        (Method::GET, "/api/v1/incidents/{id}/log", Token, get(incidents::log)),
        (Method::POST, "/api/v1/incidents/{id}/accept", Token, post(incidents::accept)),
        (Method::POST, "/api/v1/incidents/{id}/resolve", Token, post(incidents::resolve)),
        (Method::GET, "/api/v1/failed", Token, get(failed::list)),
        (Method::GET, "/api/v1/failed/{id}", Token, get(failed::show)),
        (Method::POST, "/api/v1/failed/{id}/replay", Token, post(failed::replay)),
        (Method::GET, "/api/v1/notifications", Token, get(notifications::list)),
        (Method::GET, "/api/v1/notifications/{id}", Token, get(notifications::show)),
        (Method::POST, "/api/v1/notifications/{id}/retry", Token, post(notifications::retry)),
        (Method::GET, "/api/v1/oncall", Token, get(notifications::oncall)),
        (Method::GET, "/ack/{token}", Open, get(notifications::confirm)),
        (Method::POST, "/ack/{token}", Open, post(notifications::act)),
        (Method::POST, "/api/v1/admin/reload", Token, post(admin::reload)),
        (Method::GET, "/api/v1/admin/backup", Token, get(backup::download)),
        (Method::GET, "/api/v1/openapi.json", Open, get(openapi::document)),
        (Method::GET, "/metrics", Token, get(metrics::render)),
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
            Access::Token => handler
                .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_token)),
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
        Ok(delivered) => (202, events::answer(delivered)),
        Err(error) => {
            let error = ApiError::from(error);
            (error.status.as_u16(), error.body())
        }
    }
}
