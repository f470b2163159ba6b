//! `GET/POST /ui/sign-in` and `POST /ui/sign-out`: a person's name and
//! password, or a token from `[[api.tokens]]`, opens a session in the
//! database; signing out deletes it. Every attempt, right or wrong, is
//! counted against the client like the API's tokens and written to the
//! audit trail.

use crate::app::audit::{self, Action};
use crate::app::{Caller, CallerKind, Live, Refused, TooManyFailedAttempts, digest_hex, passwords};
use crate::request_extensions::ClientAddress;
use crate::roles::Role;
use crate::store::{ChangeSet, Principal, Write};
use crate::ui::csrf::{self, SIGN_IN_COOKIE};
use crate::ui::render::page;
use crate::ui::session::{
    SESSION_COOKIE, SignedIn, cookie_value, end_session, new_session, random_token, secure_cookies,
    set_cookie,
};
use crate::ui::view::Chrome;
use crate::ui::{Console, UiError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a sign-in form stays usable.
const SIGN_IN_FORM_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    next_encoded: String,
    problem: Option<String>,
    /// The OpenID Connect provider's name, when `[ui.oidc]` is set.
    oidc: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FormParams {
    next: Option<String>,
}

pub async fn form(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Query(params): Query<FormParams>,
) -> Result<Response, UiError> {
    let next = safe_next(params.next.as_deref());
    if SignedIn::find(&console, &headers).await.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    sign_in_page(&console, StatusCode::OK, next, None)
}

/// The form with a fresh double-submit token in its cookie.
pub fn sign_in_page(
    console: &Console,
    status: StatusCode,
    next: String,
    problem: Option<String>,
) -> Result<Response, UiError> {
    let token = random_token();
    let cookie = set_cookie(SIGN_IN_COOKIE, &token, SIGN_IN_FORM_LIFETIME, secure_cookies(console));
    let mut response = page(SignInPage {
        chrome: Chrome::signed_out(),
        csrf: token,
        next_encoded: crate::ui::session::urlencode(&next),
        next,
        problem,
        oidc: console.app.live.load().oidc.as_ref().map(|oidc| oidc.name().to_string()),
    })?;
    *response.status_mut() = status;
    append_cookie(&mut response, &cookie);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    /// A person's name and password...
    name: Option<String>,
    password: Option<String>,
    /// ...or an API token.
    token: Option<String>,
    csrf: Option<String>,
    next: Option<String>,
}

pub async fn submit(
    State(console): State<Arc<Console>>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    let expected = cookie_value(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    csrf::check(&headers, form.csrf.as_deref(), &expected)?;
    let next = safe_next(form.next.as_deref());
    let live = console.app.live.load_full();
    let client = client.map(|Extension(address)| address.client);
    let token = form.token.as_deref().map(str::trim).filter(|token| !token.is_empty());
    let attempt = match token {
        Some(token) => with_token(&live, client, token),
        None => {
            let name = form.name.as_deref().unwrap_or_default().trim().to_string();
            let password = form.password.unwrap_or_default();
            with_password(&console, &live, client, name, password).await
        }
    };
    let (caller, principal, method) = match attempt {
        Ok(signed) => signed,
        Err(Failed::Blocked(refused)) => {
            if refused.first {
                tracing::warn!(client = %refused.client, "too many failed console sign-ins from this client; refusing its attempts unchecked for a while (api.failed_auth_per_minute)");
                let detail = "too many failed sign-ins: further attempts refused unchecked";
                console.app.audit(audit::Entry::new(
                    "unknown",
                    Action::SignInFailed,
                    client,
                    detail,
                ));
            }
            let problem = format!(
                "Too many failed sign-ins from your address. Try again in {} seconds.",
                refused.seconds
            );
            let mut response =
                sign_in_page(&console, StatusCode::TOO_MANY_REQUESTS, next, Some(problem))?;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(refused.seconds));
            return Ok(response);
        }
        Err(Failed::Wrong { tried, problem, detail }) => {
            tracing::warn!(tried = %tried, "console sign-in refused: {detail}");
            console.app.audit(audit::Entry::new(tried, Action::SignInFailed, client, detail));
            return sign_in_page(&console, StatusCode::UNAUTHORIZED, next, Some(problem.into()));
        }
    };
    let stored = open_session(&console, &caller, principal, method, client).await?;
    let mut response = Redirect::to(&next).into_response();
    append_cookie(&mut response, &stored);
    let removed = set_cookie(SIGN_IN_COOKIE, "", Duration::ZERO, secure_cookies(&console));
    append_cookie(&mut response, &removed);
    Ok(response)
}

/// Stores a new session for `caller`, with its audit entry, and returns
/// the `Set-Cookie` value that names it.
pub async fn open_session(
    console: &Console,
    caller: &Caller,
    principal: Principal,
    method: &'static str,
    client: Option<IpAddr>,
) -> Result<String, UiError> {
    let minutes = console.app.live.load().config.ui.session_minutes;
    let lifetime = Duration::from_secs(minutes.saturating_mul(60));
    let (cookie, session) =
        new_session(principal, caller.role, method, lifetime, client.map(|c| c.to_string()));
    let detail = format!("signed in to the console with {method} as {}", caller.role);
    let sign_in = audit::Entry::by(caller, Action::SignIn, client, detail);
    let changes = ChangeSet {
        reads: Vec::new(),
        writes: vec![
            Write::PutSession { key: crate::store::session_key(&cookie), session },
            Write::AppendAudit(sign_in.into_entry()),
        ],
    };
    console.app.store.commit(changes).await.map_err(|error| {
        UiError::internal(format!("the session could not be stored ({error}); try again"))
    })?;
    tracing::info!(user = %caller.name, method, "console sign-in");
    Ok(set_cookie(SESSION_COOKIE, &cookie, lifetime, secure_cookies(console)))
}

/// Why a sign-in did not open a session.
enum Failed {
    Blocked(TooManyFailedAttempts),
    /// Wrong credentials: who was tried, what the page says, what the
    /// audit trail says.
    Wrong {
        tried: String,
        problem: &'static str,
        detail: String,
    },
}

fn with_token(
    live: &Live,
    client: Option<IpAddr>,
    token: &str,
) -> Result<(Caller, Principal, &'static str), Failed> {
    let caller = match live.authenticate(client, Some(token)) {
        Ok(caller) => caller,
        Err(Refused::Blocked(refused)) => return Err(Failed::Blocked(refused)),
        Err(_) => {
            return Err(Failed::Wrong {
                tried: "token".into(),
                problem: "That token is not one of the host's API tokens. Check it and try again.",
                detail: "unknown API token".into(),
            });
        }
    };
    if !caller.role.allows(Role::Viewer) {
        return Err(Failed::Wrong {
            tried: caller.principal(),
            problem: "That token may only read /metrics; it cannot open the console.",
            detail: "a metrics token cannot open the console".into(),
        });
    }
    let principal = Principal::Token { name: caller.name.clone(), digest: digest_hex(token) };
    Ok((caller, principal, "token"))
}

async fn with_password(
    console: &Console,
    live: &Live,
    client: Option<IpAddr>,
    name: String,
    password: String,
) -> Result<(Caller, Principal, &'static str), Failed> {
    live.reserve_attempt(client).map_err(Failed::Blocked)?;
    // What was typed goes to the log and the audit trail: bounded, one line.
    let name = crate::ui::view::cut(&name, 128);
    let person = live.config.people.iter().find(|person| person.name == name);
    if password.len() > passwords::MAX_LENGTH {
        return Err(Failed::Wrong {
            tried: format!("person {name}"),
            problem: "That name and password do not match. Check them and try again.",
            detail: "a password longer than any that can be set".into(),
        });
    }
    let store = console.app.store.clone();
    let known = person.map(|person| person.name.clone());
    // Argon2 takes tens of milliseconds and 19 MiB: off the async runtime,
    // a few at a time. An unknown name costs the same as a known one: the
    // same lookup, and a hash.
    let _turn = passwords::verifying().await;
    let looked_up = known.clone().unwrap_or_else(|| name.clone());
    let (matches, has_password) = tokio::task::spawn_blocking(move || {
        let stored = store.password_hash(&looked_up).ok().flatten().filter(|_| known.is_some());
        (passwords::verify(stored.as_deref(), &password), stored.is_some())
    })
    .await
    .unwrap_or((false, false));
    match person {
        Some(person) if matches && !person.role.allows(Role::Viewer) => Err(Failed::Wrong {
            tried: format!("person {name}"),
            problem: "Your role may only read /metrics; it cannot open the console.",
            detail: "a metrics role cannot open the console".into(),
        }),
        Some(person) if matches => {
            live.refund_attempt(client);
            let caller =
                Caller { name: person.name.clone(), role: person.role, kind: CallerKind::Person };
            Ok((caller, Principal::Person { name: person.name.clone() }, "password"))
        }
        _ => Err(Failed::Wrong {
            tried: if name.is_empty() { "unknown".into() } else { format!("person {name}") },
            problem: "That name and password do not match. Check them and try again.",
            detail: match (person, has_password) {
                (Some(_), true) => "wrong password".into(),
                (Some(_), false) => "no password is set for this person".into(),
                (None, _) => "no such person in [[people]]".into(),
            },
        }),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: Option<String>,
    /// "1": end every session of this person, on every browser and host.
    everywhere: Option<String>,
}

pub async fn sign_out(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    form: Result<Form<SignOutForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    let everywhere = form.everywhere.as_deref() == Some("1");
    let person = signed_in.caller.kind == CallerKind::Person;
    let detail = if everywhere && person {
        let writes = vec![Write::DeleteSessionsOf { person: signed_in.caller.name.clone() }];
        console.app.store.commit(ChangeSet { reads: Vec::new(), writes }).await.map_err(
            |error| UiError::internal(format!("the sessions were not ended ({error}); try again")),
        )?;
        "signed out of the console everywhere"
    } else {
        end_session(&console, signed_in.key.clone()).await;
        "signed out of the console"
    };
    let client = client.map(|Extension(a)| a.client);
    console.app.audit(audit::Entry::by(&signed_in.caller, Action::SignOut, client, detail));
    let mut response = Redirect::to("/ui/sign-in").into_response();
    let removed = set_cookie(SESSION_COOKIE, "", Duration::ZERO, secure_cookies(&console));
    append_cookie(&mut response, &removed);
    Ok(response)
}

pub fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Where to go after signing in: a console path, never another site
/// (`//evil.example` or `/\evil.example` would leave the host).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with("/ui/")
                && !path.contains("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/ui/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/ui/incidents/3")), "/ui/incidents/3");
        assert_eq!(safe_next(Some("/ui/?status=pending")), "/ui/?status=pending");
        for elsewhere in
            ["https://evil.example", "//evil.example", "/ui//evil", "/ui/\\x", "/api/v1"]
        {
            assert_eq!(safe_next(Some(elsewhere)), "/ui/", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/ui/");
    }
}
