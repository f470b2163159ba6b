//! The configuration of escalation and notifications: `[notifications]`,
//! `[[channels]]`, `[[people]]`, `[[schedules]]`, and the targets of
//! escalation levels. Validated with the rest of the file, with the same
//! `file:line: key: message` errors.

use super::{Config, ConfigError, Errors, Secret};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::HashSet;
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
}

fn default_channel_timeout() -> u64 {
    10_000
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
    /// How to reach the person, tried all at once when they are notified.
    #[serde(default)]
    pub contacts: Vec<ContactConfig>,
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

/// A schedule checked and ready to answer "who is on call at t".
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub timezone: TimeZone,
    pub members: Vec<String>,
    pub length_days: i64,
    pub handoff: Time,
    pub start: Date,
    /// (person, from, until) as instants; later overrides win.
    pub overrides: Vec<(String, jiff::Timestamp, jiff::Timestamp)>,
}

impl Schedule {
    /// The person on call at `at`: an override covering it, else the member
    /// whose turn it is. Turns start at the hand-off time on the zone's
    /// clock, so a 09:00 hand-off stays at 09:00 across DST changes.
    pub fn on_call(&self, at: jiff::Timestamp) -> &str {
        if let Some((person, _, _)) =
            self.overrides.iter().rev().find(|(_, from, until)| *from <= at && at < *until)
        {
            return person;
        }
        let local = at.to_zoned(self.timezone.clone());
        let days = (local.date() - self.start).get_days() as i64;
        let mut turn = days.div_euclid(self.length_days);
        if local.datetime() < self.turn_start(turn) {
            turn -= 1;
        }
        let index = turn.rem_euclid(self.members.len() as i64) as usize;
        &self.members[index]
    }

    /// The local date and time turn `turn` begins.
    fn turn_start(&self, turn: i64) -> DateTime {
        let offset = jiff::Span::new().days(turn * self.length_days);
        self.start.checked_add(offset).unwrap_or(self.start).to_datetime(self.handoff)
    }

    /// When the turn running at `at` ends (an override is not a turn).
    pub fn next_handoff(&self, at: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let local = at.to_zoned(self.timezone.clone());
        let days = (local.date() - self.start).get_days() as i64;
        let mut turn = days.div_euclid(self.length_days);
        if local.datetime() >= self.turn_start(turn) {
            turn += 1;
        }
        self.turn_start(turn).to_zoned(self.timezone.clone()).ok().map(|z| z.timestamp())
    }
}

