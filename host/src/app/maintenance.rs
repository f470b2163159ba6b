//! Maintenance windows made at run time, for the API, the CLI and the
//! console: start one ("for 2 hours", or from and until), end one early,
//! list them with the config's. Each change is a keyed record committed
//! with its audit entry; escalations read the windows at every pass.

use super::audit::{Action, Entry};
use super::{AppState, Caller};
use crate::config::noise::{AfterWindow, PRIORITIES};
use crate::config::notify::MAX_NAME_CHARS;
use crate::noise::Window;
use crate::noise::maintenance;
use crate::store::{
    ChangeSet, CommitError, Millis, RecordKind, Write, now_millis, put_record, record_absent,
};
use std::net::IpAddr;

/// The longest window one request may make, as for `[[maintenance]]`.
pub const MAX_WINDOW_MILLIS: Millis = crate::config::noise::MAX_WINDOW_DAYS * 24 * 3600 * 1000;
/// Ended run-time windows are listed this long, then forgotten.
pub const ENDED_KEPT_MILLIS: Millis = 30 * 24 * 3600 * 1000;

/// A window as asked for, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewWindow {
    pub name: String,
    /// Default now.
    pub from: Option<Millis>,
    /// Give `until` or `minutes`.
    pub until: Option<Millis>,
    pub minutes: Option<u64>,
    pub sources: Vec<String>,
    pub priorities: Vec<String>,
    pub after: AfterWindow,
}

#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("storage failure: {0}")]
    Storage(String),
}

fn invalid(code: &'static str, message: impl Into<String>) -> MaintenanceError {
    MaintenanceError::Invalid(code, message.into())
}

/// The window `new` asks for at `now`, or why not.
pub fn check_window(
    config: &crate::config::Config,
    caller: &Caller,
    new: NewWindow,
    now: Millis,
) -> Result<Window, MaintenanceError> {
    let name = new.name.trim().to_string();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid(
            "invalid-name",
            format!("a window needs a name of 1 to {MAX_NAME_CHARS} characters, e.g. \"deploy\""),
        ));
    }
    let from = new.from.unwrap_or(now).max(now);
    let until = match (new.until, new.minutes) {
        (Some(until), None) => until,
        (None, Some(minutes)) if minutes > 0 => from.saturating_add(minutes.saturating_mul(60_000)),
        (Some(_), Some(_)) => {
            return Err(invalid("invalid-time", "give until or minutes, not both"));
        }
        _ => return Err(invalid("invalid-time", "give until (RFC 3339) or minutes (more than 0)")),
    };
    if until <= from {
        return Err(invalid("invalid-time", "until must be after from (and after now)"));
    }
    if until - from > MAX_WINDOW_MILLIS {
        return Err(invalid(
            "invalid-time",
            format!("a window may last at most {} days", crate::config::noise::MAX_WINDOW_DAYS),
        ));
    }
    for source in &new.sources {
        if !config.sources.iter().any(|s| &s.name == source) {
            return Err(invalid("unknown-source", format!("there is no source {source:?}")));
        }
    }
    for priority in &new.priorities {
        if !PRIORITIES.contains(&priority.as_str()) {
            return Err(invalid(
                "invalid-priority",
                format!("unknown priority {priority:?}; use {}", PRIORITIES.join(", ")),
            ));
        }
    }
    if config.maintenance.iter().any(|w| w.name == name) {
        return Err(MaintenanceError::Conflict(format!(
            "{name:?} is a window of the config file; choose another name"
        )));
    }
    Ok(Window {
        name,
        from,
        until,
        sources: new.sources,
        priorities: new.priorities,
        after: new.after,
        created_by: caller.principal(),
        created_at: now,
    })
}

/// Every window, the config's and the run-time ones, by start.
pub async fn list(app: &AppState) -> Result<Vec<Window>, MaintenanceError> {
    let (store, setup) = (app.store.clone(), app.notify.current());
    tokio::task::spawn_blocking(move || maintenance::all(&setup.config, &store))
        .await
        .map_err(|error| MaintenanceError::Storage(error.to_string()))?
        .map_err(|error| MaintenanceError::Storage(error.to_string()))
}

