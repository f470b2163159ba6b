//! `GET /ui/live`: server-sent events that tell an open incident list to
//! refresh itself. An event carries no incident data, only "something
//! changed": the page fetches itself again, through the same checks as any
//! page view.

use super::Console;
use super::session::SignedIn;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Changes closer together than this make one event: a burst of webhooks
/// refreshes a list once, not once per webhook.
const COALESCE: Duration = Duration::from_millis(250);
/// A stream ends after this and the browser reconnects, so a session that
/// expired or a token removed by a reload stops receiving events.
const STREAM_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize)]
pub struct Params {
    /// The change count the page was rendered at.
    since: Option<u64>,
}

struct Feed {
    changes: watch::Receiver<u64>,
    stopping: watch::Receiver<bool>,
    ends: Instant,
    /// The page is already behind: send one event at once.
    behind: bool,
}

pub async fn events(
    State(console): State<Arc<Console>>,
    _signed_in: SignedIn,
    Query(params): Query<Params>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = console.app.store.watch_changes();
    let current = *changes.borrow_and_update();
    let feed = Feed {
        changes,
        stopping: console.app.stopping.subscribe(),
        ends: Instant::now() + STREAM_LIFETIME,
        behind: params.since.is_some_and(|since| since != current),
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        if !feed.behind {
            tokio::select! {
                changed = feed.changes.changed() => changed.ok()?,
                // Shutting down: end the stream so the connection can close.
                _ = feed.stopping.wait_for(|stopping| *stopping) => return None,
                () = tokio::time::sleep_until(feed.ends) => return None,
            }
            tokio::time::sleep(COALESCE).await;
        }
        feed.behind = false;
        let generation = *feed.changes.borrow_and_update();
        let event = Event::default().event("changed").data(generation.to_string());
        Some((Ok(event), feed))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