impl Config {
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|channel| channel.name == name)
    }

    pub fn person(&self, name: &str) -> Option<&PersonConfig> {
        self.people.iter().find(|person| person.name == name)
    }

    pub fn schedule(&self, name: &str) -> Option<&Schedule> {
        self.resolved_schedules.iter().find(|schedule| schedule.name == name)
    }

    /// Checks the notification sections and every escalation target;
    /// resolves secrets and URLs from the environment.
    pub(super) fn validate_notify(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        self.validate_notifications(errors)?;
        self.validate_channels(errors)?;
        self.validate_people(errors)?;
        self.validate_schedules(errors)?;
        self.validate_targets(errors)
    }

    fn validate_notifications(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let n = &self.notifications;
        let positive = [
            ("notifications.link_valid_hours", n.link_valid_hours),
            ("notifications.retry_initial_ms", n.retry_initial_ms),
            ("notifications.retry_max_ms", n.retry_max_ms),
            ("notifications.max_attempts", n.max_attempts as u64),
            ("notifications.max_concurrent_deliveries", n.max_concurrent_deliveries as u64),
            ("notifications.time_scale", n.time_scale as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(
                    errors.at(key, "must be greater than 0; remove the key to use its default")
                );
            }
        }
        if n.link_valid_hours > MAX_LINK_VALID_HOURS {
            return Err(errors.at(
                "notifications.link_valid_hours",
                format!("must be at most {MAX_LINK_VALID_HOURS} (a year); remove the key to use its default (72)"),
            ));
        }
        let secret = Secret {
            errors,
            table: "notifications",
            label: "",
            hint: "generate one with `openssl rand -hex 32`",
        };
        let env = self.notifications.link_secret_env.as_deref();
        let link =
            secret.optional("link_secret", self.notifications.link_secret.as_deref(), env)?;
        if let Some(value) = &link {
            if value.chars().count() < super::MIN_KEY_CHARS {
                return Err(secret.error(
                    "link_secret",
                    env,
                    format!(
                        "the link secret must be at least {} characters; generate one with `openssl rand -hex 32`",
                        super::MIN_KEY_CHARS
                    ),
                ));
            }
            secret.random_looking("link_secret", env, value, "openssl rand -hex 32")?;
        }
        self.notifications.link_secret = link;
        Ok(())
    }

    fn validate_channels(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        let folder = self.file.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        for (index, channel) in self.channels.iter_mut().enumerate() {
            let at = |field: &str| format!("channels[{index}].{field}");
            let named =
                |field: &str| format!("channels[{index}].{field} (channel {:?})", channel.name);
            if channel.name.trim().is_empty() {
                return Err(errors.at(at("name"), "a channel needs a name; set name = \"...\""));
            }
            if channel.name.chars().count() > MAX_NAME_CHARS {
                return Err(errors.at(
                    at("name"),
                    format!("a channel's name may have at most {MAX_NAME_CHARS} characters"),
                ));
            }
            if !names.insert(channel.name.clone()) {
                return Err(errors.at_key(
                    at("name"),
                    named("name"),
                    "another channel has this name; names must be unique, rename one",
                ));
            }
            let plugin = if channel.plugin.is_absolute() {
                channel.plugin.clone()
            } else {
                folder.join(&channel.plugin)
            };
            if !plugin.is_file() {
                return Err(errors.at_key(
                    at("plugin"),
                    named("plugin"),
                    format!(
                        "the notifier file {} does not exist; build it (make plugins) or fix the path, which is relative to the config file",
                        plugin.display()
                    ),
                ));
            }
            if channel.timeout_ms == 0 {
                return Err(errors.at_key(
                    at("timeout_ms"),
                    named("timeout_ms"),
                    "must be greater than 0; remove the key to use its default (10000)",
                ));
            }
            if channel.max_concurrent == Some(0) {
                return Err(errors.at_key(
                    at("max_concurrent"),
                    named("max_concurrent"),
                    "must be greater than 0; remove the key to use its default (a quarter of [notifications] max_concurrent_deliveries)",
                ));
            }
            let secret = Secret {
                errors,
                table: &format!("channels[{index}]"),
                label: &format!(" (channel {:?})", channel.name),
                hint: "generate one with `openssl rand -hex 32`",
            };
            let url = secret.optional("url", channel.url.as_deref(), channel.url_env.as_deref())?;
            match (&url, &channel.smtp) {
                (Some(_), Some(_)) => {
                    return Err(errors.at_key(
                        at("smtp"),
                        named("smtp"),
                        "a channel sends either over HTTP (url) or by email (smtp), not both; keep one",
                    ));
                }
                (None, None) => {
                    return Err(errors.at_key(
                        at("name"),
                        named("url"),
                        "missing: set url = \"https://...\" (or url_env) for an HTTP channel, or an [channels.smtp] table for email",
                    ));
                }
                (Some(url), None) => {
                    if let Err(why) = check_http_url(url) {
                        let key = if channel.url_env.is_some() { "url_env" } else { "url" };
                        return Err(errors.at_key(at(key), named(key), why));
                    }
                }
                (None, Some(smtp)) => {
                    if smtp.host.trim().is_empty() {
                        return Err(errors.at_key(
                            at("smtp.host"),
                            named("smtp.host"),
                            "the SMTP server's host name is empty; write e.g. host = \"smtp.example.com\"",
                        ));
                    }
                    if !is_mailbox(&smtp.from) {
                        return Err(errors.at_key(
                            at("smtp.from"),
                            named("smtp.from"),
                            format!(
                                "{:?} is not an email address; write e.g. from = \"inbound <inbound@example.com>\"",
                                smtp.from
                            ),
                        ));
                    }
                    let password = Secret {
                        table: &format!("channels[{index}].smtp"),
                        hint: "the SMTP server's password",
                        ..secret
                    }
                    .optional(
                        "password",
                        smtp.password.as_deref(),
                        smtp.password_env.as_deref(),
                    )?;
                    if password.is_some() != smtp.username.is_some() {
                        return Err(errors.at_key(
                            at("smtp"),
                            named("smtp"),
                            "set both username and password (or password_env) to log in, or neither",
                        ));
                    }
                    if let Some(smtp) = channel.smtp.as_mut() {
                        smtp.password = password;
                    }
                }
            }
            channel.url = url;
            channel.signing_secret = secret.optional(
                "signing_secret",
                channel.signing_secret.as_deref(),
                channel.signing_secret_env.as_deref(),
            )?;
        }
        Ok(())
    }

    fn validate_people(&self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        for (index, person) in self.people.iter().enumerate() {
            let at = |field: &str| format!("people[{index}].{field}");
            let named = |field: &str| format!("people[{index}].{field} (person {:?})", person.name);
            if person.name.trim().is_empty() || person.name.contains(':') {
                return Err(
                    errors.at(at("name"), "a person needs a name without ':'; set name = \"...\"")
                );
            }
            if person.name.chars().count() > MAX_NAME_CHARS {
                return Err(errors.at(
                    at("name"),
                    format!("a person's name may have at most {MAX_NAME_CHARS} characters"),
                ));
            }
            if !names.insert(person.name.clone()) {
                return Err(errors.at_key(
                    at("name"),
                    named("name"),
                    "another person has this name; names must be unique, rename one",
                ));
            }
            if person.contacts.is_empty() {
                return Err(errors.at_key(
                    at("name"),
                    named("contacts"),
                    "this person cannot be notified: add contacts = [{ channel = \"...\", address = \"...\" }]",
                ));
            }
            for (contact_index, contact) in person.contacts.iter().enumerate() {
                let key = format!("people[{index}].contacts[{contact_index}]");
                let Some(channel) = self.channel(&contact.channel) else {
                    return Err(errors.at_key(
                        &key,
                        format!("{key}.channel (person {:?})", person.name),
                        format!(
                            "unknown channel {:?}; declare it in [[channels]] or use one of: {}",
                            contact.channel,
                            known(self.channels.iter().map(|c| c.name.as_str()))
                        ),
                    ));
                };
                if contact.address.trim().is_empty() {
                    return Err(errors.at_key(
                        &key,
                        format!("{key}.address (person {:?})", person.name),
                        "the address is empty; write the person's address on that channel",
                    ));
                }
                if channel.smtp.is_some() && !is_email_address(&contact.address) {
                    return Err(errors.at_key(
                        &key,
                        format!("{key}.address (person {:?})", person.name),
                        format!(
                            "{:?} is not an email address, which the email channel {:?} needs",
                            contact.address, channel.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_schedules(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        let mut resolved = Vec::new();
        for (index, schedule) in self.schedules.iter().enumerate() {
            let at = |field: &str| format!("schedules[{index}].{field}");
            let named =
                |field: &str| format!("schedules[{index}].{field} (schedule {:?})", schedule.name);
            if schedule.name.trim().is_empty() {
                return Err(errors.at(at("name"), "a schedule needs a name; set name = \"...\""));
            }
            if !names.insert(schedule.name.clone()) {
                return Err(errors.at_key(
                    at("name"),
                    named("name"),
                    "another schedule has this name; names must be unique, rename one",
                ));
            }
            let timezone = TimeZone::get(&schedule.timezone).map_err(|_| {
                errors.at_key(
                    at("timezone"),
                    named("timezone"),
                    format!(
                        "unknown time zone {:?}; write an IANA name such as \"Europe/Oslo\", \"America/New_York\" or \"UTC\"",
                        schedule.timezone
                    ),
                )
            })?;
            let rotation = &schedule.rotation;
            if rotation.members.is_empty() {
                return Err(errors.at_key(
                    at("rotation.members"),
                    named("rotation.members"),
                    "a rotation needs at least one member, e.g. members = [\"ada\", \"grace\"]",
                ));
            }
            for (member_index, member) in rotation.members.iter().enumerate() {
                if self.person(member).is_none() {
                    return Err(errors.at_key(
                        format!("schedules[{index}].rotation.members[{member_index}]"),
                        named(&format!("rotation.members[{member_index}]")),
                        format!(
                            "unknown person {member:?}; declare them in [[people]] or use one of: {}",
                            known(self.people.iter().map(|p| p.name.as_str()))
                        ),
                    ));
                }
            }
            let length_days = match (rotation.length_days, rotation.length_weeks) {
                (Some(days), None) if days > 0 => days as i64,
                (None, Some(weeks)) if weeks > 0 => weeks as i64 * 7,
                _ => {
                    return Err(errors.at_key(
                        at("rotation"),
                        named("rotation"),
                        "set exactly one of length_days or length_weeks, greater than 0",
                    ));
                }
            };
            let handoff: Time = rotation.handoff.parse().map_err(|_| {
                errors.at_key(
                    at("rotation.handoff"),
                    named("rotation.handoff"),
                    format!("{:?} is not a time of day; write e.g. \"09:00\"", rotation.handoff),
                )
            })?;
            let start: Date = rotation.start.parse().map_err(|_| {
                errors.at_key(
                    at("rotation.start"),
                    named("rotation.start"),
                    format!("{:?} is not a date; write e.g. \"2026-01-05\"", rotation.start),
                )
            })?;
            let mut overrides = Vec::new();
            for (override_index, entry) in schedule.overrides.iter().enumerate() {
                let key = format!("schedules[{index}].overrides[{override_index}]");
                if self.person(&entry.person).is_none() {
                    return Err(errors.at_key(
                        format!("{key}.person"),
                        format!("{key}.person (schedule {:?})", schedule.name),
                        format!("unknown person {:?}; declare them in [[people]]", entry.person),
                    ));
                }
                let instant = |field: &str, text: &str| {
                    parse_local(text, &timezone).ok_or_else(|| {
                        errors.at_key(
                            format!("{key}.{field}"),
                            format!("{key}.{field} (schedule {:?})", schedule.name),
                            format!(
                                "{text:?} is not a local date and time; write e.g. \"2026-12-24 09:00\""
                            ),
                        )
                    })
                };
                let from = instant("from", &entry.from)?;
                let until = instant("until", &entry.until)?;
                if until <= from {
                    return Err(errors.at_key(
                        format!("{key}.until"),
                        format!("{key}.until (schedule {:?})", schedule.name),
                        "until must be later than from",
                    ));
                }
                overrides.push((entry.person.clone(), from, until));
            }
            resolved.push(Schedule {
                name: schedule.name.clone(),
                timezone,
                members: rotation.members.clone(),
                length_days,
                handoff,
                start,
                overrides,
            });
        }
        self.resolved_schedules = resolved;
        Ok(())
    }

    fn validate_targets(&self, errors: &Errors) -> Result<(), ConfigError> {
        for (index, policy) in self.escalation_policies.iter().enumerate() {
            for (level, step) in policy.levels.iter().enumerate() {
                for (target_index, text) in step.notify.iter().enumerate() {
                    let key = format!("escalation_policies[{index}].levels[{level}].notify");
                    let shown = format!("{key}[{target_index}] (policy {:?})", policy.name);
                    let problem = match Target::parse(text) {
                        None => Some(format!(
                            "{text:?} is not a target; write \"person:NAME\", \"schedule:NAME\" or \"channel:NAME\""
                        )),
                        Some(Target::Person(name)) if self.person(&name).is_none() => {
                            Some(format!(
                                "unknown person {name:?}; declare them in [[people]] or use one of: {}",
                                known(self.people.iter().map(|p| p.name.as_str()))
                            ))
                        }
                        Some(Target::Schedule(name)) if self.schedule(&name).is_none() => {
                            Some(format!(
                                "unknown schedule {name:?}; declare it in [[schedules]] or use one of: {}",
                                known(self.schedules.iter().map(|s| s.name.as_str()))
                            ))
                        }
                        Some(Target::Channel(name)) if self.channel(&name).is_none() => {
                            Some(format!(
                                "unknown channel {name:?}; declare it in [[channels]] or use one of: {}",
                                known(self.channels.iter().map(|c| c.name.as_str()))
                            ))
                        }
                        Some(Target::Channel(name))
                            if self.channel(&name).is_some_and(|c| c.smtp.is_some()) =>
                        {
                            Some(format!(
                                "the email channel {name:?} needs an address, so it can only reach people: notify \"person:...\" instead"
                            ))
                        }
                        Some(_) => None,
                    };
                    if let Some(message) = problem {
                        return Err(errors.at_key(
                            format!("{key}[{target_index}]"),
                            shown,
                            message,
                        ));
                    }
                }
            }
            if policy.repeat > 0 && policy.levels.is_empty() {
                return Err(errors.at(
                    format!("escalation_policies[{index}].repeat"),
                    "a policy without levels has nothing to repeat; remove repeat or add levels",
                ));
            }
        }
        Ok(())
    }
}

/// An absolute http(s) URL with a host: the channel's origin. A channel
/// URL may hold a secret (a Slack webhook's path, a token in the query, a
/// password), and errors reach the terminal, the reload answer and the log:
/// they show only the scheme, host and port, and nothing of a URL that does
/// not parse.
fn check_http_url(text: &str) -> Result<(), String> {
    let parsed = url::Url::parse(text).map_err(|error| {
        format!("the value is not a URL ({error}; not shown, as it may hold a secret); write e.g. \"https://hooks.example.com/inbound\"")
    })?;
    let shown = origin_of(&parsed);
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{shown} is not an http:// or https:// URL; notifications are sent over HTTP(S) only"
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown} has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{shown} (the rest not shown) has credentials in it; put them in the channel's signing_secret or settings instead"
        ));
    }
    Ok(())
}

/// `scheme://host:port` of a URL, what may be shown of it: never its user
/// name, password, path or query.
fn origin_of(url: &url::Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        (None, _) => format!("a {}: URL", url.scheme()),
    }
}

/// `local@domain`, without spaces: enough to catch a wrong value here; the
/// SMTP transport parses it fully when it sends. (Not lettre's parser: this
/// module also builds on its own, for the `config` fuzz target.)
fn is_email_address(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        }
        None => false,
    }
}

