//! The host API a plugin imports (`incidents`, `state`, `log`), implemented
//! over the call's [`Session`] for the newest API version; older versions
//! adapt to it (`wit/since_*.rs`). Storage failures trap the call (nothing is
//! applied); misuse and limits come back to the plugin as `api-error`.

use super::limits::{CallLimits, MemoryMeter};
use super::session::Session;
use super::wit::latest::inbound::plugin::{incidents, log, state, types};
use crate::store::{self, Incident, IncidentId, LogKind, Status};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Everything one plugin instance's store holds.
pub struct CallState {
    pub session: Session,
    pub limits: CallLimits,
    pub memory: MemoryMeter,
    pub log: PluginLog,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    /// Limits the plugin ran into; a call that then fails is the plugin's
    /// failure (5xx), not the sender's (400).
    pub limit_errors: Vec<String>,
}

/// Plugin log lines kept for the caller (harness, failed deliveries) and
/// forwarded to the host's log; bounded per call.
#[derive(Debug, Default, Clone)]
pub struct PluginLog {
    pub lines: Vec<(String, String)>,
    pub bytes: usize,
    pub dropped: usize,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

type HostResult<T> = wasmtime::Result<T>;

fn storage_trap(error: redb::Error) -> wasmtime::Error {
    wasmtime::Error::msg(format!("storage read failed: {error}"))
}

impl CallState {
    fn noted<T>(
        &mut self,
        result: Result<T, types::ApiError>,
    ) -> HostResult<Result<T, types::ApiError>> {
        if let Err(types::ApiError::LimitExceeded(what)) = &result {
            if self.limit_errors.len() < 8 {
                self.limit_errors.push(what.clone());
            }
        }
        Ok(result)
    }

    fn check_text(&self, what: &str, text: &str, max: usize) -> Result<(), types::ApiError> {
        if text.len() > max {
            return Err(types::ApiError::LimitExceeded(format!(
                "{what} is {} bytes; the limit is {max}",
                text.len()
            )));
        }
        Ok(())
    }

    fn check_key(&self, key: &str) -> Result<(), types::ApiError> {
        if key.trim().is_empty() {
            return Err(types::ApiError::Invalid("the incident key must not be empty".into()));
        }
        self.check_text("the incident key", key, self.limits.max_key_bytes)
    }

    fn check_link(&self, link: &types::Link) -> Result<(), types::ApiError> {
        self.check_text("the link label", &link.label, self.limits.max_key_bytes)?;
        self.check_url("the link url", &link.url)
    }

    /// Size first, so a huge URL is a limit error and is never parsed.
    fn check_url(&self, what: &str, url: &str) -> Result<(), types::ApiError> {
        self.check_text(what, url, self.limits.max_url_bytes)?;
        super::web_url::check(url).map_err(|reason| {
            types::ApiError::Invalid(format!("{what} {:?} {reason}", cut(url, 80)))
        })
    }

    fn check_link_count(&self, count: usize) -> Result<(), types::ApiError> {
        if count > self.limits.max_links_per_incident {
            return Err(types::ApiError::LimitExceeded(format!(
                "an incident may have at most {} links",
                self.limits.max_links_per_incident
            )));
        }
        Ok(())
    }

    fn check_action_budget(&self) -> Result<(), types::ApiError> {
        if self.session.write_count() >= self.limits.max_writes_per_call {
            return Err(types::ApiError::LimitExceeded(format!(
                "a call may make at most {} changes",
                self.limits.max_writes_per_call
            )));
        }
        Ok(())
    }

    /// Loads an incident the plugin may change, or the error it gets.
    fn owned_incident(&mut self, id: IncidentId) -> HostResult<Result<Incident, types::ApiError>> {
        Ok(self.session.incident(id).map_err(storage_trap)?.ok_or(types::ApiError::NotFound(id)))
    }

    fn change_status(
        &mut self,
        id: IncidentId,
        to: Status,
        note: Option<String>,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let mut incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        if let Some(note) = &note {
            if let Err(error) = self.check_text("the note", note, self.limits.max_text_bytes) {
                return Ok(Err(error));
            }
        }
        if incident.status == to {
            return Ok(Ok(to_wit(&incident)));
        }
        if incident.status == Status::Resolved {
            return Ok(Err(types::ApiError::Invalid(format!(
                "incident {id} is resolved; resolved incidents are never reopened"
            ))));
        }
        if let Err(error) = self.check_action_budget() {
            return Ok(Err(error));
        }
        let from = incident.status;
        incident.status = to;
        let by = self.session.scope.actor.clone();
        self.session.put_incident(incident, LogKind::StatusChanged { from, to, by, note });
        Ok(Ok(to_wit(&self.session.incident(id).map_err(storage_trap)?.expect("just written"))))
    }
}

impl types::Host for CallState {}

impl incidents::Host for CallState {
    fn find_open(&mut self, key: String) -> HostResult<Option<types::Incident>> {
        Ok(self.session.open_incident(&key).map_err(storage_trap)?.as_ref().map(to_wit))
    }

