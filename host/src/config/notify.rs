//! The configuration of escalation and notifications, as typed structs:
//! `[notifications]`, `[[channels]]`, `[[people]]`, `[[schedules]]`, and the
//! targets of escalation levels. Checked by `validate_notify`; a schedule
//! answers who is on call once checked (`oncall::Schedule`).

use crate::roles::Role;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Signs one-click accept/resolve links. Without it notifications carry
    /// no links.
    pub link_secret: Option<String>,
    pub link_secret_env: Option<String>,
    /// How long a one-click link works.
    pub link_valid_hours: u64,
    /// First retry delay of a failed delivery; doubles per attempt, with jitter.
    pub retry_initial_ms: u64,
    /// Longest delay between two attempts.
    pub retry_max_ms: u64,
    /// Attempts before a notification is marked failed.
    pub max_attempts: u32,
    /// Deliveries in flight at once, over all channels.
    pub max_concurrent_deliveries: usize,
    /// Escalation delays are divided by this: 60 makes a minute last a second.
    /// For tests and demos; leave it at 1 in production.
    pub time_scale: u32,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            link_secret: None,
            link_secret_env: None,
            link_valid_hours: 72,
            retry_initial_ms: 10_000,
            retry_max_ms: 600_000,
            max_attempts: 12,
            max_concurrent_deliveries: 16,
            time_scale: 1,
        }
    }
}

/// Longest `link_valid_hours`: a year. Links are bearer credentials.
pub const MAX_LINK_VALID_HOURS: u64 = 24 * 365;

/// Longest person or channel name. Signed links carry the name, so a link
/// naming anything longer is refused before it is looked up.
pub const MAX_NAME_CHARS: usize = 100;

/// Where a channel's notifications go and which notifier renders them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub name: String,
    /// The notifier component (`.wasm`), relative to the config file.
    pub plugin: PathBuf,
    /// HTTP channels: the destination; its origin is the only one the host
    /// contacts for this channel (resolved from `url_env` after loading).
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// Email channels: the SMTP server.
    pub smtp: Option<SmtpConfig>,
    /// Handed to the notifier as `channel.secret` (e.g. to sign webhooks).
    pub signing_secret: Option<String>,
    pub signing_secret_env: Option<String>,
    /// Handed to the notifier as JSON.
    #[serde(default)]
    pub settings: toml::Table,
    /// Longest one delivery attempt may take: its render and every message
    /// it sends (connect, send, answer), all together.
    #[serde(default = "default_channel_timeout")]
    pub timeout_ms: u64,
    /// Deliveries of this channel in flight at once. Default: a quarter of
    /// `[notifications] max_concurrent_deliveries` (at least 1), so a channel
    /// whose receiver stalls cannot hold every slot.
    pub max_concurrent: Option<usize>,
    /// How many messages one contact may get per window; what would exceed
    /// it is held and sent as one digest. Default by kind: [`ThrottleConfig`].
    pub throttle: Option<ThrottleConfig>,
    /// People's SMS replies to this channel's pages act
    /// (`POST /api/v1/channels/{name}/inbound`, signed with
    /// `signing_secret` as Twilio signs). Off by default: a channel's secret
    /// is shared with its receiver, who must not act as people.
    #[serde(default)]
    pub replies: bool,
}

fn default_channel_timeout() -> u64 {
    10_000
}

/// `[channels.throttle]`: at most `max_messages` messages to one contact (a
/// person's address on the channel, or the channel itself for a `channel:`
/// target) per `window_minutes`; `max_messages = 0` turns it off. A key
/// left out takes its kind's default: email 5 per 10 minutes (an inbox is
/// read in bulk), HTTP channels 10 per 10 minutes (chat, push, webhooks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    pub max_messages: Option<u32>,
    pub window_minutes: Option<u32>,
}

/// A channel's throttle in force: both numbers positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub max_messages: u32,
    pub window_minutes: u32,
}

/// Defaults of `[channels.throttle]`, by kind of channel.
pub const EMAIL_THROTTLE: Throttle = Throttle { max_messages: 5, window_minutes: 10 };
pub const HTTP_THROTTLE: Throttle = Throttle { max_messages: 10, window_minutes: 10 };
/// Largest `max_messages`: past it a throttle throttles nothing a person
/// could read, and each contact's record keeps that many send times.
pub const MAX_THROTTLE_MESSAGES: u32 = 1000;
/// Longest `window_minutes`: a day.
pub const MAX_THROTTLE_WINDOW_MINUTES: u32 = 24 * 60;