/// Starts (or plans) a window. A name may be used again once its window
/// has ended; the ended one is then forgotten.
pub async fn start(
    app: &AppState,
    caller: &Caller,
    client: Option<IpAddr>,
    new: NewWindow,
) -> Result<Window, MaintenanceError> {
    let now = now_millis();
    let window = check_window(&app.notify.current().config, caller, new, now)?;
    let stored = stored(app).await?;
    let mut reads = vec![];
    let mut writes = vec![];
    match stored.iter().find(|keyed| keyed.name == window.name) {
        Some(same) if same.value.until > now => {
            return Err(MaintenanceError::Conflict(format!(
                "a window {:?} is {} until {}; end it first or choose another name",
                window.name,
                same.value.state(now),
                super::oncall::timestamp(same.value.until)
            )));
        }
        Some(ended) => reads.push(ended.unchanged(RecordKind::Maintenance)),
        None => reads.push(record_absent(RecordKind::Maintenance, &window.name)),
    }
    // Forget windows that ended long ago: they are only listed a while.
    for old in
        stored.iter().filter(|k| k.value.until + ENDED_KEPT_MILLIS < now && k.name != window.name)
    {
        writes.push(Write::DeleteRecord { kind: RecordKind::Maintenance, name: old.name.clone() });
    }
    writes.push(put_record(RecordKind::Maintenance, &window.name, &window));
    let detail = describe("started", &window);
    writes.push(Write::AppendAudit(
        Entry::by(caller, Action::Maintenance, client, detail).into_entry(),
    ));
    commit(app, ChangeSet { reads, writes }).await?;
    Ok(window)
}

/// Ends a run-time window now (an upcoming one is called off). What it held
/// pages (or stays quiet, per its `after`) at the next pass.
pub async fn end(
    app: &AppState,
    caller: &Caller,
    client: Option<IpAddr>,
    name: &str,
) -> Result<Window, MaintenanceError> {
    let now = now_millis();
    if app.notify.current().config.maintenance.iter().any(|w| w.name == name) {
        return Err(MaintenanceError::Conflict(format!(
            "{name:?} is a window of the config file; edit the file and reload to change it"
        )));
    }
    let stored = stored(app).await?;
    let Some(found) =
        stored.into_iter().find(|keyed| keyed.name == name && keyed.value.until > now)
    else {
        return Err(MaintenanceError::NotFound(format!(
            "there is no active or upcoming window {name:?}"
        )));
    };
    let mut ended = found.value.clone();
    ended.until = now;
    ended.from = ended.from.min(now);
    let detail = describe("ended", &ended);
    let changes = ChangeSet {
        reads: vec![found.unchanged(RecordKind::Maintenance)],
        writes: vec![
            put_record(RecordKind::Maintenance, name, &ended),
            Write::AppendAudit(Entry::by(caller, Action::Maintenance, client, detail).into_entry()),
        ],
    };
    commit(app, changes).await?;
    app.store.outbox_signal().notify_one();
    Ok(ended)
}

fn describe(what: &str, window: &Window) -> String {
    let sources =
        if window.sources.is_empty() { "all sources".into() } else { window.sources.join(", ") };
    format!(
        "window {:?} {what}: {} until {}, {sources}",
        window.name,
        super::oncall::timestamp(window.from),
        super::oncall::timestamp(window.until)
    )
}

async fn stored(app: &AppState) -> Result<Vec<crate::store::Keyed<Window>>, MaintenanceError> {
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || maintenance::stored(&store))
        .await
        .map_err(|error| MaintenanceError::Storage(error.to_string()))?
        .map_err(|error| MaintenanceError::Storage(error.to_string()))
}

async fn commit(app: &AppState, changes: ChangeSet) -> Result<(), MaintenanceError> {
    match app.store.commit(changes).await {
        Ok(()) => Ok(()),
        Err(CommitError::Conflict) => Err(MaintenanceError::Conflict(
            "another change to this window came first; try again".into(),
        )),
        Err(error) => Err(MaintenanceError::Storage(error.to_string())),
    }
}
