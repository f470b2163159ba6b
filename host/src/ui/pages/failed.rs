//! `GET /ui/failed` and `/ui/failed/{id}`: events whose plugin call failed;
//! `POST /ui/failed/{id}/replay` runs one again through the ingest path.

use crate::app::audit::{self, Action};
use crate::store::FailedDelivery;
use crate::ui::error::read;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, readable_body, size, time};
use crate::ui::{Console, UiError, csrf};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

const PAGE: usize = 50;

#[derive(Debug, Deserialize)]
pub struct ListParams {
    before: Option<String>,
}

pub struct Row {
    id: u64,
    source: String,
    error_code: String,
    received: Time,
    attempts: u32,
    replayed: bool,
}

#[derive(Template)]
#[template(path = "failed_list.html")]
struct FailedList {
    chrome: Chrome,
    rows: Vec<Row>,
    older_href: Option<String>,
}

pub async fn list(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, UiError> {
    let Query(params) = params.map_err(super::query_error)?;
    let before = super::parse_optional_id(params.before.as_deref(), "a failed delivery id")?;
    let store = console.app.store.clone();
    let listed = read("failed deliveries", move || store.failures(before, PAGE)).await?;
    let rows = listed
        .items
        .iter()
        .map(|f| Row {
            id: f.id,
            source: f.source.clone(),
            error_code: f.error_code.clone(),
            received: time(f.received_at),
            attempts: f.attempts,
            replayed: f.replayed.is_some(),
        })
        .collect();
    page(FailedList {
        chrome: signed_in.chrome("failed"),
        rows,
        older_href: listed.next.map(|before| format!("/ui/failed?before={before}")),
    })
}

#[derive(Debug, Deserialize)]
pub struct ShowParams {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "failed.html")]
struct FailedPage {
    chrome: Chrome,
    csrf: String,
    id: u64,
    source: String,
    integration: String,
    received: Time,
    error_code: String,
    error: String,
    attempts: u32,
    fallback_incident: Option<u64>,
    replayed: Option<String>,
    notice: Option<String>,
    body: String,
    body_size: String,
    headers: Vec<(String, String)>,
}

pub async fn show(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    params: Result<Query<ShowParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, UiError> {
    let Query(params) = params.map_err(super::query_error)?;
    let id = super::parse_id(&id, "a failed delivery id")?;
    let (failure, body) = find(&console, id).await?;
    let notice = match params.done.as_deref() {
        Some("replayed") => Some(replayed_text(&failure).unwrap_or_else(|| "Replayed.".into())),
        _ => None,
    };
    let body = String::from_utf8_lossy(&body);
    page(FailedPage {
        chrome: signed_in.chrome("failed"),
        csrf: signed_in.session.csrf.clone(),
        id,
        source: failure.source.clone(),
        integration: failure.integration.clone(),
        received: time(failure.received_at),
        error_code: failure.error_code.clone(),
        error: failure.error.clone(),
        attempts: failure.attempts,
        fallback_incident: failure.fallback_incident,
        replayed: replayed_text(&failure),
        notice,
        body: readable_body(&body),
        body_size: size(failure.body_bytes),
        headers: failure.headers.clone(),
    })
}

fn replayed_text(failure: &FailedDelivery) -> Option<String> {
    let replayed = failure.replayed.as_ref()?;
    let action = serde_json::json!(replayed.action);
    let action = action.as_str().unwrap_or("replayed");
    Some(match replayed.incident {
        Some(incident) => {
            format!("Replayed {}: incident {incident} {action}.", time(replayed.at).text)
        }
        None => format!("Replayed {}: no incident concerned ({action}).", time(replayed.at).text),
    })
}

async fn find(console: &Console, id: u64) -> Result<(FailedDelivery, Vec<u8>), UiError> {
    let store = console.app.store.clone();
    read("the failed delivery", move || store.failure(id))
        .await?
        .ok_or_else(|| UiError::not_found(format!("There is no failed delivery {id}.")))
}

#[derive(Debug, Deserialize)]
pub struct ReplayForm {
    csrf: Option<String>,
}

pub async fn replay(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<axum::Extension<crate::request_extensions::ClientAddress>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ReplayForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let id = super::parse_id(&id, "a failed delivery id")?;
    let (failure, _) = find(&console, id).await?;
    let live = console.app.live.load_full();
    let source = live.sources.by_name(&failure.source).ok_or_else(|| {
        UiError::new(
            StatusCode::CONFLICT,
            "Source gone",
            format!(
                "The source {:?} is no longer configured; add it back to replay this event.",
                failure.source
            ),
        )
    })?;
    live.ingest.replay(id, &source).await.map_err(UiError::from)?;
    tracing::info!(failed_delivery = id, by = %signed_in.caller.name, "replayed in the console");
    let detail =
        format!("replayed failed delivery {id} of source {} in the console", failure.source);
    let client = client.map(|axum::Extension(address)| address.client);
    console.app.audit(audit::Entry::by(&signed_in.caller, Action::FailedReplay, client, detail));
    Ok(Redirect::to(&format!("/ui/failed/{id}?done=replayed")).into_response())
}
