//! The durable ceiling: the same HTTP stack and the same group-commit writer
//! as the host, appending each request body as one log record, with no
//! plugin, no snapshot and no incident logic. What the disk and the writer
//! allow, measured in the same run as the host.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use inbound::store::{Action, ChangeSet, LogEntry, LogKind, Store, Write, now_millis};
use serde_json::{Value, json};
use std::sync::Arc;

/// Every record goes to one pseudo-incident's log, so each commit appends at
/// the right edge of one B-tree: the cheapest durable write the store has.
const JOURNAL: u64 = 0;

/// `POST /api/v1/events/zendesk/{key}`: the body, durably, then 202.
pub async fn append(State(store): State<Arc<Store>>, body: Bytes) -> (StatusCode, Json<Value>) {
    let entry = LogEntry {
        at: now_millis(),
        kind: LogKind::EventReceived {
            action: Action::Unchanged,
            headers: Vec::new(),
            body: String::from_utf8_lossy(&body).into_owned(),
            body_bytes: body.len(),
            body_truncated: false,
            repeats: 0,
            last_repeat_at: None,
            shared_body: None,
        },
    };
    let changes = ChangeSet {
        reads: Vec::new(),
        writes: vec![Write::AppendLog { incident: JOURNAL, entry }],
    };
    match store.commit(changes).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({"action": "unchanged"}))),
        Err(error) => {
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": error.to_string()})))
        }
    }
}

pub fn router(store: Arc<Store>) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/events/zendesk/{key}", axum::routing::post(append))
        .with_state(store)
}
