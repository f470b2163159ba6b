//! People and the audit trail: `GET /api/v1/people` (who may sign in, with
//! which role, and whether a password is set), `PUT
//! /api/v1/people/{name}/password` (what `inbound people set-password`
//! sends), and `GET /api/v1/audit`. All for admins.

use super::answers::ErrorAnswer;
use super::answers::{
    AuditEntry, AuditPage, ContactCheckView, ContactChecks, PasswordSet, PeoplePage, Person,
};
use super::error::read_blocking;
use super::params::{ApiPath, ApiQuery, QueryParams, page_limit};
use super::{ApiError, views};
use crate::app::audit::{self, Action};
use crate::app::{AppState, Caller, passwords};
use crate::request_extensions::ClientAddress;
use crate::store::{AuditQuery, ChangeSet, Write};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[utoipa::path(
    get,
    path = "/api/v1/people",
    operation_id = "listPeople",
    summary = "The people of [[people]]: role, email, whether a console password is set",
    responses(
        (status = 200, description = "People", body = PeoplePage),
    ),
    tag = "people"
)]
pub async fn list(State(app): State<Arc<AppState>>) -> Result<Json<PeoplePage>, ApiError> {
    let live = app.live.load_full();
    let store = app.store.clone();
    let people = read_blocking("people".into(), move || {
        live.config
            .people
            .iter()
            .map(|person| {
                Ok(Person {
                    email: person.email.clone(),
                    has_password: store.password_hash(&person.name)?.is_some(),
                    name: person.name.clone(),
                    role: person.role,
                })
            })
            .collect::<Result<Vec<_>, crate::store::Error>>()
    })
    .await?;
    Ok(Json(PeoplePage { people }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    #[schema(min_length = 12, max_length = 1024)]
    password: String,
}

/// The optional body of a contact test.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactTest {
    /// Only the contacts on this channel.
    channel: Option<String>,
}

/// `PUT /api/v1/people/{name}/password`, body `{"password": "..."}`: stores
/// the Argon2id hash and ends every session the person holds, in one commit
/// with its audit entry.
#[utoipa::path(
    put,
    path = "/api/v1/people/{name}/password",
    operation_id = "setPassword",
    summary = "Set a person's console password (Argon2id in the database); ends their sessions",
    params(("name" = String, Path, description = "The person's name")),
    request_body = NewPassword,
    responses(
        (status = 200, description = "Set", body = PasswordSet),
        (status = 400, description = "invalid-body, or a password shorter than 12 or longer than 1024 characters", body = ErrorAnswer),
        (status = 404, description = "unknown-person", body = ErrorAnswer),
    ),
    tag = "people"
)]
pub async fn set_password(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    ApiPath(name): ApiPath<String>,
    body: Bytes,
) -> Result<Json<PasswordSet>, ApiError> {
    let live = app.live.load_full();
    if !live.config.people.iter().any(|person| person.name == name) {
        return Err(ApiError::not_found(
            "unknown-person",
            format!(
                "there is no person {name:?} in [[people]]; add them to the config and reload first"
            ),
        ));
    }
    let NewPassword { password } = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(
            "invalid-body",
            format!("the body must be {{\"password\": \"...\"}}: {error}"),
        )
    })?;
    if let Some(why) = passwords::refusal(&password) {
        return Err(ApiError::bad_request("weak-password", why));
    }
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|error| ApiError::internal(format!("hashing failed: {error}")))?;
    let client = client.map(|Extension(address)| address.client);
    let entry = audit::Entry::by(
        &caller,
        Action::SetPassword,
        client,
        format!("set the password of {name}; their sessions ended"),
    );
    let changes = ChangeSet {
        reads: Vec::new(),
        writes: vec![
            Write::PutPassword { person: name.clone(), hash },
            Write::DeleteSessionsOf { person: name.clone() },
            Write::AppendAudit(entry.into_entry()),
        ],
    };
    app.store
        .commit(changes)
        .await
        .map_err(|error| ApiError::internal(format!("the password was not stored: {error}")))?;
    tracing::info!(person = %name, by = %caller.name, "password set");
    Ok(Json(PasswordSet { person: name, sessions_ended: true }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// `next_before` of the previous page.
    before: Option<u64>,
    /// Entries per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// Only this action, e.g. `forbidden`, `sign_in`.
    action: Option<String>,
}

impl QueryParams for AuditParams {
    const ACCEPTED: &'static str = "action, before (an entry id), limit (1-500)";
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "listAudit",
    summary = "The audit trail, newest first",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "A parameter is not valid", body = ErrorAnswer),
    ),
    tag = "people"
)]
pub async fn audit(
    State(app): State<Arc<AppState>>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    if let Some(action) = &params.action
        && !Action::ALL.iter().any(|known| known.as_str() == action)
    {
        let known: Vec<_> = Action::ALL.iter().map(|known| known.as_str()).collect();
        return Err(ApiError::bad_request(
            "invalid-query",
            format!("unknown action {action:?}; one of: {}", known.join(", ")),
        ));
    }
    let query = AuditQuery {
        before: params.before,
        limit: page_limit(params.limit)?,
        action: params.action,
    };
    let store = app.store.clone();
    let page = read_blocking("the audit trail".into(), move || store.audit(&query)).await?;
    let entries = page
        .items
        .into_iter()
        .map(|entry| AuditEntry {
            action: entry.action,
            actor: entry.actor,
            at: views::timestamp(entry.at),
            client: entry.client,
            detail: entry.detail,
            id: entry.id,
        })
        .collect();
    Ok(Json(AuditPage { entries, next_before: page.next }))
}

/// `POST /api/v1/people/{name}/test`, body optional `{"channel": "sms"}`:
/// a test message to each of the person's contacts (or that channel's),
/// sent now, with what each receiver answered. Audited.
#[utoipa::path(
    post,
    path = "/api/v1/people/{name}/test",
    operation_id = "testPersonContacts",
    summary = "Send a test message to each of a person's contacts now (or one channel's) and report what each receiver answered",
    params(("name" = String, Path, description = "The person's name")),
    request_body(content = Option<ContactTest>, description = "Optional; without it every contact is tried"),
    responses(
        (status = 200, description = "What each contact's test message did", body = ContactChecks),
        (status = 400, description = "invalid-body", body = ErrorAnswer),
        (status = 404, description = "unknown-person, or no contact on that channel", body = ErrorAnswer),
    ),
    tag = "people"
)]
pub async fn test_contacts(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
    ApiPath(name): ApiPath<String>,
    body: Bytes,
) -> Result<Json<ContactChecks>, ApiError> {
    let asked: ContactTest = if body.iter().all(u8::is_ascii_whitespace) {
        ContactTest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::bad_request(
                "invalid-body",
                format!("the body must be empty or {{\"channel\": \"...\"}}: {error}"),
            )
        })?
    };
    let checks = app
        .notify
        .check_contacts(&name, asked.channel.as_deref())
        .await
        .map_err(|error| ApiError::not_found("unknown-contact", error.to_string()))?;
    let detail = format!(
        "test message to {name}: {}",
        checks
            .iter()
            .map(|c| format!("{} {}", c.channel, c.outcome))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let client = client.map(|Extension(address)| address.client);
    app.audit_now(audit::Entry::by(&caller, Action::ContactTest, client, detail)).await;
    let checks = checks
        .into_iter()
        .map(|check| ContactCheckView {
            channel: check.channel,
            address: check.address,
            outcome: check.outcome.to_string(),
            detail: check.detail,
        })
        .collect();
    Ok(Json(ContactChecks { person: name, checks }))
}
