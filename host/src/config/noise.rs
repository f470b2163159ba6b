//! What keeps the pager quiet, as configured: `[[maintenance]]` windows,
//! a policy's `working_hours` (when low-urgency incidents may page), and
//! `[[heartbeats]]` (a sender that must check in). Checked by
//! `validate_noise`, which also resolves each window's times.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

/// The priorities an incident may have, as written in the config.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// Longest window: a planned maintenance of more than a month is an
/// outage of paging, not maintenance.
pub const MAX_WINDOW_DAYS: u64 = 31;

/// A planned window in which levels do not fire: events are recorded and
/// incidents open as usual, nobody is paged.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceConfig {
    pub name: String,
    /// RFC 3339 (`2026-12-08T22:00:00Z`), or `YYYY-MM-DD HH:MM` in `timezone`.
    pub start: String,
    /// Same forms as `start`; or give `duration_minutes` instead.
    pub end: Option<String>,
    pub duration_minutes: Option<u64>,
    /// An IANA zone for local `start` and `end`; UTC when absent.
    pub timezone: Option<String>,
    /// The sources it covers; all when empty.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Only incidents of these priorities; all when empty.
    #[serde(default)]
    pub priorities: Vec<String>,
    /// What incidents still open at the end do.
    #[serde(default)]
    pub after: AfterWindow,
    /// `start` and `end` as milliseconds since the epoch (set by validation).
    #[serde(skip)]
    pub from_ms: u64,
    #[serde(skip)]
    pub until_ms: u64,
}

/// What an incident held by a window does once the window ends.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AfterWindow {
    /// Starts escalating from level 0: nobody has seen it yet.
    #[default]
    Escalate,
    /// Stays quiet: it is listed, and pages nobody.
    Quiet,
}

/// When a policy pages for low-urgency incidents.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    /// An IANA zone: the hours follow its clock across daylight-saving changes.
    pub timezone: String,
    /// `mon` ... `sun`; Monday to Friday when absent.
    #[serde(default = "weekdays")]
    pub days: Vec<String>,
    /// Local `HH:MM`; `end` is excluded and later than `start`.
    #[serde(default = "nine")]
    pub start: String,
    #[serde(default = "five")]
    pub end: String,
}

fn weekdays() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec()
}

fn nine() -> String {
    "09:00".into()
}

fn five() -> String {
    "17:00".into()
}

pub fn parse_weekday(text: &str) -> Option<Weekday> {
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

pub fn parse_clock(text: &str) -> Option<Time> {
    let (hour, minute) = text.trim().split_once(':')?;
    Time::new(hour.parse().ok()?, minute.parse().ok()?, 0, 0).ok()
}

impl WorkingHours {
    /// The zone, days and times, checked by validation (so defaults here
    /// are never used on a loaded config).
    fn parts(&self) -> (TimeZone, Vec<Weekday>, Time, Time) {
        let zone = TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC);
        let days = self.days.iter().filter_map(|day| parse_weekday(day)).collect();
        let start = parse_clock(&self.start).unwrap_or(Time::midnight());
        let end = parse_clock(&self.end).unwrap_or(Time::MAX);
        (zone, days, start, end)
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        let (zone, days, start, end) = self.parts();
        let local = at.to_zoned(zone).datetime();
        days.contains(&local.weekday()) && start <= local.time() && local.time() < end
    }

    /// The next moment working hours begin after `at` (within two weeks;
    /// none when no day is a working day).
    pub fn next_start(&self, at: Timestamp) -> Option<Timestamp> {
        let (zone, days, start, _) = self.parts();
        let today = at.to_zoned(zone.clone()).date();
        (0..15).find_map(|offset: i64| {
            let date = today.checked_add(offset.days()).ok()?;
            if !days.contains(&date.weekday()) {
                return None;
            }
            // A start inside a spring-forward gap is taken as the instant
            // after the gap (jiff's "compatible" choice).
            let begins = date.to_datetime(start).to_zoned(zone.clone()).ok()?.timestamp();
            (begins > at).then_some(begins)
        })
    }
}

/// A sender that must check in: missing a ping opens an incident.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatConfig {
    pub name: String,
    /// The secret part of the ping URL `/api/v1/heartbeats/{key}`
    /// (resolved from `key_env` after loading).
    pub key: Option<String>,
    pub key_env: Option<String>,
    /// How often the sender pings.
    pub interval_minutes: u32,
    /// How late a ping may be before the heartbeat counts as missed.
    #[serde(default = "default_grace")]
    pub grace_minutes: u32,
    pub escalation_policy: String,
    /// The incident's summary; "No heartbeat from NAME" when absent.
    pub summary: Option<String>,
}

fn default_grace() -> u32 {
    5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> WorkingHours {
        WorkingHours {
            timezone: "Europe/Berlin".into(),
            days: weekdays(),
            start: nine(),
            end: five(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn working_hours_follow_the_local_clock_across_daylight_saving() {
        let hours = berlin();
        // Friday 2026-03-27 is on CET (UTC+1); Monday 2026-03-30 on CEST (UTC+2).
        assert!(hours.contains(at("2026-03-27T08:00:00Z")), "09:00 CET");
        assert!(!hours.contains(at("2026-03-27T16:00:00Z")), "17:00 CET is after hours");
        let friday_evening = at("2026-03-27T17:30:00Z");
        assert_eq!(
            hours.next_start(friday_evening),
            Some(at("2026-03-30T07:00:00Z")),
            "Monday 09:00 CEST, an hour earlier in UTC than the Friday before"
        );
        assert!(hours.contains(at("2026-03-30T07:00:00Z")));
        assert!(!hours.contains(at("2026-03-30T06:59:00Z")));
        // Back in autumn: Monday 2026-10-26 09:00 CET is 08:00 UTC.
        assert_eq!(hours.next_start(at("2026-10-23T16:00:00Z")), Some(at("2026-10-26T08:00:00Z")));
    }

    #[test]
    fn weekends_and_early_mornings_wait_for_the_next_working_day() {
        let hours = berlin();
        let saturday_noon = at("2026-12-05T11:00:00Z");
        assert!(!hours.contains(saturday_noon));
        assert_eq!(hours.next_start(saturday_noon), Some(at("2026-12-07T08:00:00Z")));
        let monday_early = at("2026-12-07T05:00:00Z");
        assert_eq!(hours.next_start(monday_early), Some(at("2026-12-07T08:00:00Z")));
        let none = WorkingHours { days: vec![], ..berlin() };
        assert_eq!(none.next_start(saturday_noon), None);
    }
}
