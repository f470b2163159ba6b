//! The native baseline: the Zendesk plugin's own lifecycle code compiled to
//! native Rust, on the host's storage (same snapshot, change sets, group
//! commit and durability), with no WebAssembly. The gap between this and the
//! real host is the cost of the sandbox.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use inbound::store::{
    self, CommitError, Incident, LogKind, NewIncident, Session, SourceScope, Status, Store,
};
use inbound_sdk as sdk;
use serde_json::{Value, json};
use std::sync::Arc;

pub struct NativeSource {
    pub store: Arc<Store>,
    pub settings: String,
}

/// `POST /api/v1/events/zendesk/{key}`, answered like the host answers it.
pub async fn receive(
    State(source): State<Arc<NativeSource>>,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    loop {
        let (shared, body) = (source.clone(), body.clone());
        let attempt =
            tokio::task::spawn_blocking(move || run(&shared, &body)).await.expect("lifecycle task");
        let (changes, answer) = match attempt {
            Ok(done) => done,
            Err(rejection) => {
                let error =
                    json!({"error": {"code": rejection.code, "message": rejection.message}});
                return (StatusCode::BAD_REQUEST, Json(error));
            }
        };
        match source.store.commit(changes).await {
            Ok(()) => return (StatusCode::ACCEPTED, Json(answer)),
            Err(CommitError::Conflict) => continue,
            Err(error) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": error.to_string()})),
                );
            }
        }
    }
}

fn run(source: &NativeSource, body: &[u8]) -> Result<(store::ChangeSet, Value), sdk::Rejection> {
    let scope = SourceScope {
        name: "bench".into(),
        escalation_policy: "oncall".into(),
        actor: "native zendesk".into(),
    };
    let mut session =
        Session::new(source.store.clone(), scope, store::now_millis()).expect("snapshot");
    let outcome =
        inbound_zendesk::handle(&mut NativeHost { session: &mut session }, body, &source.settings)?;
    let action = action(outcome.action);
    let incident =
        session.incident(outcome.incident).expect("read").expect("reported incident exists");
    session.append_log(
        incident.id,
        LogKind::EventReceived {
            action,
            headers: vec![],
            body: String::from_utf8_lossy(body).into_owned(),
            body_bytes: body.len(),
            body_truncated: false,
            repeats: 0,
            last_repeat_at: None,
            shared_body: None,
        },
    );
    let answer = json!({"action": action, "incident": {"id": incident.id, "key": incident.key, "status": incident.status}});
    Ok((session.into_changes(), answer))
}

struct NativeHost<'a> {
    session: &'a mut Session,
}

impl NativeHost<'_> {
    fn change_status(
        &mut self,
        id: u64,
        to: Status,
        note: &str,
    ) -> Result<sdk::Incident, sdk::ApiError> {
        let incident =
            self.session.incident(id).expect("read").ok_or(sdk::ApiError::NotFound(id))?;
        let by = self.session.scope.actor.clone();
        match incident.status_change(to, by, Some(note.into())) {
            Ok(None) => Ok(to_sdk(&incident)),
            Ok(Some((changed, log))) => Ok(to_sdk(&self.session.put_incident(changed, log))),
            Err(reopen) => Err(sdk::ApiError::Invalid(reopen.to_string())),
        }
    }
}

impl inbound_zendesk::Host for NativeHost<'_> {
    fn find_open(&mut self, key: &str) -> Option<sdk::Incident> {
        self.session.open_incident(key).expect("read").as_ref().map(to_sdk)
    }

    fn find_latest(&mut self, key: &str) -> Option<sdk::Incident> {
        self.session.latest_incident(key).expect("read").as_ref().map(to_sdk)
    }

    fn create(&mut self, new: &sdk::NewIncident) -> Result<sdk::Incident, sdk::ApiError> {
        let new = NewIncident {
            key: new.key.clone(),
            summary: new.summary.clone(),
            details: new.details.clone(),
            priority: new.priority.map(priority),
            url: new.url.clone(),
            links: Vec::new(),
        };
        let by = self.session.scope.actor.clone();
        Ok(to_sdk(&self.session.create_incident(new, by).expect("allocate an id")))
    }

    fn accept(&mut self, id: u64, note: &str) -> Result<sdk::Incident, sdk::ApiError> {
        self.change_status(id, Status::Accepted, note)
    }

    fn resolve(&mut self, id: u64, note: &str) -> Result<sdk::Incident, sdk::ApiError> {
        self.change_status(id, Status::Resolved, note)
    }

    fn comment(
        &mut self,
        id: u64,
        author: Option<&str>,
        text: &str,
    ) -> Result<sdk::Incident, sdk::ApiError> {
        let incident =
            self.session.incident(id).expect("read").ok_or(sdk::ApiError::NotFound(id))?;
        let by = self.session.scope.actor.clone();
        let entry = LogKind::Comment { author: author.map(String::from), text: text.into(), by };
        self.session.put_incident(incident, entry);
        Ok(to_sdk(&self.session.incident(id).expect("read").expect("just written")))
    }

    fn state_get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.session.state_get(key).expect("read")
    }

    fn state_set(&mut self, key: &str, value: &[u8]) -> Result<(), sdk::ApiError> {
        self.session.state_set(key, value.to_vec(), u64::MAX);
        Ok(())
    }

    fn state_delete(&mut self, key: &str) {
        self.session.state_delete(key);
    }
}

fn to_sdk(incident: &Incident) -> sdk::Incident {
    sdk::Incident {
        id: incident.id,
        key: incident.key.clone(),
        status: match incident.status {
            Status::Pending => sdk::IncidentStatus::Pending,
            Status::Accepted => sdk::IncidentStatus::Accepted,
            Status::Resolved => sdk::IncidentStatus::Resolved,
        },
        summary: incident.summary.clone(),
        details: incident.details.clone(),
        priority: incident.priority.map(|p| match p {
            store::Priority::Low => sdk::Priority::Low,
            store::Priority::Normal => sdk::Priority::Normal,
            store::Priority::High => sdk::Priority::High,
            store::Priority::Urgent => sdk::Priority::Urgent,
        }),
        url: incident.url.clone(),
        // The Zendesk plugin this baseline mirrors sets no links.
        links: Vec::new(),
        created_at: incident.created_at,
        updated_at: incident.updated_at,
    }
}

fn priority(priority: sdk::Priority) -> store::Priority {
    match priority {
        sdk::Priority::Low => store::Priority::Low,
        sdk::Priority::Normal => store::Priority::Normal,
        sdk::Priority::High => store::Priority::High,
        sdk::Priority::Urgent => store::Priority::Urgent,
    }
}

fn action(action: sdk::Action) -> store::Action {
    match action {
        sdk::Action::Created => store::Action::Created,
        sdk::Action::Accepted => store::Action::Accepted,
        sdk::Action::Resolved => store::Action::Resolved,
        sdk::Action::Commented => store::Action::Commented,
        sdk::Action::Unchanged => store::Action::Unchanged,
    }
}
