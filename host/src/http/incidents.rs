//! The incidents API for people and tools.

use super::error::read_blocking;
use super::path::PathParams;
use super::{ApiError, AppState, Caller, views};
use crate::respond::{self, RespondError};
use crate::store::{ListQuery, Status};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
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

/// The `limit` of a list route: 1 to 500, 50 when absent.
pub(super) fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(
            "invalid-limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(limit)
}

/// `GET /api/v1/incidents?status=&source=&limit=&before=`, newest first.
pub async fn list(
    State(app): State<Arc<AppState>>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        ApiError::bad_request(
            "invalid-query",
            format!(
                "{}; accepted parameters: status, source, before (an incident id), limit (1-{MAX_PAGE})",
                rejection.body_text()
            ),
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
    let limit = page_limit(params.limit)?;
    let query = ListQuery {
        status,
        source: params.source.filter(|s| !s.is_empty()),
        before: params.before,
        limit,
    };
    let store = app.store.clone();
    let page = read_blocking("incidents".into(), move || store.list(&query)).await?;
    let incidents: Vec<Value> = page.incidents.iter().map(views::incident).collect();
    Ok(Json(json!({"incidents": incidents, "next_before": page.next_before})))
}

/// `GET /api/v1/incidents/{id}`: the incident and its whole log.
pub async fn show(
    State(app): State<Arc<AppState>>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let store = app.store.clone();
    let found =
        read_blocking(format!("incident {id}"), move || store.incident_with_log(id)).await?;
    let (incident, log) = found.ok_or_else(|| {
        ApiError::not_found("unknown-incident", format!("there is no incident {id}"))
    })?;
    let log: Vec<Value> = log.iter().map(views::log_entry).collect();
    Ok(Json(json!({"incident": views::incident(&incident), "log": log})))
}

/// `POST /api/v1/incidents/{id}/accept`, body optional: `{"note": "..."}`.
pub async fn accept(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    change_status(&app, &caller, &id, Status::Accepted, &body).await
}

/// `POST /api/v1/incidents/{id}/resolve`, body optional: `{"note": "..."}`.
pub async fn resolve(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    change_status(&app, &caller, &id, Status::Resolved, &body).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    note: Option<String>,
}

async fn change_status(
    app: &AppState,
    caller: &Caller,
    id: &str,
    to: Status,
    body: &[u8],
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(id)?;
    let change: StatusChange = if body.iter().all(u8::is_ascii_whitespace) {
        StatusChange::default()
    } else {
        serde_json::from_slice(body).map_err(|error| {
            ApiError::bad_request(
                "invalid-body",
                format!("the body must be empty or {{\"note\": \"...\"}}: {error}"),
            )
        })?
    };
    let note = change.note.filter(|note| !note.trim().is_empty());
    let (action, incident) = respond::set_status(&app.store, id, to, caller.actor(), note)
        .await
        .map_err(|error| match error {
            RespondError::NotFound(_) => ApiError::not_found("unknown-incident", error.to_string()),
            RespondError::Resolved(_) => {
                ApiError::new(StatusCode::CONFLICT, "incident-resolved", error.to_string())
            }
            RespondError::NoteTooLong => ApiError::bad_request("note-too-long", error.to_string()),
            RespondError::Contended(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "contended", error.to_string())
                    .retry_after(1)
            }
            RespondError::Storage(_) => ApiError::internal(error.to_string()),
        })?;
    tracing::info!(incident = incident.id, action = %json!(action).as_str().unwrap_or_default(), by = %caller.name, "incident status set by a person");
    Ok(Json(json!({"action": action, "incident": views::incident(&incident)})))
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    // Ids start at 1: 0 is as malformed as "abc", not an id that is missing.
    id.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::bad_request(
            "invalid-id",
            format!("{id:?} is not an incident id (a positive number)"),
        )
    })
}
