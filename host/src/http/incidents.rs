//! The incidents API for people and tools.

use super::answers::ErrorAnswer;
use super::answers::{
    IncidentDetail, IncidentPage, LogPage, LogPageBackward, LogPageForward, Noted, StatusChanged,
};
use super::error::read_blocking;
use super::params::{ApiQuery, IncidentId, MAX_PAGE, QueryParams, page_limit};
use super::{ApiError, views};
use crate::app::{AppState, Caller};
use crate::noise::Urgency;
use crate::respond;
use crate::store::{self, ListQuery, NotificationQuery, Status};
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
pub struct ListParams {
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// A source's name.
    source: Option<String>,
    /// `next_before` of the previous page.
    before: Option<u64>,
    /// Incidents per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    #[param(value_type = Option<Urgency>)]
    urgency: Option<String>,
}

impl QueryParams for ListParams {
    const ACCEPTED: &'static str =
        "status, source, urgency (high, low), before (an incident id), limit (1-500)";
}

const _: () = assert!(MAX_PAGE == 500, "ListParams::ACCEPTED names the page size");

/// `GET /api/v1/incidents?status=&source=&limit=&before=`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    operation_id = "listIncidents",
    summary = "List incidents, newest first",
    params(ListParams),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentPage),
        (status = 400, description = "A parameter is not valid (invalid-query, invalid-status, invalid-limit)", body = ErrorAnswer),
    ),
    tag = "incidents"
)]
pub async fn list(
    State(app): State<Arc<AppState>>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<IncidentPage>, ApiError> {
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
    let urgency = match params.urgency.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Urgency::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "invalid-urgency",
                format!("urgency {text:?} is not one of high, low"),
            )
        })?),
    };
    let (store, setup) = (app.store.clone(), app.notify.current());
    let config = setup.clone();
    let page = read_blocking("incidents".into(), move || match urgency {
        None => store.list(&query),
        Some(wanted) => crate::noise::list_by_urgency(&store, &config.config, query, wanted),
    })
    .await?;
    let incidents =
        page.items.iter().map(|i| views::incident_with_urgency(i, &setup.config)).collect();
    Ok(Json(IncidentPage { incidents, next_before: page.next }))
}

/// Log entries the incident detail carries: the newest, oldest first; the
/// rest through `GET /api/v1/incidents/{id}/log`.
pub const DETAIL_LOG_ENTRIES: usize = 50;
/// Notifications the incident detail carries: the newest, oldest first; the
/// rest through `GET /api/v1/notifications?incident={id}&before=`.
pub const DETAIL_NOTIFICATIONS: usize = 50;

/// `GET /api/v1/incidents/{id}`: the incident, the newest entries of its
/// log and its newest notifications, with `log_before` and
/// `notifications_before`, the cursors for older ones (null when there are
/// none), and its escalation.
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    operation_id = "showIncident",
    summary = "An incident and the newest entries of its log",
    description = "The incident, the newest 50 log entries and notifications (oldest first) and its escalation; `log_before` pages back to older entries with GET /api/v1/incidents/{id}/log?before=, `notifications_before` to older notifications with GET /api/v1/notifications?incident={id}&before=",
    params(("id" = u64, Path, minimum = 1, description = "The incident's id")),
    responses(
        (status = 200, description = "The incident", body = IncidentDetail),
        (status = 400, description = "invalid-id", body = ErrorAnswer),
        (status = 404, description = "unknown-incident", body = ErrorAnswer),
    ),
    tag = "incidents"
)]
pub async fn show(
    State(app): State<Arc<AppState>>,
    IncidentId(id): IncidentId,
) -> Result<Json<IncidentDetail>, ApiError> {
    let store = app.store.clone();
    let found = read_blocking(format!("incident {id}"), move || -> Result<_, store::Error> {
        let Some(incident) = store.incident(id)? else { return Ok(None) };
        Ok(Some((incident, store.log_before(id, None, DETAIL_LOG_ENTRIES)?)))
    })
    .await?;
    let (incident, page) = found.ok_or_else(|| unknown_incident(id))?;
    let log = page.items.iter().rev().map(|(seq, entry)| views::log_entry(*seq, entry)).collect();
    let store = app.store.clone();
    let (escalation, notifications) =
        read_blocking(format!("incident {id}"), move || -> Result<_, store::Error> {
            let newest = NotificationQuery {
                incident: Some(id),
                limit: DETAIL_NOTIFICATIONS,
                ..NotificationQuery::default()
            };
            Ok((store.escalation_of(id)?, store.notifications(&newest)?))
        })
        .await?;
    Ok(Json(IncidentDetail {
        escalation: escalation.as_ref().map(views::escalation),
        incident: views::incident_with_urgency(&incident, &app.notify.current().config),
        log,
        log_before: page.next,
        notifications: notifications.items.iter().rev().map(views::notification).collect(),
        notifications_before: notifications.next,
    }))
}

