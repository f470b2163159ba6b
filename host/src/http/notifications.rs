//! Notifications, on-call and one-click links over HTTP.
//!
//! - `GET /api/v1/notifications`, `GET /api/v1/notifications/{id}`,
//!   `POST /api/v1/notifications/{id}/retry`: the outbox, for operators.
//! - `GET /api/v1/oncall?schedule=&at=`: who is on call.
//! - `GET /ack/{token}` shows a confirmation page and changes nothing (mail
//!   scanners fetch links); the page's `POST /ack/{token}` acts.

use super::answers::ErrorAnswer;
use super::answers::{NotificationAnswer, NotificationPage};
use super::error::read_blocking;
use super::params::{ApiPath, ApiQuery, NotificationId, QueryParams, page_limit};
use super::{ApiError, views};
use crate::app::audit::{self, Action};
use crate::app::{AppState, Caller};
use crate::notify::RetryError;
use crate::notify::links::{LinkAction, LinkError};
use crate::request_extensions::ClientAddress;
use crate::respond::{self, RespondError};
use crate::store::{DeliveryStatus, NotificationQuery, Status};
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    /// Only this incident's notifications.
    #[param(minimum = 1)]
    incident: Option<u64>,
    /// `next_before` of the previous page.
    before: Option<u64>,
    /// Notifications per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

impl QueryParams for ListParams {
    const ACCEPTED: &'static str =
        "status (pending, sent, failed), incident (an incident id), before, limit (1-500)";
}

/// `GET /api/v1/notifications?status=&incident=&before=&limit=`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    operation_id = "listNotifications",
    summary = "List notifications (the outbox), newest first",
    params(ListParams),
    responses(
        (status = 200, description = "One page", body = NotificationPage),
        (status = 400, description = "A parameter is not valid", body = ErrorAnswer),
    ),
    tag = "notifications"
)]
pub async fn list(
    State(app): State<Arc<AppState>>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<NotificationPage>, ApiError> {
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(DeliveryStatus::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "invalid-status",
                format!("status {text:?} is not one of pending, sent, failed, cancelled"),
            )
        })?),
    };
    let query = NotificationQuery {
        status,
        incident: params.incident,
        before: params.before,
        limit: page_limit(params.limit)?,
    };
    let store = app.store.clone();
    let page = read_blocking("notifications".into(), move || store.notifications(&query)).await?;
    Ok(Json(NotificationPage {
        next_before: page.next,
        notifications: page.items.iter().map(views::notification).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/{id}",
    operation_id = "showNotification",
    summary = "One notification",
    params(("id" = u64, Path, minimum = 1, description = "The notification's id")),
    responses(
        (status = 200, description = "The notification", body = NotificationAnswer),
        (status = 400, description = "invalid-id", body = ErrorAnswer),
        (status = 404, description = "unknown-notification", body = ErrorAnswer),
    ),
    tag = "notifications"
)]
pub async fn show(
    State(app): State<Arc<AppState>>,
    NotificationId(id): NotificationId,
) -> Result<Json<NotificationAnswer>, ApiError> {
    let store = app.store.clone();
    let found = read_blocking(format!("notification {id}"), move || store.notification(id)).await?;
    let notification = found.ok_or_else(|| {
        ApiError::not_found("unknown-notification", format!("there is no notification {id}"))
    })?;
    Ok(Json(NotificationAnswer { notification: views::notification(&notification) }))
}

/// `POST /api/v1/notifications/{id}/retry`: a failed notification back in
/// the outbox, due now.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/retry",
    operation_id = "retryNotification",
    summary = "Put a failed notification back in the outbox, due now, with a fresh set of attempts",
    params(("id" = u64, Path, minimum = 1, description = "The notification's id")),
    responses(
        (status = 200, description = "Queued again", body = NotificationAnswer),
        (status = 400, description = "invalid-id", body = ErrorAnswer),
        (status = 404, description = "unknown-notification", body = ErrorAnswer),
        (status = 409, description = "not-failed", body = ErrorAnswer),
    ),
    tag = "notifications"
)]
pub async fn retry(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    NotificationId(id): NotificationId,
) -> Result<Json<NotificationAnswer>, ApiError> {
    let notification =
        app.notify.retry(id, &caller.actor()).await.map_err(|error| match error {
            RetryError::NotFound(_) => {
                ApiError::not_found("unknown-notification", error.to_string())
            }
            RetryError::NotFailed(..) => {
                ApiError::new(StatusCode::CONFLICT, "not-failed", error.to_string())
            }
            RetryError::Storage(_) => ApiError::internal(error.to_string()),
        })?;
    let detail = format!("retried notification {id} of incident {}", notification.incident);
    let client = client.map(|Extension(address)| address.client);
    app.audit(audit::Entry::by(&caller, Action::NotificationRetry, client, detail));
    Ok(Json(NotificationAnswer { notification: views::notification(&notification) }))
}

