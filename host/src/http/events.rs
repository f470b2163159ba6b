//! `POST /api/v1/events/{integration}/{key}`: the webhook senders call.

use super::path::PathParams;
use super::request_log::{ForSource, RequestId};
use super::{ApiError, AppState, Live, views};
use crate::ingest::{Delivered, DeliveryError, Source};
use crate::telemetry;
use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use subtle::ConstantTimeEq;

pub async fn receive(
    State(app): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    PathParams((integration, key)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // One version of the config for the whole request, even across a reload.
    let live = app.live.load_full();
    let _admitted = live.limits.admit().inspect_err(|_| telemetry::event("", "overloaded"))?;
    let source = find_source(&live, &integration, &key)
        .inspect_err(|_| telemetry::event("", "unknown_source"))?;
    let answer = match live.limits.check_rate(&source.name) {
        Ok(()) => deliver(&live, &source, &request_id, headers, body).await,
        Err(limited) => Err(limited),
    };
    let outcome = match &answer {
        Ok((_, body)) => body["action"].as_str().unwrap_or("unchanged"),
        Err(error) if error.status == StatusCode::UNAUTHORIZED => "unauthorized",
        Err(error) if error.status == StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        Err(error) if error.status == StatusCode::REQUEST_TIMEOUT => "slow_body",
        Err(error) if error.status == StatusCode::BAD_REQUEST => "rejected",
        Err(error) if error.status == StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        Err(error) if error.status == StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        Err(_) => "failed",
    };
    telemetry::event(&source.name, outcome);
    // The source is known from here on: a refusal's log line names it.
    let mut response = answer.into_response();
    response.extensions_mut().insert(ForSource(source.name.clone()));
    Ok(response)
}

async fn deliver(
    live: &Live,
    source: &Source,
    request_id: &RequestId,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let started = Instant::now();
    // Unsigned or stale requests are refused before their body is read.
    let signed = match live.signing.get(&source.name) {
        Some(signing) => Some(signing.check_headers(&headers, SystemTime::now())?),
        None => None,
    };
    let body = read_body(&headers, body, live.body_limit, live.body_read_timeout).await?;
    if let Some(signed) = signed {
        signed.verify(&body)?;
    }
    let header_list = headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();

    // A failure is logged once, as a refusal, by `request_log`.
    let delivered = live.ingest.deliver(source, header_list, body).await.map_err(delivery_error)?;
    telemetry::plugin_call(&source.integration, delivered.plugin_time.as_secs_f64());

    let answer = answer(&delivered);
    // Never the URL: its path holds the source's key.
    tracing::info!(
        request_id = %request_id.0,
        source = %source.name,
        action = %answer["action"].as_str().unwrap_or_default(),
        incident = delivered.outcomes.first().map(|(_, i)| i.id),
        plugin_us = delivered.plugin_time.as_micros() as u64,
        latency_us = started.elapsed().as_micros() as u64,
        "webhook"
    );
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// The `202` body for a delivered event: the first outcome in full, every
/// outcome by id.
pub fn answer(delivered: &Delivered) -> Value {
    let (action, incident) = match delivered.outcomes.first() {
        Some((action, incident)) => (json!(action), views::incident(incident)),
        None => (json!("unchanged"), Value::Null),
    };
    let outcomes: Vec<Value> = delivered
        .outcomes
        .iter()
        .map(|(action, incident)| json!({"action": action, "incident_id": incident.id}))
        .collect();
    let mut answer = json!({"action": action, "incident": incident, "outcomes": outcomes});
    if let Some(failure) = delivered.failure {
        answer["failed_delivery"] = json!(failure);
    }
    answer
}

/// Finds the source whose key matches. Every candidate key is compared in
/// constant time, so timing reveals nothing about how much of a key matched.
fn find_source(live: &Live, integration: &str, key: &str) -> Result<Arc<Source>, ApiError> {
    let candidates = live.sources.get(integration).ok_or_else(|| {
        ApiError::not_found(
            "unknown-integration",
            format!("no source uses the integration {integration:?}"),
        )
    })?;
    let mut found = None;
    for source in candidates {
        if bool::from(source.key.as_bytes().ct_eq(key.as_bytes())) {
            found = Some(source.clone());
        }
    }
    found.ok_or_else(|| {
        ApiError::not_found(
            "unknown-key",
            format!(
                "no {integration} source has this key; copy the webhook URL from `inbound check`"
            ),
        )
    })
}

async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<bytes::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!(
                "the request body is larger than the {limit} bytes this host accepts (server.body_limit_bytes)"
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    // A sender trickling its body would hold a place among the webhooks
    // being handled (server.max_concurrent_webhooks) for as long as it likes.
    let read =
        tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await.map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                format!(
                    "the request body did not arrive within {} ms (server.body_read_timeout_ms)",
                    deadline.as_millis()
                ),
            )
        })?;
    read.map_err(|error| {
        let over_limit =
            std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
                .any(|e| e.to_string().contains("length limit exceeded"));
        if over_limit {
            too_large()
        } else {
            ApiError::bad_request(
                "body-unreadable",
                format!("cannot read the request body: {error}"),
            )
        }
    })
}

pub fn delivery_error(error: DeliveryError) -> ApiError {
    match error {
        DeliveryError::Rejected { code, message } => ApiError::bad_request(code, message),
        DeliveryError::PluginFailed { error, failure, retry_after } => {
            let answer = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                error.code().to_string(),
                format!(
                    "{error}; the event is kept as failed delivery {failure} and can be replayed"
                ),
            );
            if retry_after > 0 { answer.retry_after(retry_after) } else { answer }
        }
        DeliveryError::Storage(message) => {
            ApiError::internal(format!("the event was not stored: {message}"))
        }
        DeliveryError::Contended => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "contended",
            "too many simultaneous changes to the same incident; nothing was stored, retry",
        )
        .retry_after(1),
        DeliveryError::Replay(message) => {
            ApiError::new(StatusCode::CONFLICT, "replay-refused", message)
        }
    }
}
