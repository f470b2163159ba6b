//! Failed deliveries: events whose plugin call failed, kept for replay.

use super::error::read_blocking;
use super::params::{ApiQuery, FailureId, QueryParams, page_limit};
use super::{ApiError, views};
use crate::app::audit::{self, Action};
use crate::app::{AppState, Caller};
use crate::request_extensions::ClientAddress;
use crate::store::FailedDelivery;
use axum::Json;
use axum::extract::{Extension, State};
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

impl QueryParams for ListParams {
    const ACCEPTED: &'static str = "before, limit (1-500)";
}

/// `GET /api/v1/failed?before=&limit=`, newest first.
pub async fn list(
    State(app): State<Arc<AppState>>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(params.limit)?;
    let store = app.store.clone();
    let page =
        read_blocking("failed deliveries".into(), move || store.failures(params.before, limit))
            .await?;
    let failures: Vec<Value> = page.items.iter().map(view).collect();
    Ok(Json(json!({"failed_deliveries": failures, "next_before": page.next})))
}

/// `GET /api/v1/failed/{id}`: the record and the original body.
pub async fn show(
    State(app): State<Arc<AppState>>,
    FailureId(id): FailureId,
) -> Result<Json<Value>, ApiError> {
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
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    FailureId(id): FailureId,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    let (action, incident) = match delivered.outcomes.first() {
        Some((action, incident)) => (json!(action), json!(views::incident(incident))),
        None => (json!("unchanged"), Value::Null),
    };
    Ok((StatusCode::OK, Json(json!({"replayed": id, "action": action, "incident": incident}))))
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
