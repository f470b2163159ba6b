//! `GET /ui/oncall`: each schedule's person on call now and who comes next,
//! with hand-off times in the viewer's time zone, the shifts people took,
//! and for a responder signed in as themselves "take this shift", "cover
//! for N hours" and "cancel". Shifts go through the same checks, storage
//! and audit as the API's (`http::oncall::take_shift`, via `app::oncall`).

use crate::app::CallerKind;
use crate::app::audit::{self, Action};
use crate::app::oncall::{self, NewShift, ShiftError};
use crate::request_extensions::ClientAddress;
use crate::roles::Role;
use crate::store::{ChangeSet, Write};
use crate::ui::csrf;
use crate::ui::render::page;
use crate::ui::session::SignedIn;
use crate::ui::view::{Chrome, Time, time};
use crate::ui::{Console, UiError};
use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

/// The spans "cover for" offers, in hours.
const COVER_HOURS: [u32; 6] = [1, 2, 4, 8, 12, 24];

#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    chrome: Chrome,
    csrf: String,
    schedules: Vec<ScheduleRow>,
    /// Whether the viewer may take shifts for themselves here.
    may_take: bool,
    /// Whether the viewer is a person, who may have calendar links.
    may_subscribe: bool,
    cover_hours: &'static [u32],
    notice: Option<String>,
}

struct ScheduleRow {
    name: String,
    /// The name as a URL path segment.
    path: String,
    timezone: String,
    person: String,
    until: Option<Time>,
    next_person: Option<String>,
    shifts: Vec<ShiftRow>,
    /// The config's `[[schedules.overrides]]` that have not ended.
    overrides: Vec<(String, Time, Time)>,
    is_me: bool,
}

struct ShiftRow {
    id: u64,
    person: String,
    from: Time,
    until: Time,
    taken_by: String,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    done: Option<String>,
}

pub async fn show(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    axum::extract::Query(params): axum::extract::Query<Params>,
) -> Result<Response, UiError> {
    let shifts = oncall::current_shifts(&console.app).await.map_err(ui_error)?;
    let setup = console.app.notify.current();
    let now = jiff::Timestamp::now();
    let me = &signed_in.caller.name;
    let schedules = setup
        .config
        .resolved_schedules
        .iter()
        .map(|schedule| {
            let current = oncall::on_call(schedule, &shifts, now);
            ScheduleRow {
                is_me: signed_in.caller.kind == CallerKind::Person && current.person == *me,
                path: crate::ui::session::urlencode(&current.schedule),
                name: current.schedule,
                timezone: current.timezone,
                person: current.person,
                until: current.until.map(millis_time),
                next_person: current.next_person,
                shifts: shifts
                    .iter()
                    .filter(|shift| shift.schedule == schedule.name)
                    .map(|shift| ShiftRow {
                        id: shift.id,
                        person: shift.person.clone(),
                        from: time(shift.from),
                        until: time(shift.until),
                        taken_by: shift.taken_by.clone(),
                    })
                    .collect(),
                overrides: schedule
                    .overrides
                    .iter()
                    .filter(|(_, _, until)| *until > now)
                    .map(|(person, from, until)| {
                        (person.clone(), millis_time(*from), millis_time(*until))
                    })
                    .collect(),
            }
        })
        .collect();
    page(OnCallPage {
        chrome: signed_in.chrome("oncall"),
        csrf: signed_in.session.csrf.clone(),
        schedules,
        may_take: signed_in.caller.kind == CallerKind::Person && signed_in.may(Role::Responder),
        may_subscribe: signed_in.caller.kind == CallerKind::Person,
        cover_hours: &COVER_HOURS,
        notice: params.done.as_deref().map(|done| match done {
            "cancelled" => "Shift cancelled.".to_string(),
            _ => "Shift taken: you are paged for this schedule until it ends.".to_string(),
        }),
    })
}

#[derive(Debug, Deserialize)]
pub struct ShiftForm {
    csrf: Option<String>,
    /// "cover": for this many hours from now; absent: the running turn.
    hours: Option<u32>,
}

