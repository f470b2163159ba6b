//! `GET /ui/maintenance`: maintenance windows (the config's and run-time
//! ones), a form to start one for a few hours and buttons to end one early
//! (responder), and the heartbeats with their last ping. Windows go through
//! the same checks, storage and audit as the API's (`app::maintenance`).

use crate::app::maintenance::{self, MaintenanceError, NewWindow};
use crate::config::noise::AfterWindow;
use crate::heartbeats;
use crate::request_extensions::ClientAddress;
use crate::roles::Role;
use crate::store::now_millis;
use crate::ui::csrf;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, time};
use crate::ui::{Console, UiError};
use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

/// The spans the form offers, in hours.
const WINDOW_HOURS: [u32; 6] = [1, 2, 4, 8, 12, 24];

#[derive(Template)]
#[template(path = "quiet.html")]
struct QuietPage {
    chrome: Chrome,
    csrf: String,
    windows: Vec<WindowRow>,
    heartbeats: Vec<HeartbeatRow>,
    sources: Vec<String>,
    may_change: bool,
    window_hours: &'static [u32],
    notice: Option<String>,
}

struct WindowRow {
    name: String,
    path: String,
    state: &'static str,
    from: Time,
    until: Time,
    covers: String,
    after: &'static str,
    created_by: String,
    may_end: bool,
}

struct HeartbeatRow {
    name: String,
    state: &'static str,
    every: String,
    last_ping: Option<Time>,
    due_at: Option<Time>,
    incident: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    done: Option<String>,
}

pub async fn show(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    axum::extract::Query(params): axum::extract::Query<Params>,
) -> Result<Response, UiError> {
    let now = now_millis();
    let windows = maintenance::list(&console.app).await.map_err(ui_error)?;
    let (store, setup) = (console.app.store.clone(), console.app.notify.current());
    let listed = {
        let setup = setup.clone();
        tokio::task::spawn_blocking(move || heartbeats::list(&setup.config, &store))
            .await
            .map_err(|error| UiError::internal(error.to_string()))?
            .map_err(|error| UiError::internal(error.to_string()))?
    };
    let may_change = signed_in.may(Role::Responder);
    page(QuietPage {
        chrome: signed_in.chrome("maintenance"),
        csrf: signed_in.session.csrf.clone(),
        windows: windows
            .iter()
            .filter(|window| window.state(now) != "ended" || window.until + 86_400_000 > now)
            .map(|window| {
                let mut covers = if window.sources.is_empty() {
                    "every source".to_string()
                } else {
                    window.sources.join(", ")
                };
                if !window.priorities.is_empty() {
                    covers.push_str(&format!(" (priority {})", window.priorities.join(", ")));
                }
                WindowRow {
                    path: crate::ui::session::urlencode(&window.name),
                    name: window.name.clone(),
                    state: window.state(now),
                    from: time(window.from),
                    until: time(window.until),
                    covers,
                    after: match window.after {
                        AfterWindow::Escalate => "pages from level 1",
                        AfterWindow::Quiet => "stays quiet",
                    },
                    created_by: window.created_by.clone(),
                    may_end: may_change && !window.is_from_config() && window.until > now,
                }
            })
            .collect(),
        heartbeats: listed
            .into_iter()
            .map(|h| HeartbeatRow {
                name: h.name,
                state: h.state,
                every: format!("{} min (+{} grace)", h.interval_minutes, h.grace_minutes),
                last_ping: h.last_ping.map(time),
                due_at: h.due_at.map(time),
                incident: h.incident,
            })
            .collect(),
        sources: setup.config.sources.iter().map(|s| s.name.clone()).collect(),
        may_change,
        window_hours: &WINDOW_HOURS,
        notice: params.done.as_deref().map(|done| match done {
            "ended" => "Window ended: what it held pages now, unless it says to stay quiet.".into(),
            _ => "Window started: levels due in it page nobody until it ends.".into(),
        }),
    })
}

#[derive(Debug, Deserialize)]
pub struct StartForm {
    csrf: Option<String>,
    name: Option<String>,
    hours: Option<u32>,
    /// Empty: every source.
    source: Option<String>,
    after: Option<String>,
}

/// `POST /ui/maintenance`: a window from now for the chosen hours.
pub async fn start(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    form: Result<Form<StartForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let hours = form.hours.unwrap_or(2);
    if !WINDOW_HOURS.contains(&hours) {
        return Err(UiError::bad_request(format!("{hours} hours is not one of the spans offered")));
    }
    let after = match form.after.as_deref() {
        None | Some("") | Some("escalate") => AfterWindow::Escalate,
        Some("quiet") => AfterWindow::Quiet,
        Some(other) => {
            return Err(UiError::bad_request(format!("{other:?} is not escalate or quiet")));
        }
    };
    let new = NewWindow {
        name: form.name.unwrap_or_default(),
        minutes: Some(u64::from(hours) * 60),
        sources: form.source.filter(|s| !s.is_empty()).into_iter().collect(),
        after,
        ..NewWindow::default()
    };
    let client = client.map(|Extension(address)| address.client);
    maintenance::start(&console.app, &signed_in.caller, client, new).await.map_err(ui_error)?;
    Ok(Redirect::to("/ui/maintenance?done=started").into_response())
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    csrf: Option<String>,
}

/// `POST /ui/maintenance/{name}/end`.
pub async fn end(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<Extension<ClientAddress>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    form: Result<Form<EndForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let client = client.map(|Extension(address)| address.client);
    maintenance::end(&console.app, &signed_in.caller, client, &name).await.map_err(ui_error)?;
    Ok(Redirect::to("/ui/maintenance?done=ended").into_response())
}

fn ui_error(error: MaintenanceError) -> UiError {
    match error {
        MaintenanceError::Invalid(_, message) => UiError::bad_request(message),
        MaintenanceError::Conflict(message) => {
            UiError::new(StatusCode::CONFLICT, "Conflict", message)
        }
        MaintenanceError::NotFound(message) => UiError::not_found(message),
        MaintenanceError::Storage(message) => UiError::internal(message),
    }
}