fn unknown_incident(id: u64) -> ApiError {
    ApiError::not_found("unknown-incident", format!("there is no incident {id}"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Entries after this seq, oldest first (from the first entry without it).
    after: Option<u64>,
    /// Instead of `after`: entries older than this seq, newest first.
    before: Option<u64>,
    /// Entries per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

impl QueryParams for LogParams {
    const ACCEPTED: &'static str = "after or before (a log entry's seq), limit (1-500)";
}

/// `GET /api/v1/incidents/{id}/log?after=&limit=`: a page of the log, oldest
/// first, after the entry `after` (from the start without it), with
/// `next_after` while more follow. `?before=` pages backwards instead:
/// newest first, older than `before`, with `next_before`.
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/log",
    operation_id = "incidentLog",
    summary = "A page of an incident's log",
    params(("id" = u64, Path, minimum = 1, description = "The incident's id"), LogParams),
    responses(
        (status = 200, description = "One page. `next_after` (forwards) or `next_before` (backwards) is the cursor of the next page, null on the last.", body = LogPage),
        (status = 400, description = "A parameter is not valid, or both after and before", body = ErrorAnswer),
        (status = 404, description = "unknown-incident", body = ErrorAnswer),
    ),
    tag = "incidents"
)]
pub async fn log(
    State(app): State<Arc<AppState>>,
    IncidentId(id): IncidentId,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Json<LogPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    if params.after.is_some() && params.before.is_some() {
        return Err(ApiError::bad_request(
            "invalid-query",
            "give after (read forwards) or before (read backwards), not both",
        ));
    }
    let store = app.store.clone();
    let answer =
        read_blocking(format!("the log of incident {id}"), move || -> Result<_, store::Error> {
            if store.incident(id)?.is_none() {
                return Ok(None);
            }
            let view = |entries: &[(u64, store::LogEntry)]| {
                entries.iter().map(|(seq, entry)| views::log_entry(*seq, entry)).collect()
            };
            Ok(Some(match params.before {
                Some(before) => {
                    let page = store.log_before(id, Some(before), limit)?;
                    LogPage::Backward(LogPageBackward {
                        entries: view(&page.items),
                        next_before: page.next,
                    })
                }
                None => {
                    let page = store.log_after(id, params.after, limit)?;
                    LogPage::Forward(LogPageForward {
                        entries: view(&page.items),
                        next_after: page.next,
                    })
                }
            }))
        })
        .await?;
    answer.map(Json).ok_or_else(|| unknown_incident(id))
}

/// `POST /api/v1/incidents/{id}/accept`, body optional: `{"note": "..."}`.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/accept",
    operation_id = "acceptIncident",
    summary = "Accept an incident",
    params(("id" = u64, Path, minimum = 1, description = "The incident's id")),
    request_body(content = Option<StatusChange>, description = "Optional; an empty body is no note"),
    responses(
        (status = 200, description = "Accepted (or already accepted: action unchanged)", body = StatusChanged),
        (status = 400, description = "invalid-id, invalid-body, note-too-long", body = ErrorAnswer),
        (status = 404, description = "unknown-incident", body = ErrorAnswer),
        (status = 409, description = "A concurrent change won; try again", body = ErrorAnswer),
        (status = 503, description = "Storage is unavailable or full", body = ErrorAnswer),
    ),
    tag = "incidents"
)]
pub async fn accept(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    IncidentId(id): IncidentId,
    body: Bytes,
) -> Result<Json<StatusChanged>, ApiError> {
    change_status(&app, &caller, id, Status::Accepted, &body).await
}

