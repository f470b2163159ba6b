//! What the notify service takes from one version of the config: policies,
//! people, schedules, channels with their loaded notifiers. Rebuilt whole on
//! reload and swapped in, like the rest of the live config.

use super::links::LinkSigner;
use super::render::NotifierHost;
use super::throttle::Window;
use crate::config::Config;
use crate::config::notify::{ChannelConfig, Target};
use crate::store::{Millis, Notification, Recipient, Shift};
use std::path::Path;
use std::time::Duration;

pub struct Setup {
    pub config: Config,
    pub notifiers: NotifierHost,
    pub links: Option<LinkSigner>,
    /// The integration plugins of the same config, for sources that act
    /// back on their sender; `None` until the server hands them over.
    pub senders: Option<super::senders::Senders>,
}

/// Who one target reached, or why it reached nobody.
#[derive(Debug, Default, PartialEq)]
pub struct Resolved {
    pub recipients: Vec<Paged>,
    pub skipped: Vec<String>,
}

/// One contact to notify, and when: at once, or a person's rule's minutes
/// after the level fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged {
    pub recipient: Recipient,
    pub after_minutes: u32,
}

impl Setup {
    /// Loads every channel's notifier. Blocking: components are compiled here.
    pub fn build(config: Config, cache_dir: Option<&Path>) -> anyhow::Result<Setup> {
        let mut notifiers = NotifierHost::new()?;
        for channel in &config.channels {
            notifiers.load(&channel.name, &config.resolve(&channel.plugin), cache_dir)?;
        }
        for warning in unthrottled(&config, &notifiers) {
            tracing::warn!("{warning}");
        }
        let links = config.notifications.link_secret.as_deref().map(LinkSigner::new);
        Ok(Setup { config, notifiers, links, senders: None })
    }

    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.config.channel(name)
    }

    /// The recipients of a level's targets at `now`, each (channel, person)
    /// once, in the order the targets are written. A schedule pages whoever
    /// is on call, `shifts` taken at run time included.
    pub fn resolve(&self, targets: &[String], now: Millis, shifts: &[Shift]) -> Resolved {
        let mut resolved = Resolved::default();
        let mut add = |paged: Paged, resolved: &mut Resolved| {
            // A person's rules may name one contact twice (push now, push
            // again after 10 minutes): each step is its own notification.
            if !resolved.recipients.contains(&paged) {
                resolved.recipients.push(paged);
            }
        };
        for text in targets {
            match Target::parse(text) {
                Some(Target::Person(name)) => self.person(&name, &mut resolved, &mut add),
                Some(Target::Schedule(name)) => match self.config.schedule(&name) {
                    Some(schedule) => {
                        let at = jiff::Timestamp::from_millisecond(now as i64)
                            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                        let pageable: Vec<Shift> = shifts
                            .iter()
                            .filter(|shift| self.config.can_be_paged(&shift.person))
                            .cloned()
                            .collect();
                        let taken = crate::store::covers(&pageable, &schedule.name);
                        let person = schedule.on_call_with(at, &taken).to_string();
                        self.person(&person, &mut resolved, &mut add);
                    }
                    None => resolved.skipped.push(format!("{text}: no such schedule")),
                },
                Some(Target::Channel(name)) if self.channel(&name).is_some() => {
                    let recipient = Recipient { channel: name, person: None, address: None };
                    add(Paged { recipient, after_minutes: 0 }, &mut resolved)
                }
                _ => resolved.skipped.push(format!("{text}: not a declared target")),
            }
        }
        resolved
    }

    /// The person's contacts: all at once, or as their rules say (each
    /// rule's channel, that many minutes after the level fired).
    fn person(
        &self,
        name: &str,
        resolved: &mut Resolved,
        add: &mut impl FnMut(Paged, &mut Resolved),
    ) {
        let Some(person) = self.config.person(name) else {
            resolved.skipped.push(format!("person:{name}: no such person"));
            return;
        };
        let recipient = |contact: &crate::config::notify::ContactConfig| Recipient {
            channel: contact.channel.clone(),
            person: Some(person.name.clone()),
            address: Some(contact.address.clone()),
        };
        if person.rules.is_empty() {
            for contact in &person.contacts {
                add(Paged { recipient: recipient(contact), after_minutes: 0 }, resolved);
            }
            return;
        }
        for rule in &person.rules {
            for contact in person.contacts.iter().filter(|c| c.channel == rule.channel) {
                let paged =
                    Paged { recipient: recipient(contact), after_minutes: rule.after_minutes };
                add(paged, resolved);
            }
        }
    }

    /// An escalation delay in real time: `[notifications] time_scale` divides it.
    pub fn delay(&self, minutes: u32) -> Millis {
        let real = Duration::from_secs(minutes as u64 * 60).as_millis() as u64;
        real / self.config.notifications.time_scale.max(1) as u64
    }

    /// The delay before attempt `attempt + 1` (attempt counts from 1):
    /// exponential from `retry_initial_ms`, capped at `retry_max_ms`, with
    /// jitter so channels recovering together are not hit in step.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Millis {
        let settings = &self.config.notifications;
        let exponential = settings
            .retry_initial_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
            .min(settings.retry_max_ms);
        // Between half and all of it ("equal jitter"): spread, never zero.
        let jittered = exponential / 2 + rand::random_range(0..=exponential / 2);
        let asked = retry_after.map_or(0, |d| d.as_millis() as u64);
        jittered.max(asked)
    }

    /// The incident's web address for links: `<public_url>/ack/<token>`.
    pub fn link(&self, token: &str) -> String {
        format!("{}/ack/{token}", self.config.public_url())
    }

    pub fn channel_timeout(&self, channel: &ChannelConfig) -> Duration {
        Duration::from_millis(channel.timeout_ms)
    }

    /// How long a claim on `channel`'s notifications holds on a shared
    /// database: longer than any attempt (a few messages, each up to the
    /// channel's timeout), should the claiming host die mid-attempt.
    pub fn claim_lease(&self, channel: &str) -> Duration {
        let timeout = match channel.strip_prefix(crate::store::OUTBOUND_CHANNEL_PREFIX) {
            Some(source) => self
                .config
                .outbound(source)
                .map_or(Duration::ZERO, |outbound| Duration::from_millis(outbound.timeout_ms)),
            None => self.channel(channel).map_or(Duration::ZERO, |c| self.channel_timeout(c)),
        };
        timeout * 4 + Duration::from_secs(60)
    }

    /// `channel`'s throttle in real time: none when it is off or the
    /// channel's notifier renders no digests (0.1.0).
    pub fn throttle(&self, channel: &str) -> Option<Window> {
        if !self.notifiers.renders_digests(channel) {
            return None;
        }
        let throttle = self.channel(channel)?.throttle()?;
        Some(Window {
            max_messages: throttle.max_messages,
            length: self.delay(throttle.window_minutes).max(1),
        })
    }
}

