//! `POST /api/v1/channels/{name}/inbound`: a person's SMS reply to a page,
//! posted by the channel's provider and signed with the channel's secret
//! (`app/replies.rs`). Open: the signature is the credential; only a channel
//! with `replies = true` takes replies. The answer is TwiML, which the
//! provider texts back to the person.

use super::ApiError;
use super::answers::ErrorAnswer;
use super::error::read_blocking;
use super::params::ApiPath;
use crate::app::AppState;
use crate::app::replies::{self, Command};
use crate::respond::{self, Actor};
use crate::roles::Role;
use crate::store::{DeliveryStatus, NotificationKind, NotificationQuery, Status};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Notifications scanned for "the newest page this person got" (`1`, `ACK`).
const NEWEST_SCANNED: usize = 500;

/// The form fields of a reply that the handler reads (the provider posts
/// more); described for the OpenAPI document, parsed field by field.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, non_snake_case)]
struct SmsReply {
    /// The person's number.
    From: String,
    /// `ACK 42`, `1`, `RESOLVE 42`.
    Body: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/channels/{name}/inbound",
    operation_id = "receiveChannelReply",
    summary = "A person's SMS reply to a page (ACK 42, 1, RESOLVE 42), posted by the channel's provider and signed with the channel's secret (X-Twilio-Signature)",
    params(("name" = String, Path, description = "The channel's name"), ("X-Twilio-Signature" = String, Header, description = "The provider's signature of the URL and the form")),
    request_body(content = inline(SmsReply), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "TwiML the provider texts back: what was done, or how to reply", body = String, content_type = "text/xml"),
        (status = 403, description = "The signature is missing or wrong", body = ErrorAnswer),
        (status = 404, description = "No channel of this name takes replies", body = ErrorAnswer),
    ),
    tag = "on call"
)]
pub async fn receive(
    State(app): State<Arc<AppState>>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let live = app.live.load();
    let config = &live.config;
    // One answer for a channel that does not exist and one that takes no
    // replies: a caller without the secret learns nothing about channels.
    let secret = config
        .channel(&name)
        .filter(|channel| channel.replies)
        .and_then(|channel| channel.signing_secret.as_deref());
    let Some(secret) = secret else {
        return Err(ApiError::not_found(
            "replies-off",
            format!(
                "no channel {name:?} takes replies; a channel needs replies = true and its signing_secret (the provider's auth token)"
            ),
        ));
    };
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let url = format!("{}/api/v1/channels/{name}/inbound", config.public_url());
    let signature = headers
        .get(replies::SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !replies::verify(secret, &url, &params, signature) {
        tracing::warn!(channel = %name, "a reply with a missing or wrong X-Twilio-Signature was refused");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "signature-invalid",
            format!("the X-Twilio-Signature does not match this channel's secret for {url}"),
        ));
    }
    let param = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let from = param("From").unwrap_or_default();
    // Replies act as the person: only someone who may answer pages.
    let person = config.people.iter().find(|person| {
        person.role >= Role::Responder
            && person
                .contacts
                .iter()
                .any(|c| c.channel == name && replies::same_number(&c.address, from))
    });
    let Some(person) = person else {
        tracing::warn!(channel = %name, "a signed reply from a number no responder has on this channel was refused");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "unknown-sender",
            format!("no responder has {from:?} as a contact on channel {name:?}"),
        ));
    };
    let Some(command) = replies::parse(param("Body").unwrap_or_default()) else {
        return Ok(twiml("inbound: reply ACK <number> to accept, RESOLVE <number> to resolve."));
    };
    let (to, asked) = match command {
        Command::Accept(id) => (Status::Accepted, id),
        Command::Resolve(id) => (Status::Resolved, id),
    };
    let id = match asked {
        Some(id) => id,
        None => match newest_page(&app, &person.name, &name).await? {
            Some(id) => id,
            None => return Ok(twiml("inbound: no page to you on this channel to answer.")),
        },
    };
    let by =
        Actor { logged: format!("{} via {name} reply", person.name), name: person.name.clone() };
    let answer = match respond::set_status(&app.store, config, id, to, &by, None).await {
        Ok((action, _)) => {
            tracing::info!(incident = id, person = %person.name, channel = %name, "incident status set by a reply");
            let done = serde_json::to_value(action).unwrap_or_default();
            format!("inbound: #{id} {}.", done.as_str().unwrap_or("done"))
        }
        Err(error) => format!("inbound: #{id} not changed: {error}"),
    };
    Ok(twiml(&answer))
}

/// The incident of the newest page `person` was sent on `channel`: sent,
/// not merely written (a person's later rule is written when the level
/// fires and sent minutes later, or never).
async fn newest_page(app: &AppState, person: &str, channel: &str) -> Result<Option<u64>, ApiError> {
    let store = app.store.clone();
    let query = NotificationQuery {
        status: Some(DeliveryStatus::Sent),
        incident: None,
        before: None,
        limit: NEWEST_SCANNED,
    };
    let page = read_blocking("notifications".into(), move || store.notifications(&query)).await?;
    Ok(page
        .items
        .iter()
        .filter(|n| {
            n.kind == NotificationKind::Triggered
                && n.recipient.channel == channel
                && n.recipient.person.as_deref() == Some(person)
        })
        .max_by_key(|n| n.sent_at)
        .map(|n| n.incident))
}

fn twiml(message: &str) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], replies::twiml(message)).into_response()
}
