//! `GET /api/v1/schedules/{name}/calendar.ics` and `GET
//! /api/v1/people/{name}/calendar.ics`: upcoming turns as iCalendar
//! (`app::calendar`). Read with `?key=` (a person's feed key, made in the
//! console's On call page) or a bearer token; either must reach viewer.
//! Wrong keys count against the client like wrong tokens.

use super::ApiError;
use super::answers::ErrorAnswer;
use super::params::{ApiPath, ApiQuery, QueryParams};
use crate::app::{AppState, Refused, calendar, digest_hex, oncall};
use crate::request_extensions::ClientAddress;
use crate::roles::Role;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// A person's calendar feed key (the console's On call page); or send a
    /// bearer token of role viewer or above.
    key: Option<String>,
    /// RFC 3339: where the feed's window starts (default now), at most a
    /// year ahead: to look at the turns around a later date.
    #[param(format = DateTime)]
    from: Option<String>,
}

impl QueryParams for FeedParams {
    const ACCEPTED: &'static str =
        "key (a calendar feed key), from (RFC 3339, within a year from now)";
}

impl FeedParams {
    fn from(&self) -> Result<jiff::Timestamp, ApiError> {
        let now = jiff::Timestamp::now();
        let Some(text) = self.from.as_deref().filter(|text| !text.is_empty()) else {
            return Ok(now);
        };
        let from: jiff::Timestamp = text.parse().map_err(|error| {
            ApiError::bad_request(
                "invalid-time",
                format!("from {text:?} is not an RFC 3339 time: {error}"),
            )
        })?;
        let year = jiff::SignedDuration::from_hours(24 * 366);
        if from < now - jiff::SignedDuration::from_hours(24) || from > now + year {
            return Err(ApiError::bad_request(
                "invalid-time",
                "from must be between yesterday and a year from now",
            ));
        }
        Ok(from)
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/schedules/{name}/calendar.ics",
    operation_id = "scheduleCalendar",
    summary = "A schedule's upcoming turns as an iCalendar feed",
    params(("name" = String, Path, description = "The schedule's name"), FeedParams),
    responses(
        (status = 200, description = "iCalendar (RFC 5545), one event per turn, in UTC", body = String, content_type = "text/calendar"),
        (status = 400, description = "A from that is not valid", body = ErrorAnswer),
        (status = 401, description = "Neither a feed key nor a bearer token of role viewer or above", body = ErrorAnswer),
        (status = 404, description = "Unknown name", body = ErrorAnswer),
    ),
    tag = "on call"
)]
pub async fn schedule(
    State(app): State<Arc<AppState>>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<FeedParams>,
) -> Result<Response, ApiError> {
    let client = client.map(|Extension(address)| address.client);
    let from = params.from()?;
    allowed(&app, client, &headers, params.key).await?;
    let setup = app.notify.current();
    let schedule =
        setup.config.resolved_schedules.iter().find(|schedule| schedule.name == name).ok_or_else(
            || ApiError::not_found("unknown-schedule", format!("there is no schedule {name:?}")),
        )?;
    let shifts = oncall::current_shifts(&app).await?;
    let feed = calendar::schedule_feed(schedule, &shifts, from, &host_name(&app));
    Ok(ics(feed))
}

#[utoipa::path(
    get,
    path = "/api/v1/people/{name}/calendar.ics",
    operation_id = "personCalendar",
    summary = "A person's upcoming turns across every schedule as an iCalendar feed",
    params(("name" = String, Path, description = "The person's name"), FeedParams),
    responses(
        (status = 200, description = "iCalendar (RFC 5545), one event per turn, in UTC", body = String, content_type = "text/calendar"),
        (status = 400, description = "A from that is not valid", body = ErrorAnswer),
        (status = 401, description = "Neither a feed key nor a bearer token of role viewer or above", body = ErrorAnswer),
        (status = 404, description = "Unknown name", body = ErrorAnswer),
    ),
    tag = "on call"
)]
pub async fn person(
    State(app): State<Arc<AppState>>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<FeedParams>,
) -> Result<Response, ApiError> {
    let client = client.map(|Extension(address)| address.client);
    let from = params.from()?;
    allowed(&app, client, &headers, params.key).await?;
    let setup = app.notify.current();
    if setup.config.person(&name).is_none() {
        return Err(ApiError::not_found(
            "unknown-person",
            format!("there is no person {name:?} in [[people]]"),
        ));
    }
    let shifts = oncall::current_shifts(&app).await?;
    let schedules = &setup.config.resolved_schedules;
    let feed = calendar::person_feed(&name, schedules, &shifts, from, &host_name(&app));
    Ok(ics(feed))
}

/// A feed key whose person may view, or a bearer token that may.
async fn allowed(
    app: &AppState,
    client: Option<IpAddr>,
    headers: &HeaderMap,
    key: Option<String>,
) -> Result<(), ApiError> {
    let live = app.live.load_full();
    if let Some(key) = key.filter(|key| !key.is_empty()) {
        live.reserve_attempt(client).map_err(ApiError::from)?;
        let store = app.store.clone();
        let digest = digest_hex(&key);
        let owner = tokio::task::spawn_blocking(move || store.feed_key_owner(&digest))
            .await
            .map_err(|error| ApiError::internal(error.to_string()))??;
        let person = owner.and_then(|owner| live.config.people.iter().find(|p| p.name == owner));
        return match person {
            Some(person) if person.role.allows(Role::Viewer) => {
                live.refund_attempt(client);
                Ok(())
            }
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this feed key is unknown or was replaced; copy the calendar link again from the console's On call page",
            )),
        };
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim);
    match live.authenticate(client, presented) {
        Ok(caller) if caller.role.allows(Role::Viewer) => Ok(()),
        Ok(caller) => Err(super::auth::forbidden(&caller, Role::Viewer)),
        Err(Refused::Blocked(refused)) => Err(ApiError::from(refused)),
        Err(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a calendar feed needs ?key= (from the console's On call page) or a bearer token",
        )),
    }
}

fn host_name(app: &AppState) -> String {
    let url = app.live.load().config.public_url();
    url::Url::parse(&url).ok().and_then(|url| url.host_str().map(str::to_string)).unwrap_or(url)
}

fn ics(feed: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        feed,
    )
        .into_response()
}