/// A throttle configured on a channel whose notifier cannot render digests
/// (0.1.0) does nothing: such channels send one message per notification.
pub fn unthrottled(config: &Config, notifiers: &NotifierHost) -> Vec<String> {
    config
        .channels
        .iter()
        .filter(|channel| channel.throttle.is_some_and(|t| t.max_messages != Some(0)))
        .filter(|channel| notifiers.version(&channel.name) == Some("0.1.0"))
        .map(|channel| {
            format!(
                "channel {:?} has [channels.throttle], but its notifier is built for inbound:notifier@0.1.0, which has no digests, so the channel is not throttled (one message per notification); rebuild the notifier with inbound-notifier-sdk 0.4 or remove the table",
                channel.name
            )
        })
        .collect()
}

impl super::lanes::Caps for Setup {
    fn total(&self) -> usize {
        self.config.notifications.max_concurrent_deliveries.max(1)
    }

    /// The channel's `max_concurrent`, by default a quarter of the total:
    /// a channel whose receiver stalls leaves three quarters to the others.
    fn of_channel(&self, channel: &str) -> usize {
        let default = (self.total() / 4).max(1);
        self.channel(channel)
            .and_then(|c| c.max_concurrent)
            .unwrap_or(default)
            .clamp(1, self.total())
    }

    /// Every notification on a throttled channel: pages, and resolved
    /// notices too (a storm that resolves at once would otherwise send one
    /// notice per incident).
    ///
    /// A source's requests to its sender are never throttled, but each
    /// incident's travel together the same way: in order, one at a time.
    fn throttled(&self, notification: &Notification) -> bool {
        notification.kind == crate::store::NotificationKind::Outbound
            || self.throttle(&notification.recipient.channel).is_some()
    }
}
