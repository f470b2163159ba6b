//! `GET /ui/audit`: the audit trail, newest first, a page at a time, for
//! admins: who signed in (or failed to), who was refused what, reloads,
//! backups, password changes, retries and replays.

use crate::store::{AuditEntry, AuditQuery};
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, time};
use crate::ui::{Console, UiError};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;

const PAGE: usize = 50;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<Row>,
    action: String,
    actions: Vec<&'static str>,
    next: Option<String>,
}

struct Row {
    at: Time,
    actor: String,
    action: String,
    client: String,
    detail: String,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    before: Option<String>,
    action: Option<String>,
}

pub async fn list(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, UiError> {
    let Query(params) = params.map_err(super::query_error)?;
    let before = super::parse_optional_id(params.before.as_deref(), "an audit entry id")?;
    let action = params.action.filter(|action| !action.is_empty());
    let query = AuditQuery { before, limit: PAGE, action: action.clone() };
    let store = console.app.store.clone();
    let found = tokio::task::spawn_blocking(move || store.audit(&query))
        .await
        .map_err(|error| UiError::internal(error.to_string()))?
        .map_err(|error| UiError::internal(format!("the audit trail cannot be read: {error}")))?;
    let filter = action.clone().unwrap_or_default();
    let next = found.next.map(|id| match &action {
        Some(action) => {
            format!("/ui/audit?before={id}&action={}", crate::ui::session::urlencode(action))
        }
        None => format!("/ui/audit?before={id}"),
    });
    page(AuditPage {
        chrome: signed_in.chrome("audit"),
        entries: found.items.into_iter().map(row).collect(),
        action: filter,
        actions: crate::app::audit::Action::ALL.iter().map(|action| action.as_str()).collect(),
        next,
    })
}

fn row(entry: AuditEntry) -> Row {
    Row {
        at: time(entry.at),
        actor: entry.actor,
        action: entry.action,
        client: entry.client.unwrap_or_default(),
        detail: entry.detail,
    }
}
