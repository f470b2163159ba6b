//! Liveness and readiness for process supervisors and load balancers.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// The process is up and serving HTTP.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Storage is open and every configured integration's plugin is loaded.
pub async fn readyz(State(app): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let storage = app.store.is_ready();
    let live = app.live.load();
    let missing: Vec<&str> = live
        .sources
        .integrations()
        .filter(|name| live.ingest.plugins.plugin(name).is_none())
        .collect();
    let ready = storage && missing.is_empty();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({"ready": ready, "storage": storage, "plugins_missing": missing})))
}
