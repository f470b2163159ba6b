//! Who is on call, now and next, for the API, the console and the
//! calendars: the config's schedules with the shifts people took at run
//! time (`store::Shift`) laid over them.

use super::audit::{self, Action};
use super::{AppState, Caller, CallerKind};
use crate::config::Config;
use crate::config::oncall::Schedule;
use crate::roles::Role;
use crate::store::{ChangeSet, Millis, Shift, Write, covers, now_millis};
use jiff::Timestamp;
use std::net::IpAddr;

/// The longest shift one request may take.
pub const MAX_SHIFT: jiff::SignedDuration = jiff::SignedDuration::from_hours(31 * 24);

/// A shift as asked for, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewShift {
    pub schedule: String,
    /// Who covers; a person may leave it out to mean themselves.
    pub person: Option<String>,
    /// Default now.
    pub from: Option<Timestamp>,
    /// Default the end of the turn running at `from`: "take this shift".
    pub until: Option<Timestamp>,
}

/// Why a shift was refused: an error code and a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

/// The shift `caller` may take, or why not. People below admin take
/// shifts for themselves; admins and tokens may name anyone who can be
/// paged.
pub fn check_shift(
    config: &Config,
    caller: &Caller,
    new: NewShift,
    now: Timestamp,
) -> Result<Shift, Refusal> {
    let schedule = config
        .resolved_schedules
        .iter()
        .find(|schedule| schedule.name == new.schedule)
        .ok_or_else(|| {
            refuse("unknown-schedule", format!("there is no schedule {:?}", new.schedule))
        })?;
    let person = match (new.person, caller.kind) {
        (Some(person), _) => person,
        (None, CallerKind::Person) => caller.name.clone(),
        (None, CallerKind::Token) => {
            return Err(refuse(
                "person-required",
                "name the person who covers: {\"person\": \"...\"}",
            ));
        }
    };
    if caller.kind == CallerKind::Person
        && person != caller.name
        && !caller.role.allows(Role::Admin)
    {
        return Err(refuse(
            "not-yourself",
            format!(
                "{} may take shifts for themselves only; an admin may name {person}",
                caller.name
            ),
        ));
    }
    let Some(found) = config.people.iter().find(|p| p.name == person) else {
        return Err(refuse(
            "unknown-person",
            format!("there is no person {person:?} in [[people]]"),
        ));
    };
    if found.contacts.is_empty() {
        return Err(refuse(
            "person-unreachable",
            format!("{person} has no contacts, so they could not be paged"),
        ));
    }
    let from = new.from.unwrap_or(now).max(now);
    let until = match new.until {
        Some(until) => until,
        None => schedule.next_handoff(from).ok_or_else(|| {
            refuse("invalid-time", "this schedule has no next hand-off; give until")
        })?,
    };
    if until <= from {
        return Err(refuse("invalid-time", "until must be after from (and after now)"));
    }
    if until.duration_since(from) > MAX_SHIFT {
        return Err(refuse("invalid-time", "a shift may cover at most 31 days; take several"));
    }
    Ok(Shift {
        id: 0,
        schedule: schedule.name.clone(),
        person,
        from: from.as_millisecond().max(0) as Millis,
        until: until.as_millisecond().max(0) as Millis,
        taken_by: caller.principal(),
        taken_at: now_millis(),
    })
}

/// One schedule's on-call person at a moment, and who comes next.
#[derive(Debug, Clone, PartialEq)]
pub struct OnCall {
    pub schedule: String,
    pub timezone: String,
    pub person: String,
    /// When `person` stops being on call (a hand-off, or a shift's edge).
    pub until: Option<Timestamp>,
    pub next_person: Option<String>,
    /// The run-time shift that puts `person` on call, if one does.
    pub shift: Option<Shift>,
}

