//! Two-way integrations: telling an incident's sender what a person or the
//! host did (an accept, a note, a maintenance window).
//!
//! ```text
//! change (respond.rs, engine.rs) --same commit--> outbox entry (kind outbound)
//! entry due --> source's plugin `on-change` (read-only) --> requests
//!           --> each sent to [sources.outbound] url, credentials added here
//!           --> attempt recorded like a notification's; `remember-as` kept
//! ```
//!
//! The plugin runs when the entry's turn comes, not in the commit: a
//! person's accept never waits on a plugin or fails because of one, and the
//! plugin sees the incident as it is then (an accept delivered after the
//! incident was resolved need not silence anything). An incident's entries
//! are one "contact" in the lanes, so they go out one at a time, in order.

use super::delivery::Attempt;
use super::render::HttpRequest;
use super::senders::Senders;
use super::setup::Setup;
use super::transport;
use crate::config::{OutboundAuth, SourceOutbound};
use crate::ingest::Source;
use crate::plugin::CallError;
use crate::plugin::outbound::{MAX_REMEMBERED_BYTES, SenderRequest};
use crate::store::{
    ChangeKind, ChangeSet, Incident, Millis, Notification, SenderChange, Session, Status, Store,
    Write,
};
use base64::Engine as _;
use std::sync::Arc;
use std::time::Duration;

/// What one attempt kept for later: state values to set (`remember-as`),
/// `None` to remove the key (an empty answer).
pub type Remembered = Vec<(String, Option<Vec<u8>>)>;

/// One attempt at an outbound entry: ask the plugin, send what it asks
/// from request `notification.messages_sent` on, all within the source's
/// `timeout_ms`. Returns how it ended, how many requests are now sent, and
/// what to remember.
pub async fn attempt(
    setup: Arc<Setup>,
    store: &Arc<Store>,
    client: &reqwest::Client,
    notification: &Notification,
    incident: &Incident,
    now: Millis,
) -> (Attempt, u32, Remembered) {
    let sent = notification.messages_sent;
    let failed = |detail: String| (Attempt::Failed(detail), sent, Vec::new());
    let Some(source_name) = notification.outbound_source() else {
        return failed("not an outbound entry".into());
    };
    let Some(outbound) = setup.config.outbound(source_name).cloned() else {
        return failed(format!(
            "the source {source_name:?} no longer has [sources.outbound]; nothing was sent"
        ));
    };
    let Some((senders, source)) =
        setup.senders.as_ref().and_then(|senders| Some((senders, senders.source(source_name)?)))
    else {
        return failed(format!("the source {source_name:?} is no longer configured"));
    };
    let Some(change) = notification.change.clone() else {
        return failed("the entry records no change".into());
    };
    if change.kind == ChangeKind::EscalationExhausted && incident.status != Status::Pending {
        let detail = "nothing to tell: the incident was accepted or resolved after its last page";
        return (Attempt::Sent(detail.into()), sent, Vec::new());
    }
    let timeout = Duration::from_millis(outbound.timeout_ms);
    let deadline = tokio::time::Instant::now() + timeout;
    let marker = notification.idempotency_key();
    let requests = match tokio::time::timeout_at(
        deadline,
        ask_plugin(senders, store, &source, change, marker.clone(), incident.clone(), now),
    )
    .await
    {
        Err(_) => {
            return (
                Attempt::Retry {
                    detail: format!(
                        "the attempt used its whole timeout ({} ms) in the plugin",
                        timeout.as_millis()
                    ),
                    retry_after: None,
                },
                sent,
                Vec::new(),
            );
        }
        Ok(Ok(Some(requests))) => requests,
        Ok(Ok(None)) => {
            let detail = "nothing to send: the plugin is built for a plugin API before 0.5.0";
            return (Attempt::Sent(detail.into()), sent, Vec::new());
        }
        Ok(Err(CallError::Rejected { message, .. })) => {
            return failed(format!("the plugin refused: {message}"));
        }
        Ok(Err(error @ (CallError::InvalidResult(_) | CallError::HostApiLimit(_)))) => {
            return failed(error.to_string());
        }
        // A trap, a timeout, storage away: another attempt may pass.
        Ok(Err(error)) => {
            return (
                Attempt::Retry { detail: error.to_string(), retry_after: None },
                sent,
                Vec::new(),
            );
        }
    };
    if requests.is_empty() {
        return (Attempt::Sent("nothing to send".into()), sent, Vec::new());
    }
    let base = match url::Url::parse(&outbound.url) {
        Ok(base) => base,
        Err(error) => return failed(format!("[sources.outbound] url is invalid: {error}")),
    };
    let authorization = authorization(&outbound);
    let mut sent = sent;
    let mut remembered = Vec::new();
    let mut last = String::new();
    for (index, request) in requests.iter().enumerate().skip(sent as usize) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            let detail = format!(
                "the attempt used its whole timeout ({} ms) after {sent} of {} requests",
                timeout.as_millis(),
                requests.len()
            );
            return (Attempt::Retry { detail, retry_after: None }, sent, remembered);
        }
        let http = HttpRequest {
            method: request.method.to_string(),
            url: request.path.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        };
        let key = format!("{marker}/{}", index + 1);
        let said = |detail: &str| format!("{} {}: {detail}", request.method, shown_path(request));
        match transport::exchange(client, &base, &http, &key, authorization.as_ref(), left).await {
            Ok(answer) => {
                sent += 1;
                last = said(&answer.summary);
                if let Some(kept) = remember(request, answer.body) {
                    remembered.push(kept);
                }
            }
            Err(error) if error.retry => {
                let attempt =
                    Attempt::Retry { detail: said(&error.detail), retry_after: error.retry_after };
                return (attempt, sent, remembered);
            }
            Err(error) => return (Attempt::Failed(said(&error.detail)), sent, remembered),
        }
    }
    (Attempt::Sent(last), sent, remembered)
}