/// `POST /ui/oncall/{schedule}/take`: the signed-in person takes the
/// running turn, or covers for `hours` from now.
pub async fn take(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<Extension<ClientAddress>>,
    Path(schedule): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ShiftForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    if signed_in.caller.kind != CallerKind::Person {
        // The role allows it; the kind of sign-in cannot: 400, not 403.
        return Err(UiError::bad_request(
            "Shifts are taken by people: sign in as yourself, not with a token.",
        ));
    }
    let until = match form.hours {
        Some(hours) if COVER_HOURS.contains(&hours) => {
            Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(i64::from(hours)))
        }
        Some(hours) => {
            return Err(UiError::bad_request(format!(
                "{hours} hours is not one of the spans offered"
            )));
        }
        None => None,
    };
    let new = NewShift { schedule, person: None, from: None, until };
    let client = client.map(|Extension(address)| address.client);
    oncall::take_shift(&console.app, &signed_in.caller, client, new).await.map_err(ui_error)?;
    Ok(Redirect::to("/ui/oncall?done=taken").into_response())
}

fn ui_error(error: ShiftError) -> UiError {
    match error {
        ShiftError::Refused(refusal) => UiError::bad_request(refusal.message),
        ShiftError::NotFound(message) => UiError::not_found(message),
        ShiftError::NotTheirs(message) => {
            UiError::new(StatusCode::FORBIDDEN, "Not allowed", message)
        }
        ShiftError::Storage(message) => UiError::internal(message),
    }
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    csrf: Option<String>,
}

/// `POST /ui/oncall/{schedule}/shifts/{id}/cancel`: a person ends their own
/// shift; an admin any.
pub async fn cancel(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<Extension<ClientAddress>>,
    Path((schedule, id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<CancelForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let id = super::parse_id(&id, "a shift id")?;
    let client = client.map(|Extension(address)| address.client);
    oncall::cancel_shift(&console.app, &signed_in.caller, client, &schedule, id)
        .await
        .map_err(ui_error)?;
    Ok(Redirect::to("/ui/oncall?done=cancelled").into_response())
}

#[derive(Template)]
#[template(path = "calendar_key.html")]
struct CalendarKeyPage {
    chrome: Chrome,
    person_feed: String,
    schedule_feeds: Vec<(String, String)>,
}

/// `POST /ui/calendar-key`: a new calendar feed key for the signed-in
/// person, shown once as links; the previous key stops working.
pub async fn new_calendar_key(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    form: Result<Form<CancelForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    if signed_in.caller.kind != CallerKind::Person {
        return Err(UiError::bad_request(
            "Calendar links belong to people: sign in as yourself, not with a token.",
        ));
    }
    let person = signed_in.caller.name.clone();
    let key = crate::ui::session::random_token();
    let digest = crate::app::digest_hex(&key);
    let client = client.map(|Extension(address)| address.client);
    let entry = audit::Entry::by(
        &signed_in.caller,
        Action::CalendarKey,
        client,
        format!("made a new calendar feed key for {person}; the old one no longer works"),
    );
    let changes = ChangeSet {
        reads: Vec::new(),
        writes: vec![
            Write::PutFeedKey { person: person.clone(), digest },
            Write::AppendAudit(entry.into_entry()),
        ],
    };
    console.app.store.commit(changes).await.map_err(|error| {
        UiError::internal(format!("the key was not stored ({error}); try again"))
    })?;
    let base = console.app.live.load().config.public_url();
    let encode = |text: &str| crate::ui::session::urlencode(text);
    let setup = console.app.notify.current();
    page(CalendarKeyPage {
        chrome: signed_in.chrome("oncall"),
        person_feed: format!("{base}/api/v1/people/{}/calendar.ics?key={key}", encode(&person)),
        schedule_feeds: setup
            .config
            .resolved_schedules
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    format!("{base}/api/v1/schedules/{}/calendar.ics?key={key}", encode(&s.name)),
                )
            })
            .collect(),
    })
}

fn millis_time(at: jiff::Timestamp) -> Time {
    time(at.as_millisecond().max(0) as u64)
}