pub fn on_call(schedule: &Schedule, shifts: &[Shift], at: Timestamp) -> OnCall {
    let taken = covers(shifts, &schedule.name);
    let person = schedule.on_call_with(at, &taken).to_string();
    let until = schedule.next_change(at, &taken);
    let next_person = until.map(|until| schedule.on_call_with(until, &taken).to_string());
    let millis = at.as_millisecond().max(0) as Millis;
    let shift = shifts
        .iter()
        .rev()
        .find(|shift| shift.covers(&schedule.name, millis) && shift.person == person)
        .cloned();
    OnCall {
        schedule: schedule.name.clone(),
        timezone: schedule.timezone.iana_name().unwrap_or("UTC").to_string(),
        person,
        until,
        next_person,
        shift,
    }
}

/// Why a shift was not taken or cancelled.
#[derive(Debug)]
pub enum ShiftError {
    Refused(Refusal),
    /// No current shift of that schedule has that id.
    NotFound(String),
    /// The caller may not cancel someone else's shift.
    NotTheirs(String),
    Storage(String),
}

/// Checks and stores a shift with its audit entry, in one commit: the
/// API's `POST .../shifts` and the console's "take" and "cover". Returns
/// it as stored, with its id.
pub async fn take_shift(
    app: &AppState,
    caller: &Caller,
    client: Option<IpAddr>,
    new: NewShift,
) -> Result<Shift, ShiftError> {
    let setup = app.notify.current();
    let shift =
        check_shift(&setup.config, caller, new, Timestamp::now()).map_err(ShiftError::Refused)?;
    let detail = format!(
        "{} covers {} from {} until {}",
        shift.person,
        shift.schedule,
        timestamp(shift.from),
        timestamp(shift.until)
    );
    commit(app, caller, client, Write::AddShift(shift.clone()), detail).await?;
    // Read back for its id: the engine gives it one as it stores it.
    let stored = current_shifts(app).await?;
    Ok(stored
        .into_iter()
        .rev()
        .find(|s| {
            s.taken_at == shift.taken_at && s.person == shift.person && s.schedule == shift.schedule
        })
        .unwrap_or(shift))
}

/// Ends shift `id` of `schedule` early. People below admin cancel their own.
pub async fn cancel_shift(
    app: &AppState,
    caller: &Caller,
    client: Option<IpAddr>,
    schedule: &str,
    id: u64,
) -> Result<Shift, ShiftError> {
    let shift = current_shifts(app)
        .await?
        .into_iter()
        .find(|shift| shift.id == id && shift.schedule == schedule)
        .ok_or_else(|| {
            ShiftError::NotFound(format!("schedule {schedule:?} has no current shift {id}"))
        })?;
    let own = caller.kind == CallerKind::Person && shift.person == caller.name;
    if caller.kind == CallerKind::Person && !own && !caller.role.allows(Role::Admin) {
        return Err(ShiftError::NotTheirs(format!(
            "{} may cancel their own shifts; this one is {}'s (an admin may cancel it)",
            caller.name, shift.person
        )));
    }
    let detail = format!(
        "cancelled the shift of {} on {schedule} (until {})",
        shift.person,
        timestamp(shift.until)
    );
    commit(app, caller, client, Write::DeleteShift(id), detail).await?;
    Ok(shift)
}

/// The shifts taken at run time that have not ended, of people who can
/// still be paged (as escalation sees them).
pub async fn current_shifts(app: &AppState) -> Result<Vec<Shift>, ShiftError> {
    let store = app.store.clone();
    let shifts = tokio::task::spawn_blocking(move || store.shifts(now_millis()))
        .await
        .map_err(|error| ShiftError::Storage(error.to_string()))?
        .map_err(|error| ShiftError::Storage(format!("the shifts cannot be read: {error}")))?;
    let setup = app.notify.current();
    Ok(shifts.into_iter().filter(|shift| setup.config.can_be_paged(&shift.person)).collect())
}

