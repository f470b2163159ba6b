//! `GET /ui/incidents/{id}`: one incident, its fields, links and a page of its
//! log; `POST .../accept` and `.../resolve` act on it through
//! [`crate::respond`], the path the API takes.

use super::incidents::{name, priority};
use crate::respond;
use crate::roles::Role;
use crate::store::NotificationQuery;
use crate::store::{LogEntry, LogKind, Status};
use crate::ui::error::read;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, WebLink, readable_body, size, time, web_link};
use crate::ui::{Console, UiError, csrf};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

/// The newest notifications the escalation panel lists.
const NOTIFICATIONS_SHOWN: usize = 50;
/// Log entries per page: received bodies can be large.
const LOG_PAGE: usize = 25;

#[derive(Debug, Deserialize)]
pub struct Params {
    log_before: Option<String>,
    done: Option<String>,
}

pub struct Entry {
    kind: &'static str,
    at: Time,
    headline: String,
    text: Option<String>,
    body: Option<Body>,
}

pub struct Body {
    size: String,
    truncated: bool,
    text: String,
    headers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    chrome: Chrome,
    csrf: String,
    id: u64,
    status: &'static str,
    summary: String,
    details: String,
    priority: &'static str,
    urgency: &'static str,
    source: String,
    escalation_policy: String,
    key: String,
    created: Time,
    updated: Time,
    url: Option<WebLink>,
    links: Vec<(String, WebLink)>,
    can_accept: bool,
    can_resolve: bool,
    can_note: bool,
    /// The source acts back on its sender: a note reaches it too.
    tells_sender: bool,
    notice: Option<String>,
    log: Vec<Entry>,
    older_href: Option<String>,
    newer_href: Option<String>,
    escalation: Option<super::escalation::EscalationView>,
    /// The store's change count at render: the live feed starts there.
    generation: u64,
}

