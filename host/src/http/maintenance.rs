//! Maintenance windows: `GET /api/v1/maintenance` (viewer) lists the
//! config's and the run-time ones; `POST /api/v1/maintenance` starts or
//! plans one and `DELETE /api/v1/maintenance/{name}` ends one early
//! (responder). Audited; read by escalation on every host.

use super::answers::ErrorAnswer;
use super::answers::{MaintenancePage, MaintenanceWindow};
use super::params::ApiPath;
use super::{ApiError, views};
use crate::app::maintenance::{self, MaintenanceError, NewWindow};
use crate::app::{AppState, Caller};
use crate::config::noise::AfterWindow;
use crate::noise::Window;
use crate::request_extensions::ClientAddress;
use crate::store::{Millis, now_millis};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

#[utoipa::path(
    get,
    path = "/api/v1/maintenance",
    operation_id = "listMaintenance",
    summary = "Maintenance windows, the config's and those made at run time, by start",
    responses(
        (status = 200, description = "The windows", body = MaintenancePage),
    ),
    tag = "noise"
)]
pub async fn list(State(app): State<Arc<AppState>>) -> Result<Json<MaintenancePage>, ApiError> {
    let now = now_millis();
    let windows = maintenance::list(&app).await?;
    Ok(Json(MaintenancePage { windows: windows.iter().map(|w| window_view(w, now)).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowRequest {
    name: String,
    /// RFC 3339; default now.
    #[schema(format = DateTime)]
    from: Option<String>,
    /// RFC 3339; or `minutes`.
    #[schema(format = DateTime)]
    until: Option<String>,
    /// Instead of `until`.
    minutes: Option<u64>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    priorities: Vec<String>,
    #[serde(default)]
    after: AfterWindow,
}

/// `POST /api/v1/maintenance`, body `{"name", "minutes" | "until", "from",
/// "sources", "priorities", "after"}`.
#[utoipa::path(
    post,
    path = "/api/v1/maintenance",
    operation_id = "startMaintenance",
    summary = "Start or plan a maintenance window: levels due in it page nobody",
    request_body = WindowRequest,
    responses(
        (status = 201, description = "Started", body = MaintenanceWindow),
        (status = 400, description = "invalid-body, or a time, source or priority that is not valid", body = ErrorAnswer),
        (status = 409, description = "A window of this name exists", body = ErrorAnswer),
    ),
    tag = "noise"
)]
pub async fn start(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    body: Bytes,
) -> Result<(StatusCode, Json<MaintenanceWindow>), ApiError> {
    let request: WindowRequest = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(
            "invalid-body",
            format!("the body must be {{\"name\": \"...\", \"minutes\": 120}} (or \"until\": \"RFC 3339\"), with optional \"from\", \"sources\", \"priorities\", \"after\" (\"escalate\" or \"quiet\"): {error}"),
        )
    })?;
    let new = NewWindow {
        name: request.name,
        from: request.from.as_deref().map(|t| millis("from", t)).transpose()?,
        until: request.until.as_deref().map(|t| millis("until", t)).transpose()?,
        minutes: request.minutes,
        sources: request.sources,
        priorities: request.priorities,
        after: request.after,
    };
    let client = client.map(|Extension(address)| address.client);
    let window = maintenance::start(&app, &caller, client, new).await?;
    Ok((StatusCode::CREATED, Json(window_view(&window, now_millis()))))
}

/// `DELETE /api/v1/maintenance/{name}`: ends a run-time window now.
#[utoipa::path(
    delete,
    path = "/api/v1/maintenance/{name}",
    operation_id = "endMaintenance",
    summary = "End a run-time maintenance window now",
    params(("name" = String, Path, description = "The window's name")),
    responses(
        (status = 200, description = "Ended", body = MaintenanceWindow),
        (status = 404, description = "unknown-window", body = ErrorAnswer),
        (status = 409, description = "A window of the config cannot be ended here", body = ErrorAnswer),
    ),
    tag = "noise"
)]
pub async fn end(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<MaintenanceWindow>, ApiError> {
    let client = client.map(|Extension(address)| address.client);
    let window = maintenance::end(&app, &caller, client, &name).await?;
    Ok(Json(window_view(&window, now_millis())))
}

impl From<MaintenanceError> for ApiError {
    fn from(error: MaintenanceError) -> Self {
        match error {
            MaintenanceError::Invalid(code, message) => ApiError::bad_request(code, message),
            MaintenanceError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "window-conflict", message)
            }
            MaintenanceError::NotFound(message) => ApiError::not_found("unknown-window", message),
            MaintenanceError::Storage(message) => ApiError::internal(message),
        }
    }
}

pub fn window_view(window: &Window, now: Millis) -> MaintenanceWindow {
    MaintenanceWindow {
        after: window.after,
        created_by: window.created_by.clone(),
        from: views::timestamp(window.from),
        name: window.name.clone(),
        priorities: window.priorities.clone(),
        sources: window.sources.clone(),
        state: window.state(now).to_string(),
        until: views::timestamp(window.until),
    }
}

fn millis(field: &str, text: &str) -> Result<Millis, ApiError> {
    let at = text.parse::<jiff::Timestamp>().map_err(|error| {
        ApiError::bad_request(
            "invalid-time",
            format!(
                "{field} {text:?} is not an RFC 3339 time such as 2026-03-29T07:00:00Z: {error}"
            ),
        )
    })?;
    Ok(at.as_millisecond().max(0) as Millis)
}
