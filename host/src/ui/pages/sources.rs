//! `GET /ui/sources`: every configured source, its webhook URL (key masked),
//! its incidents per status and its newest incident.

use super::incidents::list_href;
use crate::store::Counts;
use crate::ui::error::read;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, masked_webhook_url, time};
use crate::ui::{Console, UiError};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use std::sync::Arc;

pub struct SourceView {
    name: String,
    integration: String,
    escalation_policy: String,
    signed: bool,
    webhook_url: String,
    masked_url: String,
    counts: Counts,
    list_href: String,
    /// The newest incident: its id and when it opened.
    last: Option<(u64, Time)>,
    /// What its `[sources.shadow]` has judged, when it has one.
    shadow: Option<ShadowView>,
}

/// A shadow plugin's counts and its latest differences.
pub struct ShadowView {
    plugin: String,
    same: u64,
    different: u64,
    failed: u64,
    skipped: u64,
    differences: Vec<DifferenceView>,
}

pub struct DifferenceView {
    at: Time,
    incident: Option<u64>,
    fields: String,
    live: String,
    shadow: String,
}

/// The differences a source's card shows; the API lists all that are kept.
const SHOWN_DIFFERENCES: usize = 5;

fn shadow_view(source: &crate::ingest::Source) -> Option<ShadowView> {
    let report = source.shadow.as_ref()?.report();
    Some(ShadowView {
        plugin: report.plugin,
        same: report.same,
        different: report.different,
        failed: report.failed,
        skipped: report.skipped,
        differences: report
            .differences
            .into_iter()
            .take(SHOWN_DIFFERENCES)
            .map(|d| DifferenceView {
                at: time(d.received_at),
                incident: d.incident,
                fields: d.fields.join(", "),
                live: d.live.describe(),
                shadow: d.shadow.describe(),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    chrome: Chrome,
    sources: Vec<SourceView>,
}

pub async fn list(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let live = console.app.live.load_full();
    // Without server.public_url, the listen address may be 0.0.0.0 or port
    // 0; the address this browser reached the host at is the better guess.
    let configured = live.config.public_url();
    let base = match (&live.config.server.public_url, headers.get(header::HOST)) {
        (None, Some(host)) => {
            host.to_str().map(|host| format!("{}://{host}", live.config.server.scheme())).ok()
        }
        _ => None,
    };
    let names: Vec<String> = live.config.sources.iter().map(|s| s.name.clone()).collect();
    let store = console.app.store.clone();
    let stats = read("source statistics", move || {
        let mut stats = Vec::with_capacity(names.len());
        for name in &names {
            let newest = store.newest_incident_of(name)?;
            stats.push((store.counts(Some(name))?, newest.map(|i| (i.id, i.created_at))));
        }
        Ok::<_, anyhow::Error>(stats)
    })
    .await?;
    let sources = live
        .config
        .sources
        .iter()
        .zip(stats)
        .map(|(source, (counts, last))| {
            let mut url = live.config.webhook_url(source);
            if let Some(base) = &base {
                url = url.replacen(&configured, base, 1);
            }
            SourceView {
                name: source.name.clone(),
                integration: source.integration.clone(),
                escalation_policy: source.escalation_policy.clone(),
                signed: source.signing_secret.is_some(),
                masked_url: masked_webhook_url(&url, source.key()),
                webhook_url: url,
                counts,
                list_href: list_href(None, Some(&source.name), None),
                last: last.map(|(id, at)| (id, time(at))),
                shadow: live.sources.by_name(&source.name).and_then(|s| shadow_view(&s)),
            }
        })
        .collect();
    page(SourcesPage { chrome: signed_in.chrome("sources"), sources })
}