/// `address` or `Name <address>`.
fn is_mailbox(text: &str) -> bool {
    let text = text.trim();
    match (text.rfind('<'), text.strip_suffix('>')) {
        (Some(open), Some(inner)) => is_email_address(&inner[open + 1..]),
        _ => is_email_address(text),
    }
}

/// `YYYY-MM-DD HH:MM` (or with `T`) in `zone`, as an instant.
fn parse_local(text: &str, zone: &TimeZone) -> Option<jiff::Timestamp> {
    let civil: DateTime = text.trim().replacen(' ', "T", 1).parse().ok()?;
    civil.to_zoned(zone.clone()).ok().map(|zoned| zoned.timestamp())
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() { "none declared".to_string() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn schedule(zone: &str, members: &[&str], days: i64, handoff: &str, start: &str) -> Schedule {
        Schedule {
            name: "s".into(),
            timezone: TimeZone::get(zone).unwrap(),
            members: members.iter().map(|m| m.to_string()).collect(),
            length_days: days,
            handoff: handoff.parse().unwrap(),
            start: start.parse().unwrap(),
            overrides: Vec::new(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn turns_rotate_at_the_handoff_time() {
        let s = schedule("UTC", &["ada", "grace"], 7, "09:00", "2026-01-05");
        assert_eq!(s.on_call(at("2026-01-05T09:00:00Z")), "ada");
        assert_eq!(s.on_call(at("2026-01-12T08:59:59Z")), "ada");
        assert_eq!(s.on_call(at("2026-01-12T09:00:00Z")), "grace");
        assert_eq!(s.on_call(at("2026-01-19T09:00:00Z")), "ada");
        // Before the start the rotation runs backwards: still well defined.
        assert_eq!(s.on_call(at("2026-01-05T08:00:00Z")), "grace");
    }

    /// Europe/Oslo moves from +01:00 to +02:00 on 2026-03-29 at 02:00 local.
    /// A 09:00 hand-off stays at 09:00 local, so at 08:00 UTC after the
    /// change, not at 08:00 UTC's old equivalent.
    #[test]
    fn a_handoff_follows_local_time_across_daylight_saving() {
        let s = schedule("Europe/Oslo", &["ada", "grace"], 1, "09:00", "2026-03-28");
        // Saturday 09:00 +01:00 = 08:00 UTC: ada's turn starts.
        assert_eq!(s.on_call(at("2026-03-28T08:00:00Z")), "ada");
        // Sunday 08:30 +02:00 = 06:30 UTC: still ada (before 09:00 local).
        assert_eq!(s.on_call(at("2026-03-29T06:30:00Z")), "ada");
        // Sunday 09:00 +02:00 = 07:00 UTC: grace.
        assert_eq!(s.on_call(at("2026-03-29T06:59:59Z")), "ada");
        assert_eq!(s.on_call(at("2026-03-29T07:00:00Z")), "grace");
        assert_eq!(s.next_handoff(at("2026-03-28T12:00:00Z")), Some(at("2026-03-29T07:00:00Z")));
        // And back in autumn (2026-10-25, +02:00 -> +01:00).
        let s = schedule("Europe/Oslo", &["ada", "grace"], 1, "09:00", "2026-10-24");
        assert_eq!(s.on_call(at("2026-10-25T07:59:59Z")), "ada");
        assert_eq!(s.on_call(at("2026-10-25T08:00:00Z")), "grace");
    }

    #[test]
    fn an_override_wins_for_its_interval_only() {
        let mut s = schedule("UTC", &["ada", "grace"], 7, "09:00", "2026-01-05");
        s.overrides.push(("linus".into(), at("2026-01-06T00:00:00Z"), at("2026-01-07T00:00:00Z")));
        assert_eq!(s.on_call(at("2026-01-05T23:59:59Z")), "ada");
        assert_eq!(s.on_call(at("2026-01-06T00:00:00Z")), "linus");
        assert_eq!(s.on_call(at("2026-01-07T00:00:00Z")), "ada");
    }

    #[test]
    fn email_addresses_are_checked_loosely() {
        assert!(is_email_address("ada@example.com"));
        assert!(is_mailbox("inbound <inbound@example.com>"));
        assert!(is_mailbox("inbound@example.com"));
        for bad in ["ada", "@example.com", "ada@", "a da@example.com", "a@b@c", "x <y>"] {
            assert!(!is_mailbox(bad), "{bad}");
        }
    }

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("person:ada"), Some(Target::Person("ada".into())));
        assert_eq!(Target::parse("schedule: x"), Some(Target::Schedule("x".into())));
        assert_eq!(Target::parse("channel:y"), Some(Target::Channel("y".into())));
        assert_eq!(Target::parse("team:y"), None);
        assert_eq!(Target::parse("person:"), None);
        assert_eq!(Target::parse("ada"), None);
    }

    #[test]
    fn only_absolute_http_urls_are_channel_destinations() {
        assert!(check_http_url("https://hooks.slack.com/services/x").is_ok());
        assert!(check_http_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_http_url("ftp://example.com/").unwrap_err().contains("http"));
        assert!(check_http_url("hooks.slack.com").is_err());
        assert!(check_http_url("https://user:pw@example.com/").is_err());
    }

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(std::path::Path::new("config.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn links_live_at_most_a_year() {
        assert!(parse("[notifications]\nlink_valid_hours = 8760\n").is_ok());
        let error = parse("[notifications]\nlink_valid_hours = 8761\n").unwrap_err();
        assert_eq!(
            error,
            "config.toml:2: notifications.link_valid_hours: must be at most 8760 (a year); remove the key to use its default (72)"
        );
        // Past i64 the line is not found (the key index reads TOML's
        // integers), but the value is refused all the same.
        let error =
            parse("[notifications]\nlink_valid_hours = 18446744073709551615\n").unwrap_err();
        assert!(error.contains("link_valid_hours: must be at most 8760"), "{error}");
    }

    #[test]
    fn a_plainly_chosen_link_secret_is_refused() {
        let error =
            parse("[notifications]\nlink_secret = \"0000000000000000000000\"\n").unwrap_err();
        assert_eq!(
            error,
            "config.toml:2: notifications.link_secret: the link_secret is one character repeated, so it is easy to guess; generate a random one with `openssl rand -hex 32`"
        );
        let random = "9c1e4b7a0d3f6e2c8b5a1d4e7f0c3b6a9e2d5c8b1a4f7e0d3c6b9a2e5d8c1b4a";
        assert!(parse(&format!("[notifications]\nlink_secret = \"{random}\"\n")).is_ok());
    }

    #[test]
    fn names_that_links_carry_are_bounded() {
        let long = "n".repeat(MAX_NAME_CHARS + 1);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n.wasm"), b"").unwrap();
        let channel = |name: &str| {
            format!(
                "[[channels]]\nname = \"{name}\"\nplugin = \"n.wasm\"\nurl = \"https://hooks.example.com/x\"\n"
            )
        };
        let file = dir.path().join("config.toml");
        let error = Config::parse(&file, &channel(&long)).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "config.toml:2: channels[0].name: a channel's name may have at most 100 characters"
            ),
            "{error}"
        );
        let person = format!(
            "{}[[people]]\nname = \"{long}\"\ncontacts = [{{ channel = \"c\", address = \"a\" }}]\n",
            channel("c")
        );
        let error = Config::parse(&file, &person).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "config.toml:6: people[0].name: a person's name may have at most 100 characters"
            ),
            "{error}"
        );
    }

    /// What is wrong is said with the origin only: no user name, password,
    /// path or query, and nothing of a value that does not parse.
    #[test]
    fn url_errors_show_no_credentials_path_or_query() {
        let error =
            check_http_url("https://hook-user:s3cret@hooks.example.com/T0/B0/XyZ?token=abc")
                .unwrap_err();
        assert!(error.starts_with("https://hooks.example.com:443 "), "{error}");
        assert!(error.contains("has credentials in it"), "{error}");
        let error = check_http_url("ftp://u:s3cret@files.example.com:2121/T0/B0/XyZ?token=abc")
            .unwrap_err();
        assert!(error.starts_with("ftp://files.example.com:2121 is not an http"), "{error}");
        let error = check_http_url("mailto:s3cret@example.com?subject=XyZ").unwrap_err();
        assert!(error.starts_with("a mailto: URL is not an http"), "{error}");
        let error = check_http_url("https://u:s3cret@[::1/T0/B0/XyZ").unwrap_err();
        assert!(error.starts_with("the value is not a URL (invalid IPv6 address;"), "{error}");
        let error = check_http_url("s3cret/XyZ?token=abc").unwrap_err();
        assert!(error.contains("not a URL"), "{error}");
        for text in [
            "https://hook-user:s3cret@hooks.example.com/T0/B0/XyZ?token=abc",
            "ftp://u:s3cret@files.example.com:2121/T0/B0/XyZ?token=abc",
            "mailto:s3cret@example.com?subject=XyZ",
            "https://u:s3cret@[::1/T0/B0/XyZ",
            "s3cret/XyZ?token=abc",
            "https://u:s3cret@/XyZ",
        ] {
            let error = check_http_url(text).unwrap_err();
            for secret in ["s3cret", "hook-user", "XyZ", "token=abc"] {
                assert!(!error.contains(secret), "{secret} shown in {error:?}");
            }
        }
    }
}
