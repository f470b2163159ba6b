//! Sign-in sessions: a random id in an HttpOnly, SameSite=Strict cookie,
//! stored in the database under the SHA-256 of that id
//! (`store::StoredSession`), so any host of a cluster serves any session and
//! a restart keeps them.
//!
//! Every request checks its session against the live config: a person who
//! was removed or whose role changed, and a token that was removed or
//! replaced, is signed out at once. A new password ends the person's
//! sessions in the same commit that stores it.

use super::Console;
use super::view::Chrome;
use crate::app::{Caller, CallerKind, Live};
use crate::roles::Role;
use crate::store::{Millis, Principal, StoredSession, Write, now_millis, session_key};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use rand::RngCore;
use std::sync::Arc;
use std::time::Duration;

/// The cookie naming a session. Scoped to `/ui`: the JSON API never sees it.
pub const SESSION_COOKIE: &str = "inbound_session";

/// A new session for `principal`, as stored, and the cookie value naming it.
pub fn new_session(
    principal: Principal,
    role: Role,
    method: &str,
    lifetime: Duration,
    client: Option<String>,
) -> (String, StoredSession) {
    let now = now_millis();
    let session = StoredSession {
        principal,
        role,
        csrf: random_token(),
        method: method.to_string(),
        created_at: now,
        expires_at: now.saturating_add(lifetime.as_millis() as u64),
        client,
    };
    (random_token(), session)
}

/// Who `session` signs in, by the live config at `now`: nobody once it
/// expired, its person or token is gone, or its role is no longer theirs.
pub fn caller_of(session: &StoredSession, live: &Live, now: Millis) -> Option<Caller> {
    if session.expires_at <= now {
        return None;
    }
    let caller = match &session.principal {
        Principal::Person { name } => {
            let person = live.config.people.iter().find(|person| person.name == *name)?;
            Caller { name: name.clone(), role: person.role, kind: CallerKind::Person }
        }
        Principal::Token { name, digest } => live.tokens.find_by_digest(name, digest)?,
    };
    // A viewer's session does not become a responder's by a config change.
    (caller.role == session.role).then_some(caller)
}

/// 32 random bytes, URL-safe base64: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in the request, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

/// A `Set-Cookie` value for the console: HttpOnly, SameSite=Strict, path
/// `/ui`, Secure when asked. `max_age` zero removes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/ui")
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build()
        .to_string()
}

/// Whether console cookies get `Secure`: when configured, or when the host's
/// public URL is https.
pub fn secure_cookies(console: &Console) -> bool {
    let live = console.app.live.load();
    live.config.ui.secure_cookie || live.config.public_url().starts_with("https://")
}

/// A signed-in request: the session, the caller it signs in, and the
/// page chrome (navigation, sign-out form) built from them.
#[derive(Clone)]
pub struct SignedIn {
    pub caller: Caller,
    pub session: StoredSession,
    /// Where the session is stored ([`session_key`]).
    pub key: String,
}

impl SignedIn {
    /// The live session the request's cookie names, if any. A session that
    /// no longer signs anyone in is deleted on the way.
    pub async fn find(console: &Console, headers: &HeaderMap) -> Option<SignedIn> {
        let key = session_key(&cookie_value(headers, SESSION_COOKIE)?);
        let store = console.app.store.clone();
        let read_key = key.clone();
        let stored = tokio::task::spawn_blocking(move || store.session(&read_key)).await.ok()?;
        let session = match stored {
            Ok(session) => session?,
            Err(error) => {
                tracing::warn!("cannot read a console session: {error}");
                return None;
            }
        };
        let live = console.app.live.load();
        match caller_of(&session, &live, now_millis()) {
            Some(caller) => Some(SignedIn { caller, session, key }),
            None => {
                end_session(console, key).await;
                None
            }
        }
    }

    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome::signed_in(&self.caller.name, self.caller.role, &self.session.csrf, section)
    }

    /// Whether this caller may use what needs `role`.
    pub fn may(&self, role: Role) -> bool {
        self.caller.role.allows(role)
    }
}

/// Deletes the session stored under `key`.
pub async fn end_session(console: &Console, key: String) {
    let changes =
        crate::store::ChangeSet { reads: Vec::new(), writes: vec![Write::DeleteSession { key }] };
    if let Err(error) = console.app.store.commit(changes).await {
        tracing::warn!("cannot delete a console session: {error}");
    }
}

/// The signed-in caller that the console's access check ([`super::access`])
/// found for this request.
impl FromRequestParts<Arc<Console>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<SignedIn>().cloned().ok_or_else(|| {
            use axum::response::IntoResponse;
            super::UiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Not signed in",
                "This page is missing its access check; please report it.",
            )
            .into_response()
        })
    }
}

pub fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_the_console() {
        let cookie = set_cookie(SESSION_COOKIE, "abc", Duration::from_secs(60), false);
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(cookie.contains("Path=/ui"), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(set_cookie(SESSION_COOKIE, "abc", Duration::ZERO, true).contains("Secure"));
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; inbound_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie_value(&headers, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&headers, "missing"), None);
    }

    #[test]
    fn the_return_path_is_percent_encoded() {
        assert_eq!(urlencode("/ui/?status=a&x"), "%2Fui%2F%3Fstatus%3Da%26x");
    }
}
