//! Escalation and notifications: from an incident to a person.
//!
//! ```text
//! incident change --(same commit, store::outbox)--> escalation timer
//! timer due --(engine.rs, one commit)--> notifications (the outbox) + next timer
//! outbox entry --(delivery.rs)--> notifier render (render.rs) --> transport.rs --> attempt logged
//! ```
//!
//! One background task runs it all ([`Notify::run`]); it never blocks the
//! webhook path: renders run on their own engine, sends are spawned tasks
//! bounded by `[notifications] max_concurrent_deliveries` in total and by
//! each channel's share of it (lanes.rs), and the only shared resource is
//! the storage writer's group commit.

pub mod contact;
pub mod contact_check;
pub mod counters;
pub mod delivery;
pub mod engine;
pub mod lanes;
pub mod links;
pub mod outbound;
pub mod render;
pub mod senders;
pub mod setup;
pub mod throttle;
pub mod transport;

use crate::config::Config;
use crate::store::{
    ChangeSet, CommitError, DeliveryStatus, LogEntry, LogKind, Millis, Notification,
    NotificationId, NotificationKind, NotificationQuery, ReadCheck, Store, Write,
};
use arc_swap::ArcSwap;
use lanes::Lanes;
use setup::Setup;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use counters::{DIGESTS, FAILED, HELD, RETRIED, SENT};
/// Incidents whose due level paged nobody, by why: `maintenance`, `low_urgency`.
pub const PAGES_HELD: &str = "inbound_pages_held_total";

/// Where the engine gets the time from: the system clock in production, a
/// hand-set one in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        crate::store::now_millis()
    }
}

/// A clock that moves only when told: for tests of escalation timing.
#[derive(Default)]
pub struct ManualClock(std::sync::atomic::AtomicU64);

impl ManualClock {
    pub fn new(now: Millis) -> Self {
        ManualClock(std::sync::atomic::AtomicU64::new(now))
    }