impl ChannelConfig {
    /// The throttle in force: the configured numbers over the kind's
    /// defaults; none when `max_messages = 0`.
    pub fn throttle(&self) -> Option<Throttle> {
        let default = if self.smtp.is_some() { EMAIL_THROTTLE } else { HTTP_THROTTLE };
        let set = self.throttle.unwrap_or_default();
        let throttle = Throttle {
            max_messages: set.max_messages.unwrap_or(default.max_messages),
            window_minutes: set.window_minutes.unwrap_or(default.window_minutes),
        };
        (throttle.max_messages > 0 && throttle.window_minutes > 0).then_some(throttle)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 465 for `tls`, 587 for `starttls`, 25 for `none`.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    /// The sender, e.g. `"inbound <inbound@example.com>"`.
    pub from: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only for a relay on the same machine or in tests.
    None,
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Tls => 465,
            SmtpTls::Starttls => 587,
            SmtpTls::None => 25,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonConfig {
    pub name: String,
    /// What the person may do once signed in to the console; people are
    /// paged, so by default they may answer: `responder`.
    #[serde(default = "default_person_role")]
    pub role: Role,
    /// Matches the person to an OpenID Connect sign-in (`[ui.oidc]`
    /// `match_claim = "email"`); also how they are known in the audit trail.
    #[serde(default)]
    pub email: Option<String>,
    /// How to reach the person: every contact at once when they are
    /// notified, unless `rules` say otherwise.
    #[serde(default)]
    pub contacts: Vec<ContactConfig>,
    /// The person's own notification rules: which of their contacts, and
    /// how long after a level notifies them, while nobody accepts (push at
    /// once, SMS after 3 minutes, a call after 6). Empty: every contact at
    /// once.
    #[serde(default)]
    pub rules: Vec<NotificationRule>,
}

/// One step of a person's notification rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// A channel the person has a contact on.
    pub channel: String,
    /// Minutes after the level fired; the step is skipped if the incident
    /// was accepted or resolved by then.
    #[serde(default)]
    pub after_minutes: u32,
}

/// The longest a rule may wait: a day.
pub const MAX_RULE_MINUTES: u32 = 24 * 60;

fn default_person_role() -> Role {
    Role::Responder
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactConfig {
    pub channel: String,
    /// The person's address on that channel: an email address, a Slack
    /// member id, ...
    pub address: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub name: String,
    /// An IANA time zone, e.g. `Europe/Oslo`: hand-offs follow its clock,
    /// also across daylight-saving changes.
    pub timezone: String,
    pub rotation: RotationConfig,
    #[serde(default)]
    pub overrides: Vec<OverrideConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationConfig {
    /// People, in order of their turns.
    pub members: Vec<String>,
    pub length_days: Option<u32>,
    pub length_weeks: Option<u32>,
    /// Local time of the hand-off, `HH:MM`.
    #[serde(default = "default_handoff")]
    pub handoff: String,
    /// The first member's first turn starts on this date (`YYYY-MM-DD`) at `handoff`.
    pub start: String,
}

fn default_handoff() -> String {
    "09:00".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideConfig {
    pub person: String,
    /// Local times in the schedule's zone, `YYYY-MM-DD HH:MM`; `until` excluded.
    pub from: String,
    pub until: String,
}

/// Who a level notifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Person(String),
    Schedule(String),
    Channel(String),
}

impl Target {
    pub fn parse(text: &str) -> Option<Target> {
        let (kind, name) = text.split_once(':')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        match kind.trim() {
            "person" => Some(Target::Person(name.into())),
            "schedule" => Some(Target::Schedule(name.into())),
            "channel" => Some(Target::Channel(name.into())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("person:ada"), Some(Target::Person("ada".into())));
        assert_eq!(Target::parse("schedule: x"), Some(Target::Schedule("x".into())));
        assert_eq!(Target::parse("channel:y"), Some(Target::Channel("y".into())));
        assert_eq!(Target::parse("team:y"), None);
        assert_eq!(Target::parse("person:"), None);
        assert_eq!(Target::parse("ada"), None);
    }

    fn channel(smtp: bool, throttle: Option<ThrottleConfig>) -> ChannelConfig {
        ChannelConfig {
            name: "c".into(),
            plugin: "n.wasm".into(),
            url: (!smtp).then(|| "https://hooks.example.com/x".into()),
            url_env: None,
            smtp: smtp.then(|| SmtpConfig {
                host: "smtp.example.com".into(),
                port: None,
                tls: SmtpTls::Starttls,
                username: None,
                password: None,
                password_env: None,
                from: "inbound@example.com".into(),
            }),
            signing_secret: None,
            signing_secret_env: None,
            settings: toml::Table::new(),
            timeout_ms: 10_000,
            max_concurrent: None,
            throttle,
            replies: false,
        }
    }

    #[test]
    fn throttles_default_by_kind_and_zero_turns_them_off() {
        assert_eq!(channel(true, None).throttle(), Some(EMAIL_THROTTLE));
        assert_eq!(channel(false, None).throttle(), Some(HTTP_THROTTLE));
        let some = |max, window| Some(ThrottleConfig { max_messages: max, window_minutes: window });
        assert_eq!(
            channel(true, some(Some(2), None)).throttle(),
            Some(Throttle { max_messages: 2, window_minutes: 10 })
        );
        assert_eq!(channel(false, some(Some(0), Some(5))).throttle(), None);
    }
}
