//! iCalendar feeds of upcoming shifts: a schedule's turns, or one person's
//! turns across every schedule, from now for [`HORIZON_DAYS`]. Calendar
//! apps cannot send a bearer token, so a feed is read with a per-person
//! feed key in its URL (`?key=`), kept in the database as its SHA-256 and
//! replaced (which revokes the old one) from the console.
//!
//! Turns are computed in each schedule's zone (`app::oncall::turns`) and
//! written in UTC, so a calendar shows the 09:00 hand-off at 09:00 local
//! on both sides of a daylight-saving change.

use super::oncall::turns;
use crate::config::oncall::Schedule;
use crate::store::Shift;
use icalendar::{Calendar, Component, Event, EventLike};
use jiff::Timestamp;

/// How far ahead a feed reaches.
pub const HORIZON_DAYS: i64 = 56;
/// Turns one feed lists at most (a 1-day rotation over the horizon, with
/// room for shifts).
const MAX_TURNS: usize = 500;

/// A schedule's turns as a calendar, each "on call: <person>".
pub fn schedule_feed(schedule: &Schedule, shifts: &[Shift], from: Timestamp, host: &str) -> String {
    let mut calendar = Calendar::new();
    calendar.name(&format!("On call: {}", schedule.name));
    for (person, start, end) in window(schedule, shifts, from) {
        calendar.push(turn_event(
            &schedule.name,
            &person,
            start,
            end,
            host,
            &format!("On call: {person}"),
        ));
    }
    calendar.done().to_string()
}

/// `person`'s turns across `schedules`, each "on call for <schedule>".
pub fn person_feed(
    person: &str,
    schedules: &[Schedule],
    shifts: &[Shift],
    from: Timestamp,
    host: &str,
) -> String {
    let mut calendar = Calendar::new();
    calendar.name(&format!("On call: {person}"));
    for schedule in schedules {
        for (who, start, end) in window(schedule, shifts, from) {
            if who == person {
                let summary = format!("On call for {}", schedule.name);
                calendar.push(turn_event(&schedule.name, &who, start, end, host, &summary));
            }
        }
    }
    calendar.done().to_string()
}

fn window(
    schedule: &Schedule,
    shifts: &[Shift],
    from: Timestamp,
) -> Vec<(String, Timestamp, Timestamp)> {
    let to = from + jiff::SignedDuration::from_hours(24 * HORIZON_DAYS);
    turns(schedule, shifts, from, to, MAX_TURNS)
}

fn turn_event(
    schedule: &str,
    person: &str,
    start: Timestamp,
    end: Timestamp,
    host: &str,
    summary: &str,
) -> Event {
    // Stable across fetches, so a calendar app updates a turn in place: by
    // its end, which (unlike the start of the turn running at the fetch,
    // cut to the fetch time) does not move.
    let uid = format!("{schedule}-{}-{person}@{host}", end.as_second());
    Event::new()
        .uid(&uid)
        .summary(summary)
        .description(&format!("{person} is on call for schedule {schedule}"))
        .starts(utc(start))
        .ends(utc(end))
        .done()
}

fn utc(at: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(at.as_millisecond()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    #[test]
    fn a_schedule_feed_lists_each_turn_in_utc_with_a_stable_uid() {
        let schedule = Schedule {
            name: "primary".into(),
            timezone: TimeZone::get("Europe/Oslo").unwrap(),
            members: vec!["ada".into(), "grace".into()],
            length_days: 1,
            handoff: "09:00".parse().unwrap(),
            start: "2026-03-27".parse().unwrap(),
            overrides: Vec::new(),
        };
        let from: Timestamp = "2026-03-28T08:00:00Z".parse().unwrap();
        let feed = schedule_feed(&schedule, &[], from, "inbound.example.com");
        assert!(feed.starts_with("BEGIN:VCALENDAR"), "{feed}");
        assert!(feed.contains("SUMMARY:On call: ada"), "{feed}");
        // Sunday's 09:00 Oslo hand-off is 07:00 UTC (summer time).
        assert!(feed.contains("DTSTART:20260329T070000Z"), "{feed}");
        // Ada's Sunday turn ends at Monday's hand-off, 07:00 UTC.
        assert!(feed.contains("UID:primary-1774854000-ada@inbound.example.com"), "{feed}");
        assert_eq!(feed.matches("BEGIN:VEVENT").count(), HORIZON_DAYS as usize + 1);
        let ada = person_feed("ada", &[schedule], &[], from, "h");
        assert!(ada.contains("SUMMARY:On call for primary") && !ada.contains("grace is on call"));
    }
}
