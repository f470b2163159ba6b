//! Failed deliveries: events whose plugin call failed, kept for replay.

use super::error::read_blocking;
use super::events::delivery_error;
use super::path::PathParams;
use super::{ApiError, AppState, views};
use crate::store::FailedDelivery;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    before: Option<u64>,
    limit: Option<usize>,
}

/// `GET /api/v1/failed?before=&limit=`, newest first.
pub async fn list(
    State(app): State<Arc<AppState>>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("{}; accepted parameters: before, limit (1-500)", rejection.body_text()),
        )
    })?;
    let limit = super::incidents::page_limit(params.limit)?;
    let store = app.store.clone();
    let (page, next) =
        read_blocking("failed deliveries".into(), move || store.failures(params.before, limit))
            .await?;
    let failures: Vec<Value> = page.iter().map(view).collect();
    Ok(Json(json!({"failed_deliveries": failures, "next_before": next})))
}

/// `GET /api/v1/failed/{id}`: the record and the original body.
pub async fn show(
    State(app): State<Arc<AppState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let store = app.store.clone();
    let (failure, body) = read_blocking(format!("failed delivery {id}"), move || store.failure(id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown-failed-delivery",
                format!("there is no failed delivery {id}"),
            )
        })?;
    let mut value = view(&failure);
    value["body"] = json!(String::from_utf8_lossy(&body));
    Ok(Json(value))
}

/// `POST /api/v1/failed/{id}/replay`: runs the event through its source's
/// current plugin; on success the changes and the replay record commit together.
pub async fn replay(
    State(app): State<Arc<AppState>>,
    PathParams(id): PathParams<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_id(&id)?;
    let store = app.store.clone();
    let (failure, _) = read_blocking(format!("failed delivery {id}"), move || store.failure(id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown-failed-delivery",
                format!("there is no failed delivery {id}"),
            )
        })?;
    let live = app.live.load_full();
    let source = live
        .sources
        .values()
        .flatten()
        .find(|source| source.name == failure.source)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "unknown-source",
                format!(
                    "source {:?} is no longer configured; add it back to replay this event",
                    failure.source
                ),
            )
        })?;
    let delivered = live.ingest.replay(id, &source).await.map_err(delivery_error)?;
    let (action, incident) = match delivered.outcomes.first() {
        Some((action, incident)) => (json!(action), views::incident(incident)),
        None => (json!("unchanged"), Value::Null),
    };
    Ok((StatusCode::OK, Json(json!({"replayed": id, "action": action, "incident": incident}))))
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    // Ids start at 1: 0 is as malformed as "abc", not an id that is missing.
    id.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::bad_request(
            "invalid-id",
            format!("{id:?} is not a failed delivery id (a positive number)"),
        )
    })
}

fn view(failure: &FailedDelivery) -> Value {
    json!({
        "id": failure.id,
        "source": failure.source,
        "integration": failure.integration,
        "received_at": views::timestamp(failure.received_at),
        "headers": failure.headers,
        "body_bytes": failure.body_bytes,
        "error_code": failure.error_code,
        "error": failure.error,
        "attempts": failure.attempts,
        "fallback_incident": failure.fallback_incident,
        "replayed": failure.replayed.as_ref().map(|r| json!({
            "at": views::timestamp(r.at),
            "action": r.action,
            "incident": r.incident,
        })),
    })
}
