//! `GET /metrics`: Prometheus text exposition.

use super::ApiError;
use super::error::read_blocking;
use crate::app::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::Arc;

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
    ),
    tag = "meta"
)]
pub async fn render(State(app): State<Arc<AppState>>) -> Result<impl IntoResponse, ApiError> {
    let handle =
        app.metrics.ok_or_else(|| ApiError::internal("metrics are not enabled in this process"))?;
    crate::telemetry::webhooks_in_flight(app.live.load().gate.in_flight());
    let setup = app.notify.current();
    crate::telemetry::notification_channels(setup.config.channels.iter().map(|c| c.name.as_str()));
    let store = app.store.clone();
    let text = read_blocking("the incident counts".into(), move || {
        crate::telemetry::render(handle, &store, &setup.config)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}
