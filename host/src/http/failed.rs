//! Failed deliveries: events whose plugin call failed, kept for replay.

use super::answers::ErrorAnswer;
use super::answers::{FailedDetail, FailedPage, FailedReplayed};
use super::error::read_blocking;
use super::params::{ApiQuery, FailureId, QueryParams, page_limit};
use super::{ApiError, views};
use crate::app::audit::{self, Action};
use crate::app::{AppState, Caller};
use crate::request_extensions::ClientAddress;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `next_before` of the previous page.
    before: Option<u64>,
    /// Failed deliveries per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

impl QueryParams for ListParams {
    const ACCEPTED: &'static str = "before, limit (1-500)";
}

/// `GET /api/v1/failed?before=&limit=`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/failed",
    operation_id = "listFailedDeliveries",
    summary = "List failed deliveries, newest first",
    params(ListParams),
    responses(
        (status = 200, description = "A page of failed deliveries", body = FailedPage),
        (status = 400, description = "A parameter is not valid", body = ErrorAnswer),
    ),
    tag = "failed deliveries"
)]
pub async fn list(
    State(app): State<Arc<AppState>>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<FailedPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let store = app.store.clone();
    let page =
        read_blocking("failed deliveries".into(), move || store.failures(params.before, limit))
            .await?;
    Ok(Json(FailedPage {
        failed_deliveries: page.items.iter().map(views::failed_delivery).collect(),
        next_before: page.next,
    }))
}

/// `GET /api/v1/failed/{id}`: the record and the original body.
#[utoipa::path(
    get,
    path = "/api/v1/failed/{id}",
    operation_id = "showFailedDelivery",
    summary = "A failed delivery with its original body",
    params(("id" = u64, Path, minimum = 1, description = "The failed delivery's id")),
    responses(
        (status = 200, description = "The failed delivery; `body` is the request body as text", body = FailedDetail),
        (status = 400, description = "invalid-id", body = ErrorAnswer),
        (status = 404, description = "unknown-failed-delivery", body = ErrorAnswer),
    ),
    tag = "failed deliveries"
)]
pub async fn show(
    State(app): State<Arc<AppState>>,
    FailureId(id): FailureId,
) -> Result<Json<FailedDetail>, ApiError> {
    let store = app.store.clone();
    let (failure, body) = read_blocking(format!("failed delivery {id}"), move || store.failure(id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown-failed-delivery",
                format!("there is no failed delivery {id}"),
            )
        })?;
    Ok(Json(FailedDetail {
        body: String::from_utf8_lossy(&body).into_owned(),
        delivery: views::failed_delivery(&failure),
    }))
}

/// `POST /api/v1/failed/{id}/replay`: runs the event through its source's
/// current plugin; on success the changes and the replay record commit together.
#[utoipa::path(
    post,
    path = "/api/v1/failed/{id}/replay",
    operation_id = "replayFailedDelivery",
    summary = "Run a failed delivery through its source's current plugin again",
    params(("id" = u64, Path, minimum = 1, description = "The failed delivery's id")),
    responses(
        (status = 200, description = "Replayed; its changes and the replay record were committed together", body = FailedReplayed),
        (status = 400, description = "invalid-id, or the plugin refused the event", body = ErrorAnswer),
        (status = 404, description = "unknown-failed-delivery", body = ErrorAnswer),
        (status = 409, description = "Already replayed, or its source is no longer configured", body = ErrorAnswer),
        (status = 503, description = "The plugin failed again, or storage is unavailable", body = ErrorAnswer),
    ),
    tag = "failed deliveries"
)]
pub async fn replay(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    FailureId(id): FailureId,
) -> Result<Json<FailedReplayed>, ApiError> {
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
    let source = live.sources.by_name(&failure.source).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "unknown-source",
            format!(
                "source {:?} is no longer configured; add it back to replay this event",
                failure.source
            ),
        )
    })?;
    let delivered = live.ingest.replay(id, &source).await?;
    let detail = format!("replayed failed delivery {id} of source {}", failure.source);
    let client = client.map(|Extension(address)| address.client);
    app.audit(audit::Entry::by(&caller, Action::FailedReplay, client, detail));
    let answer = views::event_answer(&delivered.outcomes, None);
    Ok(Json(FailedReplayed { action: answer.action, incident: answer.incident, replayed: id }))
}
