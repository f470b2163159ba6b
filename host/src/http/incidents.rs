//! The incidents API for people and tools.

use super::{ApiError, AppState, views};
use crate::store::{ListQuery, Status};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    source: Option<String>,
    before: Option<u64>,
    limit: Option<usize>,
}

/// `GET /api/v1/incidents?status=&source=&limit=&before=`, newest first.
pub async fn list(
    State(app): State<Arc<AppState>>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!("{}; accepted parameters: status, source, before (an incident id), limit (1-{MAX_PAGE})", rejection.body_text()),
        )
    })?;
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Status::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "invalid-status",
                format!("status {text:?} is not one of pending, accepted, resolved"),
            )
        })?),
    };
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request("invalid-limit", format!("limit must be between 1 and {MAX_PAGE}")));
    }
    let query = ListQuery { status, source: params.source.filter(|s| !s.is_empty()), before: params.before, limit };
    let store = app.ingest.store.clone();
    let page = tokio::task::spawn_blocking(move || store.list(&query))
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?
        .map_err(|error| ApiError::internal(format!("cannot read incidents: {error}")))?;
    let incidents: Vec<Value> = page.incidents.iter().map(views::incident).collect();
    Ok(Json(json!({"incidents": incidents, "next_before": page.next_before})))
}

/// `GET /api/v1/incidents/{id}`: the incident and its whole log.
pub async fn show(State(app): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid-id", format!("{id:?} is not an incident id (a positive number)")))?;
    let store = app.ingest.store.clone();
    let found = tokio::task::spawn_blocking(move || store.incident_with_log(id))
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?
        .map_err(|error| ApiError::internal(format!("cannot read incident {id}: {error}")))?;
    let (incident, log) =
        found.ok_or_else(|| ApiError::not_found("unknown-incident", format!("there is no incident {id}")))?;
    let log: Vec<Value> = log.iter().map(views::log_entry).collect();
    Ok(Json(json!({"incident": views::incident(&incident), "log": log})))
}
