//! When the plugin fails: the event is kept as a failed delivery, and the
//! source's failure policy decides what the sender hears (503 and a retry,
//! or 202 and a fallback incident a person will see).

use super::event_log::event_received;
use super::{Delivered, DeliveryError, FailurePolicy, Ingest, Source};
use crate::plugin::CallError;
use crate::store::{Action, ChangeSet, FailedDelivery, NewIncident, Priority, Session, Write};
use std::time::Duration;

impl Ingest {
    /// Stores the event as a failed delivery (and, if the source accepts
    /// failures, a fallback incident) in one durable commit.
    pub(super) async fn keep_failed(
        &self,
        source: &Source,
        headers: &[(String, String)],
        body: bytes::Bytes,
        received_at: u64,
        error: CallError,
    ) -> Result<Delivered, DeliveryError> {
        tracing::warn!(source = %source.name, code = error.code(), error = %error, "plugin failed; event kept as a failed delivery");
        let mut failure = FailedDelivery {
            id: self.store.allocate_failure_id()?,
            source: source.name.clone(),
            integration: source.integration.clone(),
            received_at,
            headers: headers.to_vec(),
            body_bytes: body.len(),
            error_code: error.code().to_string(),
            error: error.to_string(),
            attempts: 1,
            fallback_incident: None,
            replayed: None,
        };
        let failure_id = failure.id;
        match source.on_failure {
            FailurePolicy::Retry { after_seconds } => {
                let writes = vec![Write::PutFailure { failure, body: Some(body.to_vec()) }];
                self.commit_once(ChangeSet { reads: vec![], writes }).await?;
                Err(DeliveryError::PluginFailed {
                    error,
                    failure: failure_id,
                    retry_after: after_seconds,
                })
            }
            FailurePolicy::Accept => {
                let mut session = Session::new(self.store.clone(), source.scope(), received_at)?;
                let fallback = session.create_incident(
                    fallback_incident(source, failure_id, &error),
                    "host (plugin failure)".into(),
                )?;
                let logged =
                    event_received(Action::Created, headers, &body, self.event_log.body_cap);
                session.append_log(fallback.id, logged);
                failure.fallback_incident = Some(fallback.id);
                let mut changes = session.into_changes();
                changes.writes.push(Write::PutFailure { failure, body: Some(body.to_vec()) });
                self.commit_once(changes).await?;
                Ok(Delivered {
                    outcomes: vec![(Action::Created, fallback)],
                    plugin_time: Duration::ZERO,
                    failure: Some(failure_id),
                    failure_code: Some(error.code().to_string()),
                    seen: None,
                })
            }
        }
    }
}

/// "Unprocessed event from <source>": what a person sees instead of the
/// event the plugin could not map, with how to replay it.
fn fallback_incident(source: &Source, failure: u64, error: &CallError) -> NewIncident {
    NewIncident {
        key: format!("unprocessed-{failure}"),
        summary: format!("Unprocessed event from {}", source.name),
        details: format!(
            "The {} plugin failed on this event: {error}\nIt is kept as failed delivery {failure}; replay it with `inbound failed replay {failure}` once the plugin is fixed.",
            source.integration
        ),
        priority: Some(Priority::High),
        ..NewIncident::default()
    }
}