/// `GET /ack/{token}`: what the link would do, and a button that does it.
#[utoipa::path(
    get,
    path = "/ack/{token}",
    operation_id = "confirmLink",
    summary = "One-click link: a confirmation page; changes nothing",
    params(("token" = String, Path, description = "The signed token of the link")),
    responses(
        (status = 200, description = "The page, with a button that POSTs", body = String, content_type = "text/html"),
        (status = 403, description = "Not a valid link", body = String, content_type = "text/html"),
        (status = 404, description = "Links are off or the incident is unknown", body = String, content_type = "text/html"),
        (status = 410, description = "Expired", body = String, content_type = "text/html"),
    ),
    tag = "links"
)]
pub async fn confirm(
    State(app): State<Arc<AppState>>,
    ApiPath(token): ApiPath<String>,
) -> Response {
    let claims = match verify(&app, &token) {
        Ok(claims) => claims,
        Err(page) => return *page,
    };
    let store = app.store.clone();
    let incident = claims.incident;
    let found = tokio::task::spawn_blocking(move || store.snapshot()?.incident(incident)).await;
    let Ok(Ok(Some(incident))) = found else {
        return page(StatusCode::NOT_FOUND, "Unknown incident", "This incident does not exist.");
    };
    let verb = match claims.action {
        LinkAction::Accept => "Accept",
        LinkAction::Resolve => "Resolve",
    };
    let body = format!(
        "<p>Incident #{} ({}): <strong>{}</strong></p><p>Status: {}</p>\
         <form method=\"post\"><button type=\"submit\">{verb} as {}</button></form>",
        incident.id,
        escape(&incident.source),
        escape(&incident.summary),
        incident.status.as_str(),
        escape(&claims.person),
    );
    page(StatusCode::OK, &format!("{verb} incident #{}", incident.id), &body)
}

/// `POST /ack/{token}`: accepts or resolves as the person the link was sent to.
#[utoipa::path(
    post,
    path = "/ack/{token}",
    operation_id = "actOnLink",
    summary = "One-click link: accept or resolve as the person the link was sent to",
    params(("token" = String, Path, description = "The signed token of the link")),
    responses(
        (status = 200, description = "Done", body = String, content_type = "text/html"),
        (status = 403, description = "Not a valid link", body = String, content_type = "text/html"),
        (status = 404, description = "Links are off or the incident is unknown", body = String, content_type = "text/html"),
        (status = 409, description = "Already resolved", body = String, content_type = "text/html"),
        (status = 410, description = "Expired", body = String, content_type = "text/html"),
    ),
    tag = "links"
)]
pub async fn act(State(app): State<Arc<AppState>>, ApiPath(token): ApiPath<String>) -> Response {
    let claims = match verify(&app, &token) {
        Ok(claims) => claims,
        Err(page) => return *page,
    };
    let to = match claims.action {
        LinkAction::Accept => Status::Accepted,
        LinkAction::Resolve => Status::Resolved,
    };
    let by = format!("{} via {} link", claims.person, claims.channel);
    let actor = respond::Actor { logged: by.clone(), name: claims.person.clone() };
    let config = &app.live.load().config;
    match respond::set_status(&app.store, config, claims.incident, to, &actor, None).await {
        Ok((_, incident)) => {
            tracing::info!(incident = incident.id, by = %by, "incident status set by a one-click link");
            page(
                StatusCode::OK,
                "Done",
                &format!("<p>Incident #{} is now {}.</p>", incident.id, incident.status.as_str()),
            )
        }
        Err(RespondError::NotFound(_)) => {
            page(StatusCode::NOT_FOUND, "Unknown incident", "This incident does not exist.")
        }
        Err(RespondError::Resolved(id)) => page(
            StatusCode::CONFLICT,
            "Already resolved",
            &format!("<p>Incident #{id} is already resolved.</p>"),
        ),
        Err(error) => {
            page(StatusCode::SERVICE_UNAVAILABLE, "Try again", &escape(&error.to_string()))
        }
    }
}

/// The page to answer is boxed: a `Response` is large for an error variant.
fn verify(app: &AppState, token: &str) -> Result<crate::notify::links::Claims, Box<Response>> {
    let setup = app.notify.current();
    let Some(signer) = &setup.links else {
        return Err(Box::new(page(
            StatusCode::NOT_FOUND,
            "Links are off",
            "This host has no [notifications] link_secret, so its links do not work.",
        )));
    };
    signer.verify(token, crate::store::now_millis() / 1000, &setup.config).map_err(|error| {
        let status = match error {
            LinkError::Invalid => StatusCode::FORBIDDEN,
            LinkError::Expired => StatusCode::GONE,
        };
        Box::new(page(status, "Link not usable", &escape(&error.to_string())))
    })
}

/// A minimal page. Every sender- or plugin-provided string is escaped; its
/// security headers (no referrer: the URL holds the token) are added with
/// every HTML answer's (`server::layers::page_headers`).
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">\
         <title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_is_escaped() {
        assert_eq!(super::escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
