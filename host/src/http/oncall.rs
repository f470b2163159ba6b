//! Who is on call, and the shifts people take: `GET /api/v1/oncall`
//! (viewer), `POST /api/v1/schedules/{name}/shifts` and `DELETE
//! /api/v1/schedules/{name}/shifts/{id}` (responder). A shift taken here
//! is stored in the database, honoured by escalation on every host, shown
//! by `inbound oncall` and the console, and audited.

use super::answers::ErrorAnswer;
use super::answers::{OnCallEntry, OnCallPage, ShiftView};
use super::params::{ApiPath, ApiQuery, QueryParams};
use super::{ApiError, views};
use crate::app::oncall::{self, NewShift, ShiftError};
use crate::app::{AppState, Caller};
use crate::request_extensions::ClientAddress;
use crate::store::Shift;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OnCallParams {
    /// Only this schedule.
    schedule: Option<String>,
    /// RFC 3339; default now.
    #[param(format = DateTime)]
    at: Option<String>,
}

impl QueryParams for OnCallParams {
    const ACCEPTED: &'static str = "schedule, at (RFC 3339)";
}

#[utoipa::path(
    get,
    path = "/api/v1/oncall",
    operation_id = "onCall",
    summary = "Who is on call in each schedule (or one), now or at a given time",
    params(OnCallParams),
    responses(
        (status = 200, description = "The person on call per schedule and when their turn ends", body = OnCallPage),
        (status = 400, description = "A time that is not RFC 3339", body = ErrorAnswer),
        (status = 404, description = "unknown-schedule", body = ErrorAnswer),
    ),
    tag = "on call"
)]
pub async fn oncall(
    State(app): State<Arc<AppState>>,
    ApiQuery(params): ApiQuery<OnCallParams>,
) -> Result<Json<OnCallPage>, ApiError> {
    let at = match params.at.as_deref() {
        None | Some("") => jiff::Timestamp::now(),
        Some(text) => parse_time("at", text)?,
    };
    let setup = app.notify.current();
    let schedules: Vec<_> = setup
        .config
        .resolved_schedules
        .iter()
        .filter(|s| params.schedule.as_deref().is_none_or(|name| s.name == name))
        .cloned()
        .collect();
    if let Some(name) = &params.schedule
        && schedules.is_empty()
    {
        return Err(ApiError::not_found(
            "unknown-schedule",
            format!("there is no schedule {name:?}"),
        ));
    }
    let shifts = oncall::current_shifts(&app).await?;
    let oncall = schedules
        .iter()
        .map(|schedule| {
            let now = oncall::on_call(schedule, &shifts, at);
            let upcoming =
                shifts.iter().filter(|s| s.schedule == schedule.name).map(shift_view).collect();
            OnCallEntry {
                next_person: now.next_person,
                person: now.person,
                schedule: now.schedule,
                shift: now.shift.as_ref().map(shift_view),
                shifts: upcoming,
                timezone: now.timezone,
                until: now.until.map(|t| t.to_string()),
            }
        })
        .collect();
    Ok(Json(OnCallPage { at: at.to_string(), oncall }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftRequest {
    /// Who covers; a person may leave it out to mean themselves.
    person: Option<String>,
    /// RFC 3339; default now.
    #[schema(format = DateTime)]
    from: Option<String>,
    /// RFC 3339; default the end of the turn running at `from`.
    #[schema(format = DateTime)]
    until: Option<String>,
}

/// `POST /api/v1/schedules/{name}/shifts`, body `{"person", "from", "until"}`.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{name}/shifts",
    operation_id = "takeShift",
    summary = "Take a shift, or cover one until a time: the person is on call for the span (the latest taken wins)",
    params(("name" = String, Path, description = "The schedule's name")),
    request_body = ShiftRequest,
    responses(
        (status = 201, description = "Taken", body = ShiftView),
        (status = 400, description = "invalid-body, or times that are not valid", body = ErrorAnswer),
        (status = 403, description = "A responder may only take shifts for themselves", body = ErrorAnswer),
        (status = 404, description = "unknown-schedule or unknown-person", body = ErrorAnswer),
    ),
    tag = "on call"
)]
pub async fn take(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    ApiPath(schedule): ApiPath<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ShiftView>), ApiError> {
    let request: ShiftRequest = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(
            "invalid-body",
            format!("the body must be {{\"person\": \"...\", \"from\": \"RFC 3339\", \"until\": \"RFC 3339\"}}: {error}"),
        )
    })?;
    let from = request.from.as_deref().map(|text| parse_time("from", text)).transpose()?;
    let until = request.until.as_deref().map(|text| parse_time("until", text)).transpose()?;
    let new = NewShift { schedule, person: request.person, from, until };
    let client = client.map(|Extension(address)| address.client);
    let shift = oncall::take_shift(&app, &caller, client, new).await?;
    Ok((StatusCode::CREATED, Json(shift_view(&shift))))
}

/// `DELETE /api/v1/schedules/{name}/shifts/{id}`: ends a shift early.
#[utoipa::path(
    delete,
    path = "/api/v1/schedules/{name}/shifts/{id}",
    operation_id = "cancelShift",
    summary = "End a shift taken at run time",
    params(("name" = String, Path, description = "The schedule's name"), ("id" = u64, Path, description = "The shift's id")),
    responses(
        (status = 200, description = "Cancelled", body = ShiftView),
        (status = 400, description = "invalid-id", body = ErrorAnswer),
        (status = 404, description = "unknown-shift", body = ErrorAnswer),
    ),
    tag = "on call"
)]
pub async fn cancel(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    ApiPath((schedule, id)): ApiPath<(String, u64)>,
) -> Result<Json<ShiftView>, ApiError> {
    let client = client.map(|Extension(address)| address.client);
    let shift = oncall::cancel_shift(&app, &caller, client, &schedule, id).await?;
    Ok(Json(shift_view(&shift)))
}

impl From<ShiftError> for ApiError {
    fn from(error: ShiftError) -> Self {
        match error {
            ShiftError::Refused(refusal) => ApiError::bad_request(refusal.code, refusal.message),
            ShiftError::NotFound(message) => ApiError::not_found("unknown-shift", message),
            ShiftError::NotTheirs(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "not-yourself", message)
            }
            ShiftError::Storage(message) => ApiError::internal(message),
        }
    }
}

pub fn shift_view(shift: &Shift) -> ShiftView {
    ShiftView {
        from: views::timestamp(shift.from),
        id: shift.id,
        person: shift.person.clone(),
        schedule: shift.schedule.clone(),
        taken_by: shift.taken_by.clone(),
        until: views::timestamp(shift.until),
    }
}

fn parse_time(field: &str, text: &str) -> Result<jiff::Timestamp, ApiError> {
    text.parse::<jiff::Timestamp>().map_err(|error| {
        ApiError::bad_request(
            "invalid-time",
            format!(
                "{field} {text:?} is not an RFC 3339 time such as 2026-03-29T07:00:00Z: {error}"
            ),
        )
    })
}
