//! Checks of `[[maintenance]]`, each policy's `working_hours`, each source's
//! `low_urgency` and `[[heartbeats]]`, with the same `file:line: key:
//! message` errors as the rest of the file; resolves window times and
//! heartbeat keys.

use super::checks::{UniqueNames, known};
use super::errors::{ConfigError, Errors};
use super::noise::{MAX_WINDOW_DAYS, PRIORITIES, WorkingHours, parse_clock, parse_weekday};
use super::schema::Config;
use super::secrets::{Secret, URL_SAFE};
use super::validate_notify::parse_local;
use jiff::tz::TimeZone;
use std::collections::HashSet;

impl Config {
    pub(super) fn validate_noise(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        self.validate_maintenance(errors)?;
        for (index, policy) in self.escalation_policies.iter().enumerate() {
            if let Some(hours) = &policy.working_hours {
                check_working_hours(
                    errors,
                    &format!("escalation_policies[{index}].working_hours"),
                    hours,
                )?;
            }
        }
        for (index, source) in self.sources.iter().enumerate() {
            check_priorities(
                errors,
                &format!("sources[{index}].low_urgency"),
                &source.low_urgency,
            )?;
        }
        self.validate_heartbeats(errors)
    }

    fn validate_maintenance(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = UniqueNames::new(errors, "maintenance", "maintenance window");
        let sources: HashSet<String> = self.sources.iter().map(|s| s.name.clone()).collect();
        for (index, window) in self.maintenance.iter_mut().enumerate() {
            let at = |field: &str| format!("maintenance[{index}].{field}");
            names.check(index, &window.name)?;
            let zone = match &window.timezone {
                None => TimeZone::UTC,
                Some(name) => TimeZone::get(name).map_err(|_| {
                    errors.at(
                        at("timezone"),
                        format!(
                            "unknown time zone {name:?}; write an IANA name such as \"Europe/Oslo\""
                        ),
                    )
                })?,
            };
            let instant = |field: &str, text: &str| {
                text.trim().parse::<jiff::Timestamp>().ok().or_else(|| parse_local(text, &zone)).ok_or_else(|| {
                    errors.at(at(field), format!("{text:?} is not a time; write RFC 3339 (\"2026-12-08T22:00:00Z\") or \"YYYY-MM-DD HH:MM\" in the window's timezone"))
                })
            };
            let from = instant("start", &window.start)?;
            let until = match (&window.end, window.duration_minutes) {
                (Some(end), None) => instant("end", end)?,
                (None, Some(minutes)) if minutes > 0 => from
                    .checked_add(jiff::SignedDuration::from_mins(minutes as i64))
                    .map_err(|_| errors.at(at("duration_minutes"), "is too large"))?,
                (None, Some(_)) => {
                    return Err(errors.at(at("duration_minutes"), "must be greater than 0"));
                }
                (Some(_), Some(_)) => {
                    return Err(errors.at(
                        at("duration_minutes"),
                        "give either end or duration_minutes, not both",
                    ));
                }
                (None, None) => {
                    return Err(errors.at(
                        at("start"),
                        "a window needs an end: set end = \"...\" or duration_minutes = ...",
                    ));
                }
            };
            if until <= from {
                return Err(errors.at(at("end"), "must be after start"));
            }
            let days = (until - from).get_seconds() as u64 / 86_400;
            if days >= MAX_WINDOW_DAYS {
                return Err(errors
                    .at(at("end"), format!("a window may last at most {MAX_WINDOW_DAYS} days")));
            }
            for (i, source) in window.sources.iter().enumerate() {
                if !sources.contains(source) {
                    return Err(errors.at(
                        format!("maintenance[{index}].sources[{i}]"),
                        format!(
                            "unknown source {source:?}; use one of: {}",
                            known(self.sources.iter().map(|s| s.name.as_str()))
                        ),
                    ));
                }
            }
            check_priorities(errors, &at("priorities"), &window.priorities)?;
            window.from_ms = from.as_millisecond().max(0) as u64;
            window.until_ms = until.as_millisecond().max(0) as u64;
        }
        Ok(())
    }

    fn validate_heartbeats(&mut self, errors: &Errors) -> Result<(), ConfigError> {
        let mut names = UniqueNames::new(errors, "heartbeats", "heartbeat");
        let mut keys: HashSet<String> = HashSet::new();
        let policies: Vec<String> =
            self.escalation_policies.iter().map(|p| p.name.clone()).collect();
        for (index, heartbeat) in self.heartbeats.iter_mut().enumerate() {
            let at = |field: &str| format!("heartbeats[{index}].{field}");
            names.check(index, &heartbeat.name)?;
            if heartbeat.interval_minutes == 0 {
                return Err(errors.at(
                    at("interval_minutes"),
                    "must be greater than 0: how often the sender pings",
                ));
            }
            if !policies.contains(&heartbeat.escalation_policy) {
                return Err(errors.at(
                    at("escalation_policy"),
                    format!(
                        "unknown escalation policy {:?}; declare it in [[escalation_policies]] or use one of: {}",
                        heartbeat.escalation_policy,
                        known(policies.iter().map(String::as_str))
                    ),
                ));
            }
            let secret = Secret {
                errors,
                table: &format!("heartbeats[{index}]"),
                label: &format!(" (heartbeat {:?})", heartbeat.name),
                hint: "generate one with `openssl rand -hex 16`",
            };
            let key = secret.strong(
                "key",
                heartbeat.key.as_deref(),
                heartbeat.key_env.as_deref(),
                "heartbeat",
                &mut keys,
                URL_SAFE,
            )?;
            heartbeat.key = Some(key);
        }
        Ok(())
    }
}

fn check_priorities(errors: &Errors, key: &str, priorities: &[String]) -> Result<(), ConfigError> {
    for (i, priority) in priorities.iter().enumerate() {
        if !PRIORITIES.contains(&priority.as_str()) {
            return Err(errors.at(
                format!("{key}[{i}]"),
                format!("unknown priority {priority:?}; use one of: {}", PRIORITIES.join(", ")),
            ));
        }
    }
    Ok(())
}

fn check_working_hours(
    errors: &Errors,
    key: &str,
    hours: &WorkingHours,
) -> Result<(), ConfigError> {
    if TimeZone::get(&hours.timezone).is_err() {
        return Err(errors.at(
            format!("{key}.timezone"),
            format!(
                "unknown time zone {:?}; write an IANA name such as \"Europe/Oslo\"",
                hours.timezone
            ),
        ));
    }
    for (i, day) in hours.days.iter().enumerate() {
        if parse_weekday(day).is_none() {
            return Err(errors.at(
                format!("{key}.days[{i}]"),
                format!("{day:?} is not a day; write mon, tue, wed, thu, fri, sat or sun"),
            ));
        }
    }
    let start = parse_clock(&hours.start).ok_or_else(|| {
        errors.at(format!("{key}.start"), format!("{:?} is not a time; write HH:MM", hours.start))
    })?;
    let end = parse_clock(&hours.end).ok_or_else(|| {
        errors.at(format!("{key}.end"), format!("{:?} is not a time; write HH:MM", hours.end))
    })?;
    if end <= start {
        return Err(errors.at(format!("{key}.end"), "must be later than start on the same day"));
    }
    Ok(())
}