pub async fn show(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, UiError> {
    let Query(params) = params.map_err(super::query_error)?;
    let id = super::parse_id(&id, "an incident id")?;
    let log_before = super::parse_optional_id(params.log_before.as_deref(), "a log position")?;
    let store = console.app.store.clone();
    let generation = *store.watch_changes().borrow();
    let (incident, log, escalation, notifications) = read("the incident", move || {
        let incident = store.snapshot()?.incident(id)?;
        let log = store.log_before(id, log_before, LOG_PAGE)?;
        let escalation = store.escalation_of(id)?;
        let query = NotificationQuery {
            incident: Some(id),
            limit: NOTIFICATIONS_SHOWN,
            ..Default::default()
        };
        let notifications = store.notifications(&query)?;
        Ok::<_, anyhow::Error>((incident, log, escalation, notifications))
    })
    .await?;
    let setup = console.app.notify.current();
    let escalation = escalation.map(|escalation| {
        super::escalation::view(&setup.config, &escalation, &notifications.items)
    });
    let incident =
        incident.ok_or_else(|| UiError::not_found(format!("There is no incident {id}.")))?;
    let notice = params.done.as_deref().and_then(notice);
    let template = IncidentPage {
        chrome: signed_in.chrome("incidents"),
        csrf: signed_in.session.csrf.clone(),
        id,
        status: name(incident.status),
        summary: incident.summary.clone(),
        details: incident.details.clone(),
        priority: priority(&incident),
        urgency: crate::noise::urgency(&setup.config, &incident).as_str(),
        source: incident.source.clone(),
        escalation_policy: incident.escalation_policy.clone(),
        key: incident.key.clone(),
        created: time(incident.created_at),
        updated: time(incident.updated_at),
        url: incident.url.as_deref().map(web_link),
        links: incident.links.iter().map(|l| (l.label.clone(), web_link(&l.url))).collect(),
        // A viewer sees no buttons: the route would answer 403 anyway.
        can_accept: incident.status == Status::Pending && signed_in.may(Role::Responder),
        can_resolve: incident.status.is_open() && signed_in.may(Role::Responder),
        can_note: signed_in.may(Role::Responder),
        tells_sender: console.app.live.load().config.outbound(&incident.source).is_some(),
        notice,
        log: log.items.iter().map(|(_, entry)| describe(entry)).collect(),
        older_href: log.next.map(|b| format!("/ui/incidents/{id}?log_before={b}")),
        newer_href: log_before.map(|_| format!("/ui/incidents/{id}")),
        escalation,
        generation,
    };
    page(template)
}

/// ", and N identical ones, the last at T", for a counted repeat.
fn repeated(repeats: u32, last_at: Option<u64>) -> String {
    match (repeats, last_at) {
        (0, _) => String::new(),
        (1, Some(at)) => format!(" (and 1 identical one, at {})", time(at).text),
        (n, Some(at)) => format!(" (and {n} identical ones, the last at {})", time(at).text),
        (n, None) => format!(" (and {n} identical ones)"),
    }
}

/// The sentence shown after an action, from the redirect's `done`.
fn notice(done: &str) -> Option<String> {
    Some(
        match done {
            "accepted" => "Accepted.",
            "resolved" => "Resolved.",
            "unchanged" => "Nothing changed: the incident already had that status.",
            "noted" => "Note added.",
            _ => return None,
        }
        .to_string(),
    )
}

fn describe(entry: &LogEntry) -> Entry {
    let at = time(entry.at);
    let plain = |kind, headline: String, text: Option<String>| Entry {
        kind,
        at: time(entry.at),
        headline,
        text,
        body: None,
    };
    match &entry.kind {
        LogKind::EventReceived {
            action,
            headers,
            body,
            body_bytes,
            body_truncated,
            repeats,
            last_repeat_at,
            ..
        } => Entry {
            kind: "event",
            at,
            headline: format!(
                "Webhook received: {}{}",
                action.as_str(),
                repeated(*repeats, *last_repeat_at)
            ),
            text: None,
            body: Some(Body {
                size: size(*body_bytes),
                truncated: *body_truncated,
                // A cut body is not valid JSON any more: shown as received.
                text: readable_body(body),
                headers: headers.clone(),
            }),
        },
        LogKind::Created { by } => plain("created", format!("Opened by {by}"), None),
        LogKind::StatusChanged { from, to, by, note } => {
            plain("status", format!("{} → {} by {by}", name(*from), name(*to)), note.clone())
        }
        LogKind::Comment { author, text, by } => {
            let author = author.as_deref().map(|a| format!(" from {a}")).unwrap_or_default();
            plain("comment", format!("Comment{author} (via {by})"), Some(text.clone()))
        }
        LogKind::LinkAdded { label, url, by } => {
            plain("link", format!("Link added by {by}: {label}"), Some(url.clone()))
        }
        LogKind::Updated { by, fields } => {
            plain("updated", format!("Updated by {by}: {}", fields.join(", ")), None)
        }
        LogKind::Escalated { level, round, notified, skipped } => {
            let mut lines = notified.clone();
            lines.extend(skipped.iter().map(|s| format!("not notified: {s}")));
            let repeat = if *round > 0 { format!(" (repeat {round})") } else { String::new() };
            plain(
                "escalated",
                format!("Escalation level {}{repeat}", level + 1),
                Some(lines.join("\n")),
            )
        }
        LogKind::NotPaged { reason, until } => plain(
            "escalated",
            format!("Not paged: {reason}"),
            until.map(|until| format!("pages from {} if nobody has accepted it", time(until).text)),
        ),
        LogKind::NotificationAttempt { recipient, attempt, outcome, detail, .. } => plain(
            "notification",
            format!("Notification to {recipient}: {outcome} (attempt {attempt})"),
            Some(detail.clone()),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct RespondForm {
    csrf: Option<String>,
    note: Option<String>,
}

pub async fn accept(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<RespondForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    set_status(&console, &signed_in, &id, Status::Accepted, &headers, form).await
}

pub async fn resolve(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<RespondForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    set_status(&console, &signed_in, &id, Status::Resolved, &headers, form).await
}

/// `POST /ui/incidents/{id}/notes`: a person's note in the log (and to the
/// sender, when the source acts back).
pub async fn note(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<RespondForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let id = super::parse_id(&id, "an incident id")?;
    let by = respond::Actor::of(&signed_in.caller);
    let config = &console.app.live.load().config;
    let text = form.note.unwrap_or_default();
    respond::add_note(&console.app.store, config, id, &by, text).await.map_err(UiError::from)?;
    tracing::info!(incident = id, by = %signed_in.caller.name, "note added in the console");
    Ok(Redirect::to(&format!("/ui/incidents/{id}?done=noted")).into_response())
}

async fn set_status(
    console: &Console,
    signed_in: &SignedIn,
    id: &str,
    to: Status,
    headers: &HeaderMap,
    form: Result<Form<RespondForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let id = super::parse_id(id, "an incident id")?;
    let note = form.note.filter(|note| !note.trim().is_empty());
    let by = respond::Actor::of(&signed_in.caller);
    let config = &console.app.live.load().config;
    let (action, _) = respond::set_status(&console.app.store, config, id, to, &by, note)
        .await
        .map_err(UiError::from)?;
    tracing::info!(incident = id, by = %signed_in.caller.name, "incident status set in the console");
    let done = serde_json::json!(action);
    let done = done.as_str().unwrap_or("unchanged");
    Ok(Redirect::to(&format!("/ui/incidents/{id}?done={done}")).into_response())
}
