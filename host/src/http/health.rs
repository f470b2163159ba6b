//! Liveness and readiness for process supervisors and load balancers.

use super::answers::{Health, Readiness};
use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

/// The process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    summary = "The process is up",
    responses(
        (status = 200, description = "Up", body = Health),
    ),
    tag = "meta"
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".to_string() })
}

/// Storage can commit (the database is open, not waiting to be reopened
/// after a disk failure, and its disk is above the free-space floor) and
/// every configured integration's plugin is loaded.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    summary = "Storage open and every plugin loaded",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready", body = Readiness),
    ),
    tag = "meta"
)]
pub async fn readyz(State(app): State<Arc<AppState>>) -> (StatusCode, Json<Readiness>) {
    let storage = app.store.is_ready();
    let live = app.live.load();
    let missing: Vec<String> = live
        .sources
        .integrations()
        .filter(|name| live.ingest.plugins.plugin(name).is_none())
        .map(str::to_string)
        .collect();
    let disk_full = live.check_free_space().is_err();
    let ready = storage && !disk_full && missing.is_empty();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { disk_full, plugins_missing: missing, ready, storage }))
}