/// `POST /api/v1/incidents/{id}/resolve`, body optional: `{"note": "..."}`.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/resolve",
    operation_id = "resolveIncident",
    summary = "Resolve an incident",
    params(("id" = u64, Path, minimum = 1, description = "The incident's id")),
    request_body(content = Option<StatusChange>, description = "Optional; an empty body is no note"),
    responses(
        (status = 200, description = "Resolved (or already resolved: action unchanged)", body = StatusChanged),
        (status = 400, description = "invalid-id, invalid-body, note-too-long", body = ErrorAnswer),
        (status = 404, description = "unknown-incident", body = ErrorAnswer),
        (status = 409, description = "A concurrent change won; try again", body = ErrorAnswer),
        (status = 503, description = "Storage is unavailable or full", body = ErrorAnswer),
    ),
    tag = "incidents"
)]
pub async fn resolve(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    IncidentId(id): IncidentId,
    body: Bytes,
) -> Result<Json<StatusChanged>, ApiError> {
    change_status(&app, &caller, id, Status::Resolved, &body).await
}

/// `POST /api/v1/incidents/{id}/notes`, body `{"text": "..."}`: a person's
/// note in the incident's log, in any status; passed on to the sender when
/// the source acts back (docs/two-way.md).
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/notes",
    operation_id = "addIncidentNote",
    summary = "Add a person's note to an incident (sent on to the sender when its source acts back)",
    params(("id" = u64, Path, minimum = 1, description = "The incident's id")),
    request_body = Note,
    responses(
        (status = 201, description = "Noted", body = Noted),
        (status = 400, description = "invalid-id, invalid-body, note-too-long, empty-note", body = ErrorAnswer),
        (status = 404, description = "unknown-incident", body = ErrorAnswer),
        (status = 503, description = "Storage is unavailable or full", body = ErrorAnswer),
    ),
    tag = "incidents"
)]
pub async fn note(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    IncidentId(id): IncidentId,
    body: Bytes,
) -> Result<(StatusCode, Json<Noted>), ApiError> {
    let note: Note = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(
            "invalid-body",
            format!("the body must be {{\"text\": \"...\"}}: {error}"),
        )
    })?;
    let by = respond::Actor::of(&caller);
    let config = &app.live.load().config;
    let incident = respond::add_note(&app.store, config, id, &by, note.text).await?;
    tracing::info!(incident = incident.id, by = %caller.name, "note added by a person");
    let incident = views::incident_with_urgency(&incident, config);
    Ok((StatusCode::CREATED, Json(Noted { incident })))
}

/// The body of `/accept` and `/resolve`, which may also be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// For the incident's log (and the sender, when its source acts back).
    #[schema(max_length = 4096)]
    note: Option<String>,
}

/// The body of `/notes`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    #[schema(min_length = 1, max_length = 4096)]
    text: String,
}

async fn change_status(
    app: &AppState,
    caller: &Caller,
    id: u64,
    to: Status,
    body: &[u8],
) -> Result<Json<StatusChanged>, ApiError> {
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
    let by = respond::Actor::of(caller);
    let config = &app.live.load().config;
    let (action, incident) = respond::set_status(&app.store, config, id, to, &by, note).await?;
    tracing::info!(incident = incident.id, action = %action.as_str(), by = %caller.name, "incident status set by a person");
    let incident = views::incident_with_urgency(&incident, &app.notify.current().config);
    Ok(Json(StatusChanged { action, incident }))
}
