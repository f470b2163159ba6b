//! Delivering one webhook to its source's plugin and committing the result.
//!
//! Independent of HTTP so that the server, the command line and tests share
//! one path: snapshot -> plugin call -> log the event -> group commit, and
//! again from a fresh snapshot if a concurrent request changed what the
//! plugin read.

use crate::plugin::{CallError, CallLimits, PluginHost, PluginRequest, Session, SourceScope};
use crate::store::{Action, CommitError, Incident, LogKind, Store, now_millis};
use std::sync::Arc;
use std::time::Duration;

/// A configured source, ready to receive events.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub integration: String,
    pub escalation_policy: String,
    pub key: String,
    pub settings_json: String,
    pub limits: CallLimits,
}

/// Optimistic retries before giving up on a hot key. Each retry means another
/// request committed a change to the same key in between, so this only runs
/// out under a storm on one key.
const MAX_ATTEMPTS: usize = 32;

#[derive(Debug)]
pub struct Delivered {
    /// One entry per incident the event concerned; the first is the answer's.
    pub outcomes: Vec<(Action, Incident)>,
    pub plugin_time: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("too many concurrent changes to the same incident; retry")]
    Contended,
}

pub struct Ingest {
    pub store: Arc<Store>,
    pub plugins: Arc<PluginHost>,
    pub event_body_cap: usize,
}

impl Ingest {
    pub async fn deliver(
        &self,
        source: &Source,
        headers: Vec<(String, String)>,
        body: bytes::Bytes,
    ) -> Result<Delivered, DeliveryError> {
        let plugin = self
            .plugins
            .plugin(&source.integration)
            .ok_or_else(|| DeliveryError::Storage(format!("integration {} is not loaded", source.integration)))?;
        let received_at = now_millis();
        let headers = Arc::new(headers);
        for _ in 0..MAX_ATTEMPTS {
            let store = self.store.clone();
            let plugins = self.plugins.clone();
            let (source, plugin, headers, body) =
                (source.clone(), plugin.clone(), headers.clone(), body.clone());
            let cap = self.event_body_cap;
            let attempt = tokio::task::spawn_blocking(move || {
                run_once(&store, &plugins, &plugin, &source, &headers, &body, cap, received_at)
            })
            .await
            .map_err(|error| DeliveryError::Storage(format!("plugin task failed: {error}")))??;
            let (changes, outcomes, plugin_time) = attempt;
            if !changes.is_empty() {
                match self.store.commit(changes).await {
                    Ok(()) => {}
                    Err(CommitError::Conflict) => continue,
                    Err(error) => return Err(DeliveryError::Storage(error.to_string())),
                }
            }
            return Ok(Delivered { outcomes, plugin_time });
        }
        Err(DeliveryError::Contended)
    }
}

type Attempt = (crate::store::ChangeSet, Vec<(Action, Incident)>, Duration);

/// One plugin call on a fresh snapshot. Blocking.
#[allow(clippy::too_many_arguments)]
fn run_once(
    store: &Arc<Store>,
    plugins: &PluginHost,
    plugin: &crate::plugin::LoadedPlugin,
    source: &Source,
    headers: &[(String, String)],
    body: &[u8],
    event_body_cap: usize,
    received_at: u64,
) -> Result<Attempt, DeliveryError> {
    let scope = SourceScope {
        name: source.name.clone(),
        escalation_policy: source.escalation_policy.clone(),
        actor: format!("plugin {}", source.integration),
    };
    let session = Session::new(store.clone(), scope, received_at)
        .map_err(|error| DeliveryError::Storage(error.to_string()))?;
    let request = PluginRequest {
        headers: headers.to_vec(),
        body: body.to_vec(),
        settings_json: source.settings_json.clone(),
    };
    let output = plugins.call(plugin, session, request, &source.limits);
    let mut session = output.session;
    let reported = output.result?;

    // Every incident the plugin reports must be one this source can see.
    let mut outcomes = Vec::with_capacity(reported.len());
    for (action, id) in reported {
        let incident = session
            .incident(id)
            .map_err(|error| DeliveryError::Storage(error.to_string()))?
            .ok_or_else(|| {
                CallError::InvalidResult(format!("it reported incident {id}, which this source does not have"))
            })?;
        outcomes.push((action, incident));
    }
    let (logged_body, truncated) = cap_body(body, event_body_cap);
    let mut logged = Vec::new();
    for (action, incident) in &outcomes {
        if logged.contains(&incident.id) {
            continue;
        }
        logged.push(incident.id);
        session.append_log(
            incident.id,
            LogKind::EventReceived {
                action: *action,
                headers: loggable_headers(headers),
                body: logged_body.clone(),
                body_bytes: body.len(),
                body_truncated: truncated,
            },
        );
    }
    Ok((session.into_changes(), outcomes, output.elapsed))
}

/// Credentials never reach the incident log.
fn loggable_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    const SECRET: [&str; 4] = ["authorization", "cookie", "proxy-authorization", "x-zendesk-webhook-signature"];
    headers.iter().filter(|(name, _)| !SECRET.contains(&name.as_str())).cloned().collect()
}

/// The body as text, cut to `cap` bytes on a character boundary.
fn cap_body(body: &[u8], cap: usize) -> (String, bool) {
    let text = String::from_utf8_lossy(body);
    if text.len() <= cap {
        return (text.into_owned(), false);
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_under_cap_is_kept_whole() {
        assert_eq!(cap_body(b"abc", 3), ("abc".to_string(), false));
    }

    #[test]
    fn body_over_cap_is_cut_on_a_character_boundary() {
        let (text, truncated) = cap_body("aøb".as_bytes(), 2);
        assert_eq!(text, "a");
        assert!(truncated);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let (text, _) = cap_body(b"a\xffb", 100);
        assert_eq!(text, "a\u{fffd}b");
    }

    #[test]
    fn credentials_are_not_logged() {
        let headers = vec![
            ("authorization".to_string(), "Bearer x".to_string()),
            ("x-zendesk-webhook-signature".to_string(), "sig".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        assert_eq!(loggable_headers(&headers), vec![("content-type".to_string(), "application/json".to_string())]);
    }
}
