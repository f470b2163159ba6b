//! Heartbeats: `POST /api/v1/heartbeats/{key}` is the ping (open: the key
//! is the credential, as a webhook URL's is); `GET /api/v1/heartbeats`
//! (viewer) lists each with its last ping.

use super::answers::ErrorAnswer;
use super::answers::{HeartbeatPage, HeartbeatView, Pinged};
use super::error::read_blocking;
use super::params::ApiPath;
use super::{ApiError, views};
use crate::app::AppState;
use crate::heartbeats;
use crate::store::{CommitError, Retried, now_millis};
use axum::Json;
use axum::extract::State;
use std::sync::Arc;

/// `POST /api/v1/heartbeats/{key}`: the sender is alive.
#[utoipa::path(
    post,
    path = "/api/v1/heartbeats/{key}",
    operation_id = "pingHeartbeat",
    summary = "A heartbeat's ping: the sender is alive; resolves the incident of a miss",
    params(("key" = String, Path, description = "The heartbeat's secret key")),
    responses(
        (status = 200, description = "Pinged", body = Pinged),
        (status = 404, description = "unknown-heartbeat", body = ErrorAnswer),
        (status = 503, description = "Storage is unavailable or full", body = ErrorAnswer),
    ),
    tag = "noise"
)]
pub async fn ping(
    State(app): State<Arc<AppState>>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Pinged>, ApiError> {
    let setup = app.notify.current();
    let Some(heartbeat) = heartbeats::by_key(&setup.config, &key) else {
        return Err(ApiError::not_found(
            "unknown-heartbeat",
            "no heartbeat has this key; copy the ping URL from `inbound heartbeats list`",
        ));
    };
    let time_scale = setup.config.notifications.time_scale;
    let pinged = heartbeats::ping(&app.store, heartbeat, time_scale, now_millis()).await.map_err(
        |error| match error {
            Retried::Attempt(error) => ApiError::from(error),
            Retried::Commit(CommitError::Unavailable(why)) => {
                ApiError::from(crate::store::Error::Unavailable(why))
            }
            Retried::Commit(error) => ApiError::internal(format!("storage failure: {error}")),
            Retried::Contended => ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "contended",
                "too many pings at once; try again",
            )
            .retry_after(1),
        },
    )?;
    Ok(Json(Pinged {
        heartbeat: heartbeat.name.clone(),
        next_due: views::timestamp(pinged.next_due),
        resolved: pinged.resolved,
    }))
}

/// `GET /api/v1/heartbeats`.
#[utoipa::path(
    get,
    path = "/api/v1/heartbeats",
    operation_id = "listHeartbeats",
    summary = "Heartbeats with their last ping",
    responses(
        (status = 200, description = "The heartbeats", body = HeartbeatPage),
    ),
    tag = "noise"
)]
pub async fn list(State(app): State<Arc<AppState>>) -> Result<Json<HeartbeatPage>, ApiError> {
    let (store, setup) = (app.store.clone(), app.notify.current());
    let listed =
        read_blocking("heartbeats".into(), move || heartbeats::list(&setup.config, &store)).await?;
    let heartbeats = listed
        .into_iter()
        .map(|h| HeartbeatView {
            due_at: h.due_at.map(views::timestamp),
            escalation_policy: h.escalation_policy,
            grace_minutes: h.grace_minutes,
            incident: h.incident,
            interval_minutes: h.interval_minutes,
            last_ping: h.last_ping.map(views::timestamp),
            name: h.name,
            state: h.state.to_string(),
        })
        .collect();
    Ok(Json(HeartbeatPage { heartbeats }))
}