/// Runs the plugin's `on-change` off the runtime, in a plugin call slot.
async fn ask_plugin(
    senders: &Senders,
    store: &Arc<Store>,
    source: &Arc<Source>,
    change: SenderChange,
    marker: String,
    incident: Incident,
    now: Millis,
) -> Result<Option<Vec<SenderRequest>>, CallError> {
    let Some(plugin) = senders.plugins.plugin(&source.integration) else {
        return Err(CallError::InvalidResult(format!(
            "no plugin is loaded for the integration {:?}",
            source.integration
        )));
    };
    let _slot = senders
        .calls
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| CallError::StorageUnavailable("the host is shutting down".into()))?;
    let (plugins, store, source) = (senders.plugins.clone(), store.clone(), source.clone());
    tokio::task::spawn_blocking(move || {
        let session = |store: Arc<Store>| {
            Session::new(store, source.scope(), now)
                .map_err(|error| CallError::StorageUnavailable(error.to_string()))
        };
        let requests = plugins.on_change(
            &plugin,
            session(store.clone())?,
            &change,
            marker,
            &incident,
            &source.settings_json,
            &source.limits,
        )?;
        // An answer to remember must fit the source's state before anything
        // is sent: it is kept in the attempt's own record.
        let mut state = session(store)?;
        for key in requests.iter().flatten().filter_map(|r| r.remember_as.as_deref()) {
            let after = state
                .state_bytes_after(key, Some(MAX_REMEMBERED_BYTES))
                .map_err(|error| CallError::StorageUnavailable(error.to_string()))?;
            let quota = source.limits.max_state_bytes_per_source;
            if after > quota {
                return Err(CallError::HostApiLimit(format!(
                    "the source's state ({after} bytes with an answer under {key:?}) would pass its {quota} bytes; nothing was sent"
                )));
            }
        }
        Ok(requests)
    })
    .await
    .map_err(|error| CallError::Trap(format!("the plugin task failed: {error}")))?
}

