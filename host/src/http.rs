//! The HTTP surface: routes, shared state, and the JSON error type.

mod error;
mod events;
mod failed;
mod health;
mod incidents;
mod views;

pub use error::ApiError;
pub use views::incident as incident_view;

use crate::ingest::{Delivered, DeliveryError, Ingest, Source};
use axum::Router;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::Arc;

/// What every handler can reach.
pub struct AppState {
    pub ingest: Ingest,
    /// Sources by integration name; the key is checked in constant time.
    pub sources: HashMap<String, Vec<Arc<Source>>>,
    pub body_limit: usize,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/events/{integration}/{key}", post(events::receive))
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/{id}", get(incidents::show))
        .route("/api/v1/failed", get(failed::list))
        .route("/api/v1/failed/{id}", get(failed::show))
        .route("/api/v1/failed/{id}/replay", post(failed::replay))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
}

/// What `POST /api/v1/events/...` answers for a delivery, as status and JSON
/// body: the test harness shows authors exactly what a sender would get.
pub fn webhook_answer(result: Result<&Delivered, DeliveryError>) -> (u16, serde_json::Value) {
    match result {
        Ok(delivered) => (202, events::answer(delivered)),
        Err(error) => {
            let error = events::delivery_error(error);
            (error.status.as_u16(), error.body())
        }
    }
}