    fn find_latest(&mut self, key: String) -> HostResult<Option<types::Incident>> {
        Ok(self.session.latest_incident(&key).map_err(storage_trap)?.as_ref().map(to_wit))
    }

    fn get(&mut self, id: IncidentId) -> HostResult<Option<types::Incident>> {
        Ok(self.session.incident(id).map_err(storage_trap)?.as_ref().map(to_wit))
    }

    fn create(
        &mut self,
        new: types::NewIncident,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let result = self.create_incident(new)?;
        self.noted(result)
    }

    fn accept(
        &mut self,
        id: IncidentId,
        note: Option<String>,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let result = self.change_status(id, Status::Accepted, note)?;
        self.noted(result)
    }

    fn resolve(
        &mut self,
        id: IncidentId,
        note: Option<String>,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let result = self.change_status(id, Status::Resolved, note)?;
        self.noted(result)
    }

    fn comment(
        &mut self,
        id: IncidentId,
        author: Option<String>,
        text: String,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let result = self.add_comment(id, author, text)?;
        self.noted(result)
    }

    fn add_link(
        &mut self,
        id: IncidentId,
        link: types::Link,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let result = self.add_link_to(id, link)?;
        self.noted(result)
    }
}

impl CallState {
    fn create_incident(
        &mut self,
        new: types::NewIncident,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let checks = self
            .check_key(&new.key)
            .and_then(|_| self.check_text("the summary", &new.summary, self.limits.max_text_bytes))
            .and_then(|_| self.check_text("the details", &new.details, self.limits.max_text_bytes))
            .and_then(|_| match new.url.as_deref() {
                // An empty url means none (see below).
                Some(url) if !url.is_empty() => self.check_url("the url", url),
                _ => Ok(()),
            })
            .and_then(|_| new.links.iter().try_for_each(|link| self.check_link(link)))
            .and_then(|_| self.check_link_count(new.links.len()))
            .and_then(|_| self.check_action_budget());
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        if let Some(open) = self.session.open_incident(&new.key).map_err(storage_trap)? {
            return Ok(Err(types::ApiError::Invalid(format!(
                "incident {} is already open for key {:?}; at most one incident per key is open",
                open.id, new.key
            ))));
        }
        let scope = &self.session.scope;
        let incident = Incident {
            id: self.session.new_incident_id(),
            source: scope.name.clone(),
            key: new.key,
            status: Status::Pending,
            summary: cut(&new.summary, store::SUMMARY_MAX_CHARS),
            details: cut(&new.details, store::DETAILS_MAX_CHARS),
            priority: new.priority.map(priority_from_wit),
            url: new.url.filter(|url| !url.is_empty()),
            links: dedup_links(new.links.into_iter().map(link_from_wit)),
            escalation_policy: scope.escalation_policy.clone(),
            created_at: self.session.now,
            updated_at: self.session.now,
            version: 0,
        };
        let id = incident.id;
        let by = scope.actor.clone();
        self.session.put_incident(incident, LogKind::Created { by });
        Ok(Ok(to_wit(&self.session.incident(id).map_err(storage_trap)?.expect("just written"))))
    }