/// The `authorization` header `auth` asks for; the plugin never sees it.
fn authorization(outbound: &SourceOutbound) -> Option<reqwest::header::HeaderValue> {
    let token = outbound.token.as_deref().unwrap_or_default();
    let value = match outbound.auth {
        OutboundAuth::None => return None,
        OutboundAuth::Basic => {
            let user = outbound.user.as_deref().unwrap_or_default();
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
            format!("Basic {pair}")
        }
        OutboundAuth::Bearer => format!("Bearer {token}"),
    };
    reqwest::header::HeaderValue::from_str(&value).ok()
}

/// What a 2xx answer leaves in the source's state: its body under the
/// request's `remember-as` key, or the key removed by an empty answer.
/// An answer over the limit is not kept (a cut JSON body reads as nothing).
fn remember(request: &SenderRequest, body: Vec<u8>) -> Option<(String, Option<Vec<u8>>)> {
    let key = request.remember_as.clone()?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some((key, None));
    }
    (body.len() <= MAX_REMEMBERED_BYTES).then_some((key, Some(body)))
}

/// The path without its query, which may carry what the log should not.
fn shown_path(request: &SenderRequest) -> &str {
    request.path.split('?').next().unwrap_or_default()
}

/// The commit that keeps what an attempt remembered, after the attempt's
/// own record: a quota refusal here must not undo the record (and send the
/// requests again).
pub fn remembered_changes(source: &str, remembered: Remembered, quota: u64) -> ChangeSet {
    let writes = remembered
        .into_iter()
        .map(|(key, value)| match value {
            Some(value) => Write::SetState { source: source.to_string(), key, value, quota },
            None => Write::DeleteState { source: source.to_string(), key },
        })
        .collect();
    ChangeSet { reads: Vec::new(), writes }
}

/// The source's state quota, for [`remembered_changes`].
pub fn state_quota(setup: &Setup, source: &str) -> u64 {
    setup
        .senders
        .as_ref()
        .and_then(|senders| senders.source(source))
        .map_or(0, |source| source.limits.max_state_bytes_per_source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound(auth: OutboundAuth, user: Option<&str>, token: Option<&str>) -> SourceOutbound {
        SourceOutbound {
            url: "https://acme.zendesk.com".into(),
            auth,
            user: user.map(str::to_string),
            user_env: None,
            token: token.map(str::to_string),
            token_env: None,
            timeout_ms: 1000,
        }
    }

    #[test]
    fn basic_auth_is_user_colon_token_in_base64() {
        let header = authorization(&outbound(
            OutboundAuth::Basic,
            Some("ada@example.com/token"),
            Some("s3cret"),
        ))
        .unwrap();
        // base64("ada@example.com/token:s3cret")
        assert_eq!(header.to_str().unwrap(), "Basic YWRhQGV4YW1wbGUuY29tL3Rva2VuOnMzY3JldA==");
        let bearer = authorization(&outbound(OutboundAuth::Bearer, None, Some("t0k"))).unwrap();
        assert_eq!(bearer.to_str().unwrap(), "Bearer t0k");
        assert!(authorization(&outbound(OutboundAuth::None, None, None)).is_none());
    }

    #[test]
    fn an_answer_is_remembered_only_when_asked_and_small() {
        let mut request = SenderRequest {
            method: "POST",
            path: "/api/v2/silences".into(),
            headers: Vec::new(),
            body: Vec::new(),
            remember_as: None,
        };
        assert_eq!(remember(&request, b"{}".to_vec()), None);
        request.remember_as = Some("silence/1".into());
        assert_eq!(
            remember(&request, br#"{"silenceID":"a"}"#.to_vec()),
            Some(("silence/1".into(), Some(br#"{"silenceID":"a"}"#.to_vec())))
        );
        assert_eq!(remember(&request, b" \n".to_vec()), Some(("silence/1".into(), None)));
        assert_eq!(remember(&request, vec![b'a'; MAX_REMEMBERED_BYTES + 1]), None);
    }
}
