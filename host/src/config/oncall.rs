//! Who is on call: a `[[schedules]]` entry, checked and with its zone
//! resolved, answers "who at t" and "until when". Runtime code (escalation,
//! the API's on-call view) asks it; it needs nothing else of the config.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

/// Someone covering a schedule: (person, from, until).
pub type Cover = (String, jiff::Timestamp, jiff::Timestamp);

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
    pub overrides: Vec<Cover>,
}

impl Schedule {
    /// The person on call at `at`: an override covering it, else the member
    /// whose turn it is. Turns start at the hand-off time on the zone's
    /// clock, so a 09:00 hand-off stays at 09:00 across DST changes.
    pub fn on_call(&self, at: jiff::Timestamp) -> &str {
        self.on_call_with(at, &[])
    }

    /// [`Schedule::on_call`] with `taken`, the shifts people took at run
    /// time for this schedule (person, from, until; the latest taken last):
    /// they win over the config's overrides and the rotation.
    pub fn on_call_with<'a>(&'a self, at: jiff::Timestamp, taken: &'a [Cover]) -> &'a str {
        let covering = |(_, from, until): &&Cover| *from <= at && at < *until;
        if let Some((person, _, _)) = taken.iter().rev().find(covering) {
            return person;
        }
        if let Some((person, _, _)) = self.overrides.iter().rev().find(covering) {
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

    /// The next moment after `at` the person on call may change: a hand-off,
    /// or the start or end of an override or a `taken` shift.
    pub fn next_change(&self, at: jiff::Timestamp, taken: &[Cover]) -> Option<jiff::Timestamp> {
        let edges = self.overrides.iter().chain(taken).flat_map(|(_, from, until)| [*from, *until]);
        edges.chain(self.next_handoff(at)).filter(|edge| *edge > at).min()
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
        // A shift taken at run time wins over the config's override.
        let taken = [("grace".to_string(), at("2026-01-06T12:00:00Z"), at("2026-01-06T13:00:00Z"))];
        assert_eq!(s.on_call_with(at("2026-01-06T12:30:00Z"), &taken), "grace");
        assert_eq!(s.on_call_with(at("2026-01-06T13:00:00Z"), &taken), "linus");
        let noon = at("2026-01-06T11:00:00Z");
        assert_eq!(s.next_change(noon, &taken), Some(at("2026-01-06T12:00:00Z")));
        assert_eq!(s.next_change(noon, &[]), Some(at("2026-01-07T00:00:00Z")));
        assert_eq!(s.on_call(at("2026-01-05T23:59:59Z")), "ada");
        assert_eq!(s.on_call(at("2026-01-06T00:00:00Z")), "linus");
        assert_eq!(s.on_call(at("2026-01-07T00:00:00Z")), "ada");
    }
}