    pub fn set(&self, now: Millis) {
        self.0.store(now, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Due items taken per pass: bounds one commit and one spawn burst.
const BATCH: usize = 64;
/// The longest the loop sleeps without looking: picks up config reloads
/// and anything a lost wake-up would delay.
const IDLE_POLL: Duration = Duration::from_secs(1);

pub struct Notify {
    store: Arc<Store>,
    setup: ArcSwap<Setup>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    /// Notifications being delivered now, by channel: a pass starts none
    /// twice and no channel past its share of the slots.
    lanes: Arc<Mutex<Lanes>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("there is no notification {0}")]
    NotFound(NotificationId),
    #[error("notification {0} is {1:?}, not failed; only failed notifications are retried")]
    NotFailed(NotificationId, DeliveryStatus),
    #[error("storage failure: {0}")]
    Storage(String),
}

impl Notify {
    pub fn new(store: Arc<Store>, setup: Setup, clock: Arc<dyn Clock>) -> Arc<Notify> {
        Arc::new(Notify {
            store,
            setup: ArcSwap::from_pointee(setup),
            clock,
            client: transport::http_client(),
            lanes: Arc::default(),
        })
    }

    /// Builds the notifiers for `config` (blocking: compiles components).
    pub fn setup(config: &Config, cache_dir: Option<&Path>) -> anyhow::Result<Setup> {
        Setup::build(config.clone(), cache_dir)
    }

    /// Swaps in a new configuration; deliveries in flight finish with the old.
    pub fn reload(&self, setup: Setup) {
        self.setup.store(Arc::new(setup));
        self.store.outbox_signal().notify_one();
    }

    pub fn current(&self) -> Arc<Setup> {
        self.setup.load_full()
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// A test message to each of `person`'s contacts, now (`contact_check`).
    pub async fn check_contacts(
        &self,
        person: &str,
        channel: Option<&str>,
    ) -> Result<Vec<contact_check::ContactCheck>, contact_check::CheckError> {
        contact_check::check(self.current(), &self.client, person, channel, self.clock.now()).await
    }

    /// Runs until the process ends: fires due escalations, starts due
    /// deliveries, sleeps until the next is due or a commit wakes it.
    pub async fn run(self: Arc<Self>) {
        let signal = self.store.outbox_signal();
        let mut paused = false;
        loop {
            let now = self.clock.now();
            let fired = self.fire_due(now).await.map(drop);
            let missed = self.open_missed_heartbeats(now).await.map(drop);
            let started = self.start_due_deliveries(now).await.map(drop);
            report_passes(
                [("escalation", fired), ("heartbeat", missed), ("delivery", started)],
                &mut paused,
            );
            let store = self.store.clone();
            let next = tokio::task::spawn_blocking(move || store.next_due())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            // Due after this pass's `now`: not seen yet, wait until then.
            // Due before it: in flight (or it just conflicted), and the
            // commit that ends it wakes the loop; no reason to spin.
            let wait = match next {
                Some(due) if due > now => {
                    Duration::from_millis(due.saturating_sub(self.clock.now())).min(IDLE_POLL)
                }
                _ => IDLE_POLL,
            };
            let _ = tokio::time::timeout(wait, signal.notified()).await;
        }
    }

    /// Fires every escalation due at `now`, each in its own commit. Returns
    /// how many committed.
    pub async fn fire_due(&self, now: Millis) -> anyhow::Result<usize> {
        let store = self.store.clone();
        let due = tokio::task::spawn_blocking(move || store.due_escalations(now, BATCH)).await??;
        let setup = self.current();
        let mut fired = 0;
        if due.is_empty() {
            return Ok(0);
        }
        let (store, current) = (self.store.clone(), setup.clone());
        let windows = tokio::task::spawn_blocking(move || {
            crate::noise::maintenance::all(&current.config, &store)
        })
        .await??;
        for (escalation, incident) in due {
            let plan =
                engine::plan(&setup, &self.store, &windows, &escalation, incident.as_ref(), now)?;
            match self.store.commit(plan.changes).await {
                Ok(()) => {
                    fired += 1;
                    if let Some(reason) = plan.held {
                        metrics::counter!(PAGES_HELD, "reason" => reason).increment(1);
                    }
                }
                // Accepted, resolved or fired meanwhile: the next pass sees it.
                Err(CommitError::Conflict) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(fired)
    }

    /// Opens an incident for each heartbeat overdue at `now`; its escalation
    /// is due at once, for the next pass.
    pub async fn open_missed_heartbeats(&self, now: Millis) -> anyhow::Result<usize> {
        let setup = self.current();
        if setup.config.heartbeats.is_empty() {
            return Ok(0);
        }
        let opened = crate::heartbeats::open_missed(&self.store, &setup.config, now).await?;
        if opened > 0 {
            self.store.outbox_signal().notify_one();
        }
        Ok(opened)
    }

    /// Starts the delivery of every notification due at `now` that is not
    /// already being delivered, as far as the free slots go: each channel
    /// within its cap, channels taking turns. Returns the tasks (tests
    /// await them).
    pub async fn start_due_deliveries(
        self: &Arc<Self>,
        now: Millis,
    ) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let setup = self.current();
        let mut tasks = Vec::new();
        // A listing may be cut at BATCH by one channel's backlog; once that
        // channel is full it is left out, so list again until nothing new
        // starts (at most once per channel that fills up).
        loop {
            let filter = {
                let lanes = self.lanes.lock().expect("delivery lanes");
                if lanes.is_full(setup.as_ref()) {
                    break;
                }
                lanes.filter(setup.as_ref())
            };
            let store = self.store.clone();
            let due =
                tokio::task::spawn_blocking(move || store.due_notifications(now, BATCH, &filter))
                    .await??;
            let listed_all = due.len() < BATCH;
            let started =
                lanes::take(&self.lanes, due, setup.as_ref(), &self.store.outbox_signal());
            let none_started = started.is_empty();
            for batch in started {
                let this = self.clone();
                let setup = setup.clone();
                tasks.push(tokio::spawn(async move {
                    let lanes::Batch { notifications, contact, slot } = batch;
                    let channel = &notifications[0].recipient.channel;
                    match contact.zip(setup.throttle(channel)) {
                        Some((key, window)) => {
                            let clock = || this.clock.now();
                            let to = contact::Contact {
                                store: &this.store,
                                setup: setup.clone(),
                                client: &this.client,
                                clock: &clock,
                                key,
                                window,
                            };
                            if let Err(error) = contact::deliver(&to, notifications).await {
                                tracing::error!(contact = %to.key, "delivery failed to record: {error:#}");
                            }
                        }
                        None => {
                            for notification in notifications {
                                let id = notification.id;
                                if let Err(error) = this.deliver(notification).await {
                                    tracing::error!(notification = id, "delivery failed to record: {error:#}");
                                }
                            }
                        }
                    }
                    drop(slot);
                }));
            }
            if listed_all || none_started {
                break;
            }
        }
        Ok(tasks)
    }

    /// One attempt at one notification, recorded durably.
    async fn deliver(&self, listed: Notification) -> anyhow::Result<()> {
        // The list may predate a commit that finished this one: read again.
        let store = self.store.clone();
        let id = listed.id;
        let (current, incident) = tokio::task::spawn_blocking(move || {
            let notification = store.notification(id)?;
            let incident = match &notification {
                Some(n) => store.snapshot()?.incident(n.incident)?,
                None => None,
            };
            Ok::<_, crate::store::Error>((notification, incident))
        })
        .await??;
        let Some(notification) =
            current.filter(|n| n.version == listed.version && n.status == DeliveryStatus::Pending)
        else {
            return Ok(());
        };
        let setup = self.current();
        if let Some(changes) = incident
            .as_ref()
            .and_then(|incident| delivery::cancelled(&notification, incident, self.clock.now()))
        {
            // A later rule step whose incident someone took meanwhile.
            return match self.store.commit(changes).await {
                Ok(()) | Err(CommitError::Conflict) => Ok(()),
                Err(error) => Err(error.into()),
            };
        }
        if notification.kind == NotificationKind::Outbound
            && self.wait_for_earlier(&notification).await?
        {
            return Ok(());
        }
        // One host alone never lists a notification twice (`in_flight`);
        // hosts sharing a database must claim it first.
        let notification = if self.store.is_shared() {
            match self.claim(&setup, notification).await? {
                Some(claimed) => claimed,
                None => return Ok(()),
            }
        } else {
            notification
        };
        let now = self.clock.now();
        let mut remembered = Vec::new();
        let (outcome, sent) = match &incident {
            Some(incident) if notification.kind == NotificationKind::Outbound => {
                let (outcome, sent, kept) = outbound::attempt(
                    setup.clone(),
                    &self.store,
                    &self.client,
                    &notification,
                    incident,
                    now,
                )
                .await;
                remembered = kept;
                (outcome, sent)
            }
            Some(incident) => {
                delivery::attempt(setup.clone(), &self.client, &notification, incident, now).await
            }
            None => (
                delivery::Attempt::Failed("the incident no longer exists".into()),
                notification.messages_sent,
            ),
        };
        let about = format!("notification {id}");
        counters::attempt(&outcome, &notification.recipient.channel, 1, &about);
        let recorded_at = self.clock.now();
        let mut changes = delivery::record(&setup, &notification, &outcome, sent, recorded_at);
        // What the sender answered is kept with the attempt's record, in
        // one commit: a silence id is never sent without being kept. Its
        // room in the state was checked before anything was sent.
        if let (false, Some(source)) = (remembered.is_empty(), notification.outbound_source()) {
            let quota = outbound::state_quota(&setup, source);
            changes.writes.extend(outbound::remembered_changes(source, remembered, quota).writes);
        }
        match self.store.commit(changes).await {
            Ok(()) | Err(CommitError::Conflict) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// An incident's updates to its sender go out in order: while an
    /// earlier one is pending (being sent, or waiting to retry, here or on
    /// another host), this one waits until just after that one's next
    /// attempt. Returns whether it waits.
    async fn wait_for_earlier(&self, notification: &Notification) -> anyhow::Result<bool> {
        let store = self.store.clone();
        let query = NotificationQuery {
            status: Some(DeliveryStatus::Pending),
            incident: Some(notification.incident),
            before: Some(notification.id),
            limit: 100,
        };
        let earlier = tokio::task::spawn_blocking(move || store.notifications(&query)).await??;
        let Some(due) = earlier
            .items
            .iter()
            .filter(|n| n.kind == NotificationKind::Outbound)
            .map(|n| n.next_attempt_at)
            .max()
        else {
            return Ok(false);
        };
        let mut waiting = notification.clone();
        waiting.version += 1;
        waiting.next_attempt_at = due.max(self.clock.now()) + 1;
        let changes = ChangeSet {
            reads: vec![ReadCheck::NotificationVersion {
                id: notification.id,
                expected: Some(notification.version),
            }],
            writes: vec![Write::PutNotification(waiting)],
        };
        match self.store.commit(changes).await {
            Ok(()) | Err(CommitError::Conflict) => Ok(true),
            Err(error) => Err(error.into()),
        }
    }

    /// Claims `notification` for one attempt by this host: commits it due
    /// again only after a lease, and returns it as claimed. Several hosts on
    /// one PostgreSQL database list the same due notification; the version
    /// check lets one claim commit, and the others see a conflict and leave
    /// it (`None`). Should this host die mid-attempt, the notification is
    /// due again when the lease ends. The lease outlasts any attempt: an
    /// attempt may send a few messages, each up to the channel's timeout.
    async fn claim(
        &self,
        setup: &Setup,
        notification: Notification,
    ) -> anyhow::Result<Option<Notification>> {
        let lease = setup.claim_lease(&notification.recipient.channel);
        let mut claimed = notification.clone();
        claimed.next_attempt_at = self.clock.now() + lease.as_millis() as u64;
        claimed.version += 1;
        let changes = ChangeSet {
            reads: vec![ReadCheck::NotificationVersion {
                id: notification.id,
                expected: Some(notification.version),
            }],
            writes: vec![Write::PutNotification(claimed.clone())],
        };
        match self.store.commit(changes).await {
            Ok(()) => Ok(Some(claimed)),
            Err(CommitError::Conflict) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Puts a failed notification back in the outbox, due now, with a fresh
    /// set of attempts; `by` is recorded in the incident's log.
    pub async fn retry(&self, id: NotificationId, by: &str) -> Result<Notification, RetryError> {
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || store.notification(id))
            .await
            .map_err(|error| RetryError::Storage(error.to_string()))?
            .map_err(|error| RetryError::Storage(error.to_string()))?
            .ok_or(RetryError::NotFound(id))?;
        if found.status != DeliveryStatus::Failed {
            return Err(RetryError::NotFailed(id, found.status));
        }
        let now = self.clock.now();
        let mut next = found.clone();
        next.status = DeliveryStatus::Pending;
        next.attempts = 0;
        next.next_attempt_at = now;
        next.version += 1;
        let changes = ChangeSet {
            reads: vec![ReadCheck::NotificationVersion { id, expected: Some(found.version) }],
            writes: vec![
                Write::PutNotification(next.clone()),
                Write::AppendLog {
                    incident: found.incident,
                    entry: LogEntry {
                        at: now,
                        kind: LogKind::NotificationAttempt {
                            notification: id,
                            channel: found.recipient.channel.clone(),
                            recipient: engine::describe(&found.recipient),
                            attempt: 0,
                            outcome: "retry-requested".into(),
                            detail: format!("retry requested by {by}"),
                        },
                    },
                },
            ],
        };
        self.store.commit(changes).await.map_err(|error| RetryError::Storage(error.to_string()))?;
        Ok(next)
    }

    /// For tests with a hand-set clock: one full pass at `now`, waiting for
    /// every delivery it starts.
    pub async fn step(self: &Arc<Self>, now: Millis) -> anyhow::Result<usize> {
        self.open_missed_heartbeats(now).await?;
        let fired = self.fire_due(now).await?;
        for task in self.start_due_deliveries(now).await? {
            task.await?;
        }
        Ok(fired)
    }
}

/// Logs the engine's passes. Storage that is unavailable (a full disk,
/// PostgreSQL down) is logged once when the passes stop and once when they
/// run again: it lasts until the store is back, and the store logs its own
/// side; an error every second would bury it. Anything else, every time.
fn report_passes<const N: usize>(
    passes: [(&str, anyhow::Result<()>); N],
    paused: &mut bool,
) -> Option<Outage> {
    let mut unavailable = None;
    for (pass, result) in passes {
        match result {
            Ok(()) => {}
            Err(error) if storage_unavailable(&error) => unavailable = Some(error),
            Err(error) => tracing::error!("{pass} pass failed: {error:#}"),
        }
    }
    match unavailable {
        Some(error) if !*paused => {
            *paused = true;
            tracing::warn!(
                "escalations and notifications wait while storage is unavailable: {error:#}"
            );
            Some(Outage::Began)
        }
        None if *paused => {
            *paused = false;
            tracing::info!("storage is available again; escalations and notifications go on");
            Some(Outage::Ended)
        }
        _ => None,
    }
}

/// What [`report_passes`] logged about a storage outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outage {
    Began,
    Ended,
}

fn storage_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<crate::store::Error>().is_some_and(crate::store::Error::is_unavailable)
            || matches!(
                cause.downcast_ref::<crate::store::CommitError>(),
                Some(crate::store::CommitError::Unavailable(_))
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> anyhow::Result<()> {
        Err(anyhow::Error::new(crate::store::Error::Unavailable("connection refused".into())))
    }

    #[test]
    fn an_outage_is_told_once_when_it_begins_and_once_when_it_ends() {
        let mut paused = false;
        let mut pass = |escalation, delivery| {
            report_passes([("escalation", escalation), ("delivery", delivery)], &mut paused)
        };
        assert_eq!(pass(down(), down()), Some(Outage::Began));
        assert_eq!(pass(down(), down()), None, "not again every second");
        assert_eq!(pass(Ok(()), down()), None, "one pass working is not the end");
        assert_eq!(pass(Ok(()), Ok(())), Some(Outage::Ended));
        assert_eq!(pass(Ok(()), Ok(())), None);
    }

    #[test]
    fn other_failures_are_not_an_outage() {
        let mut paused = false;
        let failed = Err(anyhow::anyhow!("a notifier component trapped"));
        assert_eq!(
            report_passes([("escalation", failed), ("delivery", Ok(()))], &mut paused),
            None
        );
        assert!(!paused);
    }
}
