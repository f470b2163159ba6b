//! Shifts people take at run time, from the console or the API: "take this
//! shift" and "cover until". Each covers one schedule for a span; the latest
//! taken wins where they overlap, and any of them wins over the config's
//! `[[schedules.overrides]]` and the rotation (`config::oncall::Schedule`).
//! Kept in the database (both engines), so every host pages the same person.

use super::model::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Given by the engine when stored; increasing. Zero before.
    #[serde(default)]
    pub id: u64,
    pub schedule: String,
    pub person: String,
    pub from: Millis,
    pub until: Millis,
    /// Who took it: `person ada`, `token ops`.
    pub taken_by: String,
    pub taken_at: Millis,
}

impl Shift {
    pub fn covers(&self, schedule: &str, at: Millis) -> bool {
        self.schedule == schedule && self.from <= at && at < self.until
    }
}

/// The shifts of `schedule` among `shifts`, as (person, from, until): how
/// `config::oncall::Schedule::on_call_with` reads them.
pub fn covers(shifts: &[Shift], schedule: &str) -> Vec<(String, jiff::Timestamp, jiff::Timestamp)> {
    let at = |millis: Millis| {
        jiff::Timestamp::from_millisecond(millis as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    };
    shifts
        .iter()
        .filter(|shift| shift.schedule == schedule)
        .map(|shift| (shift.person.clone(), at(shift.from), at(shift.until)))
        .collect()
}
