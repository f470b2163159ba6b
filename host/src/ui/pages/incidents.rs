//! `GET /ui/`: incidents, newest first, filtered by status and source, with
//! counts per status and pages of 50.

use crate::noise::Urgency;
use crate::store::{Incident, ListQuery, Status};
use crate::ui::error::read;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, time};
use crate::ui::{Console, UiError};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use std::sync::Arc;

const PAGE: usize = 50;

#[derive(Debug, Deserialize)]
pub struct Params {
    status: Option<String>,
    source: Option<String>,
    urgency: Option<String>,
    before: Option<String>,
}

/// One incident in a list (`incident_rows.html`, also `My incidents`).
pub struct Row {
    pub id: u64,
    pub status: &'static str,
    pub summary: String,
    pub priority: &'static str,
    /// `high` or `low` (`noise::urgency`).
    pub urgency: &'static str,
    pub source: String,
    pub created: Time,
}

pub struct Tab {
    label: &'static str,
    value: &'static str,
    count: u64,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    chrome: Chrome,
    status: &'static str,
    source: String,
    urgency: &'static str,
    sources: Vec<String>,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    older_href: Option<String>,
    newest_href: Option<String>,
    /// The store's change count when the page was read: the live list asks
    /// for events after it, so no change between render and connect is lost.
    generation: u64,
}

impl IncidentsPage {
    fn is_status(&self, name: &str) -> bool {
        self.status == name
    }

    fn is_source(&self, name: &str) -> bool {
        self.source == name
    }

    fn is_urgency(&self, name: &str) -> bool {
        self.urgency == name
    }
}

pub async fn list(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, UiError> {
    let Query(params) = params.map_err(super::query_error)?;
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Status::parse(text).ok_or_else(|| {
            UiError::bad_request(format!(
                "status {text:?} is not one of pending, accepted, resolved"
            ))
        })?),
    };
    let source = params.source.filter(|s| !s.is_empty());
    let urgency = match params.urgency.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Urgency::parse(text).ok_or_else(|| {
            UiError::bad_request(format!("urgency {text:?} is not one of high, low"))
        })?),
    };
    let before = super::parse_optional_id(params.before.as_deref(), "an incident id")?;
    let generation = *console.app.store.watch_changes().borrow();
    let store = console.app.store.clone();
    let query = ListQuery { status, source: source.clone(), before, limit: PAGE };
    let counted_source = source.clone();
    let setup = console.app.notify.current();
    let config = setup.clone();
    let (page_of, counts) = read("incidents", move || {
        let page = match urgency {
            None => store.list(&query)?,
            Some(wanted) => crate::noise::list_by_urgency(&store, &config.config, query, wanted)?,
        };
        let counts = store.counts(counted_source.as_deref())?;
        Ok::<_, anyhow::Error>((page, counts))
    })
    .await?;

    let mut sources: Vec<String> =
        console.app.live.load().config.sources.iter().map(|s| s.name.clone()).collect();
    if let Some(source) = &source
        && !sources.contains(source)
    {
        // Incidents outlive a source removed from the config.
        sources.push(source.clone());
    }
    let link = |status: Option<Status>, before: Option<u64>| {
        with_urgency(list_href(status, source.as_deref(), before), urgency)
    };
    let mut tabs = vec![Tab {
        label: "All",
        value: "all",
        count: counts.total(),
        href: link(None, None),
        current: status.is_none(),
    }];
    for each in [Status::Pending, Status::Accepted, Status::Resolved] {
        tabs.push(Tab {
            label: label(each),
            value: name(each),
            count: counts.of(each),
            href: link(Some(each), None),
            current: status == Some(each),
        });
    }
    let template = IncidentsPage {
        chrome: signed_in.chrome("incidents"),
        status: status.map(name).unwrap_or(""),
        source: source.clone().unwrap_or_default(),
        urgency: urgency.map(Urgency::as_str).unwrap_or(""),
        sources,
        tabs,
        rows: page_of.items.iter().map(|incident| row(incident, &setup.config)).collect(),
        older_href: page_of.next.map(|before| link(status, Some(before))),
        newest_href: before.map(|_| link(status, None)),
        generation,
    };
    page(template)
}

pub fn row(incident: &Incident, config: &crate::config::Config) -> Row {
    Row {
        urgency: crate::noise::urgency(config, incident).as_str(),
        id: incident.id,
        status: name(incident.status),
        summary: incident.summary.clone(),
        priority: priority(incident),
        source: incident.source.clone(),
        created: time(incident.created_at),
    }
}

pub fn name(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Accepted => "accepted",
        Status::Resolved => "resolved",
    }
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Pending => "Pending",
        Status::Accepted => "Accepted",
        Status::Resolved => "Resolved",
    }
}

pub fn priority(incident: &Incident) -> &'static str {
    use crate::store::Priority::*;
    match incident.priority {
        Some(Low) => "low",
        Some(Normal) => "normal",
        Some(High) => "high",
        Some(Urgent) => "urgent",
        None => "—",
    }
}

/// `href` with `urgency=` added when a filter by urgency is in use.
fn with_urgency(href: String, urgency: Option<Urgency>) -> String {
    match urgency {
        None => href,
        Some(urgency) if href.contains('?') => format!("{href}&urgency={}", urgency.as_str()),
        Some(urgency) => format!("{href}?urgency={}", urgency.as_str()),
    }
}

/// `/ui/?status=..&source=..&before=..` with only the parameters in use.
pub fn list_href(status: Option<Status>, source: Option<&str>, before: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(status) = status {
        parts.push(format!("status={}", name(status)));
    }
    if let Some(source) = source {
        parts.push(format!("source={}", utf8_percent_encode(source, NON_ALPHANUMERIC)));
    }
    if let Some(before) = before {
        parts.push(format!("before={before}"));
    }
    if parts.is_empty() { "/ui/".to_string() } else { format!("/ui/?{}", parts.join("&")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_links_carry_only_the_filters_in_use() {
        assert_eq!(list_href(None, None, None), "/ui/");
        assert_eq!(
            list_href(Some(Status::Pending), Some("a b&c"), Some(7)),
            "/ui/?status=pending&source=a%20b%26c&before=7"
        );
    }
}
