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

/// Storage can commit (the database is open, not waiting to be reopened
/// after a disk failure, and its disk is above the free-space floor) and
/// every configured integration's plugin is loaded.
pub async fn readyz(State(app): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let storage = app.store.is_ready();
    let live = app.live.load();
    let missing: Vec<&str> = live
        .sources
        .integrations()
        .filter(|name| live.ingest.plugins.plugin(name).is_none())
        .collect();
    let disk_full = live.check_free_space().is_err();
    let ready = storage && !disk_full && missing.is_empty();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let answer = json!({"ready": ready, "storage": storage, "disk_full": disk_full, "plugins_missing": missing});
    (status, Json(answer))
}
