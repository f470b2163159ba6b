//! Checks of `[notifications]`, `[[channels]]`, `[[people]]`,
//! `[[schedules]]` and every escalation target, with the rest of the file
//! and the same `file:line: key: message` errors; resolves their secrets and
//! URLs from the environment and each schedule into an [`oncall::Schedule`].

use super::addresses::{check_http_url, is_email_address, is_mailbox};
use super::checks::{UniqueNames, all_positive, known};
use super::errors::{ConfigError, Errors};
use super::notify::{
    MAX_LINK_VALID_HOURS, MAX_NAME_CHARS, MAX_THROTTLE_MESSAGES, MAX_THROTTLE_WINDOW_MINUTES,
    PersonConfig, Target,
};
use super::oncall::Schedule;
use super::schema::Config;
use super::secrets::{MIN_KEY_CHARS, Secret};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

impl Config {
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
        all_positive(
            errors,
            &[
                ("notifications.link_valid_hours", n.link_valid_hours),
                ("notifications.retry_initial_ms", n.retry_initial_ms),
                ("notifications.retry_max_ms", n.retry_max_ms),
                ("notifications.max_attempts", n.max_attempts as u64),
                ("notifications.max_concurrent_deliveries", n.max_concurrent_deliveries as u64),
                ("notifications.time_scale", n.time_scale as u64),
            ],
        )?;
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
            if value.chars().count() < MIN_KEY_CHARS {
                return Err(secret.error(
                    "link_secret",
                    env,
                    format!(
                        "the link secret must be at least {} characters; generate one with `openssl rand -hex 32`",
                        MIN_KEY_CHARS
                    ),
                ));
            }
            secret.random_looking("link_secret", env, value, "openssl rand -hex 32")?;
        }
        self.notifications.link_secret = link;
        Ok(())
    }

    fn validate_channels(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = UniqueNames::new(errors, "channels", "channel").longest(MAX_NAME_CHARS);
        let folder = self.file.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        for (index, channel) in self.channels.iter_mut().enumerate() {
            let at = |field: &str| format!("channels[{index}].{field}");
            let named =
                |field: &str| format!("channels[{index}].{field} (channel {:?})", channel.name);
            names.check(index, &channel.name)?;
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
            if let Some(throttle) = channel.throttle {
                if throttle.max_messages.is_some_and(|max| max > MAX_THROTTLE_MESSAGES) {
                    return Err(errors.at_key(
                        at("throttle.max_messages"),
                        named("throttle.max_messages"),
                        format!(
                            "must be at most {MAX_THROTTLE_MESSAGES}; 0 turns the throttle off, and without the key the channel's kind sets it (email 5, HTTP 10)"
                        ),
                    ));
                }
                if let Some(window) = throttle.window_minutes
                    && !(1..=MAX_THROTTLE_WINDOW_MINUTES).contains(&window)
                {
                    return Err(errors.at_key(
                        at("throttle.window_minutes"),
                        named("throttle.window_minutes"),
                        format!(
                            "must be between 1 and {MAX_THROTTLE_WINDOW_MINUTES} (a day); to turn the throttle off set max_messages = 0"
                        ),
                    ));
                }
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
            if channel.replies && channel.signing_secret.is_none() {
                return Err(errors.at_key(
                    at("replies"),
                    named("replies"),
                    "replies are verified with the channel's signing_secret (the provider's auth token); set it, or remove replies",
                ));
            }
        }
        Ok(())
    }

    fn validate_people(&self, errors: &Errors) -> Result<(), ConfigError> {
        // A target is `person:NAME`: a name with ':' could not be named.
        let missing = "a person needs a name without ':'; set name = \"...\"";
        let mut names =
            UniqueNames::new(errors, "people", "person").missing(missing).longest(MAX_NAME_CHARS);
        for (index, person) in self.people.iter().enumerate() {
            let at = |field: &str| format!("people[{index}].{field}");
            if person.name.contains(':') {
                return Err(errors.at(at("name"), missing));
            }
            names.check(index, &person.name)?;
            if let Some(email) = &person.email {
                // OIDC signs in the person with this email: it must be theirs alone.
                let twin = self.people[..index].iter().find(|other| {
                    other.email.as_deref().is_some_and(|other| other.eq_ignore_ascii_case(email))
                });
                if !is_email_address(email) || twin.is_some() {
                    let why = match twin {
                        Some(other) => format!(
                            "{:?} already has this email; each person needs their own, as sign-in finds people by it",
                            other.name
                        ),
                        None => format!("{email:?} is not an email address"),
                    };
                    return Err(errors.at_key(
                        at("email"),
                        format!("people[{index}].email (person {:?})", person.name),
                        why,
                    ));
                }
            }
            // A person without contacts may sign in to the console; only
            // naming them where someone is paged is refused (targets,
            // rotations: see `unreachable`).
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
            for (rule_index, rule) in person.rules.iter().enumerate() {
                let key = format!("people[{index}].rules[{rule_index}]");
                if !person.contacts.iter().any(|contact| contact.channel == rule.channel) {
                    return Err(errors.at_key(
                        &key,
                        format!("{key}.channel (person {:?})", person.name),
                        format!(
                            "{:?} has no contact on channel {:?}; a rule picks one of the person's contacts: {}",
                            person.name,
                            rule.channel,
                            known(person.contacts.iter().map(|c| c.channel.as_str()))
                        ),
                    ));
                }
                if rule.after_minutes > super::notify::MAX_RULE_MINUTES {
                    return Err(errors.at_key(
                        &key,
                        format!("{key}.after_minutes (person {:?})", person.name),
                        format!("must be at most {} (a day)", super::notify::MAX_RULE_MINUTES),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_schedules(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = UniqueNames::new(errors, "schedules", "schedule");
        let mut resolved = Vec::new();
        for (index, schedule) in self.schedules.iter().enumerate() {
            let at = |field: &str| format!("schedules[{index}].{field}");
            let named =
                |field: &str| format!("schedules[{index}].{field} (schedule {:?})", schedule.name);
            names.check(index, &schedule.name)?;
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
                let problem = match self.person(member) {
                    None => Some(format!(
                        "unknown person {member:?}; declare them in [[people]] or use one of: {}",
                        known(self.people.iter().map(|p| p.name.as_str()))
                    )),
                    Some(person) => unreachable(person),
                };
                if let Some(problem) = problem {
                    return Err(errors.at_key(
                        format!("schedules[{index}].rotation.members[{member_index}]"),
                        named(&format!("rotation.members[{member_index}]")),
                        problem,
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
                let problem = match self.person(&entry.person) {
                    None => Some(format!(
                        "unknown person {:?}; declare them in [[people]]",
                        entry.person
                    )),
                    Some(person) => unreachable(person),
                };
                if let Some(problem) = problem {
                    return Err(errors.at_key(
                        format!("{key}.person"),
                        format!("{key}.person (schedule {:?})", schedule.name),
                        problem,
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
                        Some(Target::Person(name)) => match self.person(&name) {
                            None => Some(format!(
                                "unknown person {name:?}; declare them in [[people]] or use one of: {}",
                                known(self.people.iter().map(|p| p.name.as_str()))
                            )),
                            Some(person) => unreachable(person),
                        },
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

/// `YYYY-MM-DD HH:MM` (or with `T`) in `zone`, as an instant.
pub(super) fn parse_local(text: &str, zone: &TimeZone) -> Option<jiff::Timestamp> {
    let civil: DateTime = text.trim().replacen(' ', "T", 1).parse().ok()?;
    civil.to_zoned(zone.clone()).ok().map(|zoned| zoned.timestamp())
}

/// Why `person` cannot be paged, if they cannot: no contacts.
fn unreachable(person: &PersonConfig) -> Option<String> {
    person.contacts.is_empty().then(|| {
        format!(
            "person {:?} has no contacts, so they could not be notified; add contacts = [{{ channel = \"...\", address = \"...\" }}] to them in [[people]]",
            person.name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(std::path::Path::new("config.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn throttle_numbers_are_checked_by_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n.wasm"), b"").unwrap();
        let file = dir.path().join("config.toml");
        let channel = |throttle: &str| {
            format!(
                "[[channels]]\nname = \"hook\"\nplugin = \"n.wasm\"\nurl = \"https://hooks.example.com/x\"\n\n  [channels.throttle]\n  {throttle}\n"
            )
        };
        assert!(Config::parse(&file, &channel("max_messages = 0")).is_ok());
        let error = Config::parse(&file, &channel("window_minutes = 0")).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "config.toml:7: channels[0].throttle.window_minutes (channel \"hook\"): must be between 1 and 1440 (a day); to turn the throttle off set max_messages = 0"
            ),
            "{error}"
        );
        let error = Config::parse(&file, &channel("max_messages = 1001")).unwrap_err().to_string();
        assert!(
            error.contains(
                "channels[0].throttle.max_messages (channel \"hook\"): must be at most 1000"
            ),
            "{error}"
        );
        let error = Config::parse(&file, &channel("max = 3")).unwrap_err().to_string();
        assert!(error.contains("unknown field `max`"), "{error}");
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
}