    fn add_comment(
        &mut self,
        id: IncidentId,
        author: Option<String>,
        text: String,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        let checks = self
            .check_text("the comment", &text, self.limits.max_text_bytes)
            .and_then(|_| match &author {
                Some(author) => self.check_text("the author", author, self.limits.max_key_bytes),
                None => Ok(()),
            })
            .and_then(|_| self.check_action_budget());
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        let by = self.session.scope.actor.clone();
        self.session.put_incident(incident, LogKind::Comment { author, text, by });
        Ok(Ok(to_wit(&self.session.incident(id).map_err(storage_trap)?.expect("just written"))))
    }
}

impl CallState {
    fn add_link_to(
        &mut self,
        id: IncidentId,
        link: types::Link,
    ) -> HostResult<Result<types::Incident, types::ApiError>> {
        let mut incident = match self.owned_incident(id)? {
            Ok(incident) => incident,
            Err(error) => return Ok(Err(error)),
        };
        if let Err(error) = self.check_link(&link) {
            return Ok(Err(error));
        }
        if incident.links.iter().any(|known| known.url == link.url) {
            return Ok(Ok(to_wit(&incident)));
        }
        let checks = self
            .check_link_count(incident.links.len() + 1)
            .and_then(|_| self.check_action_budget());
        if let Err(error) = checks {
            return Ok(Err(error));
        }
        let link = link_from_wit(link);
        incident.links.push(link.clone());
        let by = self.session.scope.actor.clone();
        self.session
            .put_incident(incident, LogKind::LinkAdded { label: link.label, url: link.url, by });
        Ok(Ok(to_wit(&self.session.incident(id).map_err(storage_trap)?.expect("just written"))))
    }
}

impl state::Host for CallState {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        self.session.state_get(&key).map_err(storage_trap)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), types::ApiError>> {
        let checks = self
            .check_text("the state key", &key, self.limits.max_key_bytes)
            .and_then(|_| {
                if value.len() > self.limits.max_state_value_bytes {
                    Err(types::ApiError::LimitExceeded(format!(
                        "a state value is {} bytes; the limit is {}",
                        value.len(),
                        self.limits.max_state_value_bytes
                    )))
                } else {
                    Ok(())
                }
            })
            .and_then(|_| self.check_action_budget());
        if let Err(error) = checks {
            return self.noted(Err(error));
        }
        let total =
            self.session.state_bytes_after(&key, Some(value.len())).map_err(storage_trap)?;
        if total > self.limits.max_state_bytes_per_source {
            return self.noted(Err(types::ApiError::LimitExceeded(format!(
                "the source's state would be {total} bytes; the limit is {}",
                self.limits.max_state_bytes_per_source
            ))));
        }
        self.session.state_set(&key, value);
        Ok(Ok(()))
    }

    fn delete(&mut self, key: String) -> HostResult<()> {
        if key.len() <= self.limits.max_key_bytes {
            self.session.state_delete(&key);
        }
        Ok(())
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) -> HostResult<()> {
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        if self.log.bytes + message.len() > self.limits.max_log_bytes_per_call {
            self.log.dropped += 1;
            return Ok(());
        }
        self.log.bytes += message.len();
        let source = &self.session.scope.name;
        match level {
            "error" => tracing::error!(target: "plugin", source = %source, "{message}"),
            "warn" => tracing::warn!(target: "plugin", source = %source, "{message}"),
            "info" => tracing::info!(target: "plugin", source = %source, "{message}"),
            "debug" => tracing::debug!(target: "plugin", source = %source, "{message}"),
            _ => tracing::trace!(target: "plugin", source = %source, "{message}"),
        }
        self.log.lines.push((level.to_string(), message));
        Ok(())
    }
}

fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

pub fn to_wit(incident: &Incident) -> types::Incident {
    types::Incident {
        id: incident.id,
        key: incident.key.clone(),
        status: match incident.status {
            Status::Pending => types::IncidentStatus::Pending,
            Status::Accepted => types::IncidentStatus::Accepted,
            Status::Resolved => types::IncidentStatus::Resolved,
        },
        summary: incident.summary.clone(),
        details: incident.details.clone(),
        priority: incident.priority.map(|p| match p {
            store::Priority::Low => types::Priority::Low,
            store::Priority::Normal => types::Priority::Normal,
            store::Priority::High => types::Priority::High,
            store::Priority::Urgent => types::Priority::Urgent,
        }),
        url: incident.url.clone(),
        links: incident
            .links
            .iter()
            .map(|link| types::Link { label: link.label.clone(), url: link.url.clone() })
            .collect(),
        created_at: incident.created_at,
        updated_at: incident.updated_at,
    }
}

fn link_from_wit(link: types::Link) -> store::Link {
    store::Link { label: link.label, url: link.url }
}

/// The first link for each URL, in order: a plugin that lists its alert's
/// graph twice gets it once.
fn dedup_links(links: impl Iterator<Item = store::Link>) -> Vec<store::Link> {
    let mut kept: Vec<store::Link> = Vec::new();
    for link in links {
        if !kept.iter().any(|known| known.url == link.url) {
            kept.push(link);
        }
    }
    kept
}

fn priority_from_wit(priority: types::Priority) -> store::Priority {
    match priority {
        types::Priority::Low => store::Priority::Low,
        types::Priority::Normal => store::Priority::Normal,
        types::Priority::High => store::Priority::High,
        types::Priority::Urgent => store::Priority::Urgent,
    }
}

pub fn action_from_wit(action: types::Action) -> store::Action {
    match action {
        types::Action::Created => store::Action::Created,
        types::Action::Accepted => store::Action::Accepted,
        types::Action::Resolved => store::Action::Resolved,
        types::Action::Commented => store::Action::Commented,
        types::Action::Unchanged => store::Action::Unchanged,
    }
}
