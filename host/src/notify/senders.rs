//! Who hears back from inbound: the sources whose plugin acts back on its
//! sender (`[sources.outbound]`), with this config's plugins, and the outbox
//! entry a change to one of their incidents queues (delivered by
//! `outbound.rs`).

use crate::config::Config;
use crate::ingest::Source;
use crate::plugin::PluginHost;
use crate::store::{ChangeKind, Incident, Notification, SenderChange, Store, Write};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What the outbound side needs from the running configuration: the
/// integration plugins and the sources that act back.
pub struct Senders {
    pub plugins: Arc<PluginHost>,
    /// Bounds plugin calls (webhooks' and these) to the instance pool.
    pub calls: Arc<Semaphore>,
    /// Sources with `[sources.outbound]`, by name.
    sources: HashMap<String, Arc<Source>>,
}

impl Senders {
    pub fn new(
        config: &Config,
        plugins: Arc<PluginHost>,
        calls: Arc<Semaphore>,
        sources: impl IntoIterator<Item = Arc<Source>>,
    ) -> Senders {
        let sources = sources
            .into_iter()
            .filter(|source| config.outbound(&source.name).is_some())
            .map(|source| (source.name.clone(), source))
            .collect();
        Senders { plugins, calls, sources }
    }

    /// The source `name`, if it acts back.
    pub fn source(&self, name: &str) -> Option<Arc<Source>> {
        self.sources.get(name).cloned()
    }
}

/// The outbox entry that tells `incident`'s sender about `change`;
/// allocates the entry's id (a round trip on PostgreSQL). Put in the commit
/// that makes the change, by every path but the source's own webhooks, when
/// the source acts back (`Config::outbound`).
pub fn entry(
    store: &Store,
    incident: &Incident,
    change: SenderChange,
) -> Result<Write, crate::store::Error> {
    let id = store.allocate_notification_id()?;
    let mut entry = Notification::to_sender(id, &incident.source, incident.id, change);
    if entry.change.as_ref().is_some_and(|c| c.kind == ChangeKind::EscalationExhausted) {
        // The last level has just paged: give its people time to answer
        // before telling the sender nobody did (and say nothing if someone
        // does, `outbound.rs`).
        entry.next_attempt_at += EXHAUSTED_GRACE.as_millis() as u64;
    }
    Ok(Write::PutNotification(entry))
}

/// How long after the last level fired the sender hears that nobody
/// accepted, in real time (not scaled: it is about people reading a page).
pub const EXHAUSTED_GRACE: std::time::Duration = std::time::Duration::from_secs(15 * 60);
