//! Sign-in sessions: a random id in an HttpOnly, SameSite=Strict cookie,
//! mapped in memory to the API token it was opened with.
//!
//! Sessions live in memory only: a restart signs everyone out, which is
//! cheaper than storing credentials on disk. The token is checked against the
//! live `[[api.tokens]]` on every request, so the console grants exactly what
//! the API grants, and a token removed by a reload ends its sessions.

use super::Console;
use super::view::Chrome;
use crate::app::Caller;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The cookie naming a session. Scoped to `/ui`: the JSON API never sees it.
pub const SESSION_COOKIE: &str = "inbound_session";
/// Sessions kept at once; the oldest give way first. Only holders of a valid
/// token can open one, so this bounds memory, not abuse.
const MAX_SESSIONS: usize = 10_000;

pub struct Session {
    /// The API token signed in with; checked against the live config on use.
    token: String,
    /// Carried by every form of this session (see [`super::csrf`]).
    pub csrf: String,
    expires: Instant,
}

#[derive(Default)]
pub struct Sessions {
    /// By SHA-256 of the session id, so the map holds no usable cookie.
    open: Mutex<HashMap<[u8; 32], Arc<Session>>>,
}

impl Sessions {
    /// Opens a session for `token` and returns its id (the cookie's value).
    pub fn open(&self, token: String, lifetime: Duration) -> String {
        let id = random_token();
        let now = Instant::now();
        let session = Session { token, csrf: random_token(), expires: now + lifetime };
        let mut open = self.open.lock().expect("sessions lock");
        open.retain(|_, session| session.expires > now);
        if open.len() >= MAX_SESSIONS {
            let oldest = open.iter().min_by_key(|(_, s)| s.expires).map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                open.remove(&oldest);
            }
        }
        open.insert(digest(&id), Arc::new(session));
        id
    }

    fn find(&self, id: &str) -> Option<Arc<Session>> {
        let mut open = self.open.lock().expect("sessions lock");
        let key = digest(id);
        match open.get(&key) {
            Some(session) if session.expires > Instant::now() => Some(session.clone()),
            Some(_) => {
                open.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, id: &str) {
        self.open.lock().expect("sessions lock").remove(&digest(id));
    }
}

/// 32 random bytes, URL-safe base64: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
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

/// A signed-in request: the session, the caller its token names, and the
/// page chrome (navigation, sign-out form) built from them.
pub struct SignedIn {
    pub caller: Caller,
    pub session: Arc<Session>,
    pub session_id: String,
}

impl SignedIn {
    /// The live session the request's cookie names, if any.
    pub fn find(console: &Console, headers: &HeaderMap) -> Option<SignedIn> {
        let id = cookie_value(headers, SESSION_COOKIE)?;
        let session = console.sessions.find(&id)?;
        let caller = console.app.live.load().tokens.find(&session.token)?;
        Some(SignedIn { caller, session, session_id: id })
    }

    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome::signed_in(&self.caller.name, &self.session.csrf, section)
    }
}

impl FromRequestParts<Arc<Console>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        match SignedIn::find(console, &parts.headers) {
            Some(signed_in) => Ok(signed_in),
            // A page: go and sign in, then come back.
            None if parts.method == Method::GET && parts.uri.path() != "/ui/live" => {
                let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/ui/");
                let target = format!("/ui/sign-in?next={}", urlencode(back));
                Err(Redirect::to(&target).into_response())
            }
            // An action or the live feed: say so; a redirect would lose the form.
            None => Err(super::UiError::new(
                StatusCode::UNAUTHORIZED,
                "Signed out",
                "Your session has ended or was never opened. Sign in again, then repeat what you were doing.",
            )
            .into_response()),
        }
    }
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_id_until_it_expires_or_closes() {
        let sessions = Sessions::default();
        let id = sessions.open("t".into(), Duration::from_secs(60));
        assert!(sessions.find(&id).is_some());
        assert!(sessions.find("not-an-id").is_none());
        sessions.close(&id);
        assert!(sessions.find(&id).is_none());
        let expired = sessions.open("t".into(), Duration::ZERO);
        assert!(sessions.find(&expired).is_none());
    }

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
