//! `GET /ui/mine`: "My incidents", those not resolved that notified the
//! signed-in person. Found through the newest notifications (at most
//! [`SCANNED`]), so a person paged long ago and never since may not see an
//! old incident here; the incident list has them all.

use super::incidents::{Row, row};
use crate::app::audit::{Action, Entry};
use crate::notify::contact_check::ContactCheck;
use crate::store::{Incident, NotificationKind, NotificationQuery, Status};
use crate::ui::csrf;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::Chrome;
use crate::ui::{Console, UiError};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How many of the newest notifications are read to find them.
const SCANNED: usize = 2000;
const PAGE: usize = 500;

#[derive(Template)]
#[template(path = "mine.html")]
struct MinePage {
    chrome: Chrome,
    rows: Vec<Row>,
    generation: u64,
    is_person: bool,
    csrf: String,
    /// What a contact check just did, when the page answers one.
    checks: Vec<ContactCheck>,
}

pub async fn list(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
) -> Result<Response, UiError> {
    render(&console, &signed_in, Vec::new()).await
}

#[derive(Deserialize)]
pub struct CheckForm {
    csrf: Option<String>,
}

/// `POST /ui/mine/test`: a test message to each of the signed-in person's
/// own contacts, and what each answered, on this page.
pub async fn test(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    form: Result<Form<CheckForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    if signed_in.caller.kind != crate::app::CallerKind::Person {
        return Err(UiError::bad_request("sign in as yourself to test your contacts"));
    }
    let checks = console
        .app
        .notify
        .check_contacts(&signed_in.caller.name, None)
        .await
        .map_err(|error| UiError::bad_request(error.to_string()))?;
    let detail = format!(
        "test message to {}: {}",
        signed_in.caller.name,
        checks
            .iter()
            .map(|c| format!("{} {}", c.channel, c.outcome))
            .collect::<Vec<_>>()
            .join(", ")
    );
    console.app.audit_now(Entry::by(&signed_in.caller, Action::ContactTest, None, detail)).await;
    render(&console, &signed_in, checks).await
}

async fn render(
    console: &Console,
    signed_in: &SignedIn,
    checks: Vec<ContactCheck>,
) -> Result<Response, UiError> {
    let generation = *console.app.store.watch_changes().borrow();
    let is_person = signed_in.caller.kind == crate::app::CallerKind::Person;
    let me = signed_in.caller.name.clone();
    let store = console.app.store.clone();
    let incidents = if is_person {
        tokio::task::spawn_blocking(move || mine(&store, &me))
            .await
            .map_err(|error| UiError::internal(error.to_string()))?
            .map_err(|error| UiError::internal(format!("your incidents cannot be read: {error}")))?
    } else {
        Vec::new()
    };
    page(MinePage {
        chrome: signed_in.chrome("mine"),
        rows: incidents.iter().map(|i| row(i, &console.app.notify.current().config)).collect(),
        generation,
        is_person,
        csrf: signed_in.session.csrf.clone(),
        checks,
    })
}

/// The open incidents whose pages went to `person`, newest first.
fn mine(store: &crate::store::Store, person: &str) -> Result<Vec<Incident>, crate::store::Error> {
    let mut ids = BTreeSet::new();
    let mut before = None;
    let mut scanned = 0;
    while scanned < SCANNED {
        let page = store.notifications(&NotificationQuery {
            before,
            limit: PAGE,
            ..Default::default()
        })?;
        scanned += page.items.len();
        for notification in &page.items {
            if notification.kind == NotificationKind::Triggered
                && notification.recipient.person.as_deref() == Some(person)
            {
                ids.insert(notification.incident);
            }
        }
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let mut incidents = Vec::new();
    for id in ids.into_iter().rev() {
        if let Some(incident) = store.incident(id)?
            && incident.status != Status::Resolved
        {
            incidents.push(incident);
        }
    }
    Ok(incidents)
}
