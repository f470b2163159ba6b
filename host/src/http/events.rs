//! `POST /api/v1/events/{integration}/{key}`: the webhook senders call.

use super::answers::ErrorAnswer;
use super::answers::EventAnswer;
use super::body::{self, BodyError};
use super::params::ApiPath;
use super::{ApiError, views};
use crate::app::{
    AppState, ClientRateLimited, Live, Overloaded, RateLimited, StorageFull, UnknownSource,
    WebhookSource, signature,
};
use crate::ingest::{Delivered, DeliveryError};
use crate::request_extensions::{ClientAddress, ForSource, RequestId};
use crate::telemetry;
use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Why a webhook was not delivered, in the terms of its cause: the answer's
/// status and the metrics outcome both come from it.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
    #[error(transparent)]
    Unknown(#[from] UnknownSource),
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    ClientRateLimited(#[from] ClientRateLimited),
    #[error(transparent)]
    Signature(#[from] signature::Refused),
    #[error(transparent)]
    StorageFull(#[from] StorageFull),
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

impl Refusal {
    /// The `outcome` label of `inbound_events_total`.
    fn outcome(&self) -> &'static str {
        match self {
            Refusal::Overloaded(_) => "overloaded",
            Refusal::Unknown(_) => "unknown_source",
            Refusal::RateLimited(_) | Refusal::ClientRateLimited(_) => "rate_limited",
            Refusal::Signature(_) => "unauthorized",
            Refusal::StorageFull(_) => "unavailable",
            Refusal::Body(BodyError::TooLarge { .. }) => "too_large",
            Refusal::Body(BodyError::Timeout { .. }) => "slow_body",
            Refusal::Body(BodyError::Unreadable(_)) => "rejected",
            Refusal::Delivery(DeliveryError::Rejected { .. }) => "rejected",
            Refusal::Delivery(DeliveryError::OverBudget(_)) => "rate_limited",
            Refusal::Delivery(
                DeliveryError::PluginFailed { .. }
                | DeliveryError::Contended
                | DeliveryError::Unavailable(_),
            ) => "unavailable",
            Refusal::Delivery(DeliveryError::Storage(_) | DeliveryError::Replay(_)) => "failed",
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Overloaded(error) => error.into(),
            Refusal::Unknown(error) => error.into(),
            Refusal::RateLimited(error) => error.into(),
            Refusal::ClientRateLimited(error) => error.into(),
            Refusal::Signature(error) => error.into(),
            Refusal::StorageFull(error) => error.into(),
            Refusal::Body(error) => error.into(),
            Refusal::Delivery(error) => error.into(),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{integration}/{key}",
    operation_id = "receiveEvent",
    summary = "Receive a webhook for the source with this key",
    description = "The source's plugin maps the body to incident changes; 202 means they are durable.",
    params(
        ("integration" = String, Path, description = "The source's integration, e.g. zendesk"),
        ("key" = String, Path, description = "The source's secret key"),
    ),
    request_body(content = Object, description = "The sender's JSON, as its plugin reads it"),
    responses(
        (status = 202, description = "Stored durably", body = EventAnswer),
        (status = 400, description = "The plugin refused the request as the sender's mistake, or the body is not JSON", body = ErrorAnswer),
        (status = 401, description = "A signing secret is configured and the signature is missing or wrong", body = ErrorAnswer),
        (status = 404, description = "No source has this integration and key (unknown-source)", body = ErrorAnswer),
        (status = 408, description = "The body did not arrive in time", body = ErrorAnswer),
        (status = 413, description = "The body is over server.max_body_bytes", body = ErrorAnswer),
        (status = 429, description = "Over the source's or the client's rate limit (Retry-After)", body = ErrorAnswer),
        (status = 500, description = "The plugin failed and the source does not accept failures", body = ErrorAnswer),
        (status = 503, description = "Overloaded, storage full, or the plugin failed (Retry-After)", body = ErrorAnswer),
    ),
    tag = "events"
)]
pub async fn receive(
    State(app): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    client: Option<Extension<ClientAddress>>,
    ApiPath((integration, key)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    // One version of the config for the whole request, even across a reload.
    let live = app.live.load_full();
    let refused_early = |refusal: Refusal| {
        // Before the source is known: counted without one.
        telemetry::event("", refusal.outcome(), started.elapsed());
        ApiError::from(refusal)
    };
    // First, so a client over its limit takes no place among the webhooks
    // and none of a source's budget.
    if let (Some(limit), Some(Extension(address))) = (&live.client_rate, client) {
        limit.check(address.client).map_err(|error| refused_early(error.into()))?;
    }
    let _admitted = live.gate.admit().map_err(|error| refused_early(error.into()))?;
    let webhook =
        live.sources.find(&integration, &key).map_err(|error| refused_early(error.into()))?;
    let answer = deliver(&live, &webhook, &request_id, headers, body).await;
    telemetry::event(&webhook.source.name, outcome(&answer), started.elapsed());
    // The source is known from here on: a refusal's log line names it.
    let mut response = answer.map_err(ApiError::from).into_response();
    response.extensions_mut().insert(ForSource(webhook.source.name.clone()));
    Ok(response)
}

fn outcome(answer: &Result<(StatusCode, Json<EventAnswer>), Refusal>) -> &str {
    match answer {
        Ok((_, body)) => body.action.as_str(),
        Err(refusal) => refusal.outcome(),
    }
}

async fn deliver(
    live: &Live,
    webhook: &WebhookSource,
    request_id: &RequestId,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<EventAnswer>), Refusal> {
    let started = Instant::now();
    let source = &webhook.source;
    if let Some(rate) = &webhook.rate {
        rate.check(&source.name)?;
    }
    live.check_free_space()?;
    // Unsigned or stale requests are refused before their body is read.
    let signed = match &webhook.signing {
        Some(signing) => Some(signing.check_headers(&headers, SystemTime::now())?),
        None => None,
    };
    let body = body::read(&headers, body, live.body_limit, live.body_read_timeout).await?;
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
    let delivered = live.ingest.deliver(source, header_list, body).await?;
    telemetry::plugin_call(&source.integration, delivered.plugin_time.as_secs_f64());

    let answer = answer(&delivered);
    // Never the URL: its path holds the source's key.
    tracing::info!(
        request_id = %request_id.0,
        source = %source.name,
        action = %answer.action.as_str(),
        incident = delivered.outcomes.first().map(|(_, i)| i.id),
        plugin_us = delivered.plugin_time.as_micros() as u64,
        latency_us = started.elapsed().as_micros() as u64,
        "webhook"
    );
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// The `202` body for a delivered event: the first outcome in full, every
/// outcome by id.
pub fn answer(delivered: &Delivered) -> EventAnswer {
    views::event_answer(&delivered.outcomes, delivered.failure)
}