async fn commit(
    app: &AppState,
    caller: &Caller,
    client: Option<IpAddr>,
    write: Write,
    detail: String,
) -> Result<(), ShiftError> {
    let entry = audit::Entry::by(caller, Action::ShiftChange, client, detail);
    let changes = ChangeSet {
        reads: Vec::new(),
        writes: vec![write, Write::AppendAudit(entry.into_entry())],
    };
    app.store
        .commit(changes)
        .await
        .map_err(|error| ShiftError::Storage(format!("not stored: {error}")))
}

/// The turns of `schedule` from `from` to `to`, each (person, start, end):
/// what a calendar shows. Bounded by `limit` turns.
pub fn turns(
    schedule: &Schedule,
    shifts: &[Shift],
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Vec<(String, Timestamp, Timestamp)> {
    let taken = covers(shifts, &schedule.name);
    let mut turns = Vec::new();
    let mut at = from;
    while at < to && turns.len() < limit {
        let person = schedule.on_call_with(at, &taken).to_string();
        let end = schedule.next_change(at, &taken).unwrap_or(to).min(to);
        match turns.last_mut() {
            // The same person across an edge (e.g. an override of whoever
            // was on call anyway) is one turn.
            Some((last, _, last_end)) if *last == person && *last_end == at => *last_end = end,
            _ => turns.push((person, at, end)),
        }
        if end <= at {
            break;
        }
        at = end;
    }
    turns
}

pub fn timestamp(millis: Millis) -> Timestamp {
    Timestamp::from_millisecond(millis as i64).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn schedule() -> Schedule {
        Schedule {
            name: "primary".into(),
            timezone: TimeZone::get("Europe/Oslo").unwrap(),
            members: vec!["ada".into(), "grace".into()],
            length_days: 1,
            handoff: "09:00".parse().unwrap(),
            start: "2026-03-27".parse().unwrap(),
            overrides: Vec::new(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn shift(person: &str, from: &str, until: &str) -> Shift {
        Shift {
            id: 1,
            schedule: "primary".into(),
            person: person.into(),
            from: at(from).as_millisecond() as u64,
            until: at(until).as_millisecond() as u64,
            taken_by: format!("person {person}"),
            taken_at: 0,
        }
    }

    #[test]
    fn a_taken_shift_puts_its_person_on_call_and_ends_at_its_edge() {
        let shifts = [shift("linus", "2026-03-27T10:00:00Z", "2026-03-27T12:00:00Z")];
        let now = on_call(&schedule(), &shifts, at("2026-03-27T11:00:00Z"));
        assert_eq!(now.person, "linus");
        assert_eq!(now.until, Some(at("2026-03-27T12:00:00Z")));
        assert_eq!(now.next_person.as_deref(), Some("ada"));
        assert_eq!(now.shift.as_ref().map(|s| s.person.as_str()), Some("linus"));
        let before = on_call(&schedule(), &shifts, at("2026-03-27T09:00:00Z"));
        assert_eq!((before.person.as_str(), before.shift), ("ada", None));
    }

    #[test]
    fn turns_follow_the_zone_across_a_dst_change() {
        // Oslo moves to +02:00 on 2026-03-29: hand-offs stay at 09:00 local.
        let turns =
            turns(&schedule(), &[], at("2026-03-28T08:00:00Z"), at("2026-03-30T08:00:00Z"), 10);
        let shown: Vec<_> = turns
            .iter()
            .map(|(p, from, to)| (p.as_str(), from.to_string(), to.to_string()))
            .collect();
        assert_eq!(
            shown,
            [
                ("grace", "2026-03-28T08:00:00Z".into(), "2026-03-29T07:00:00Z".into()),
                ("ada", "2026-03-29T07:00:00Z".into(), "2026-03-30T07:00:00Z".into()),
                ("grace", "2026-03-30T07:00:00Z".into(), "2026-03-30T08:00:00Z".into()),
            ]
        );
    }
}
