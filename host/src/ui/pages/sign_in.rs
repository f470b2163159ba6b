//! `GET/POST /ui/sign-in` and `POST /ui/sign-out`: a token from
//! `[[api.tokens]]` opens a session; signing out closes it.

use crate::app::Refused;
use crate::request_extensions::ClientAddress;
use crate::ui::csrf::{self, SIGN_IN_COOKIE};
use crate::ui::render::page;
use crate::ui::session::{
    SESSION_COOKIE, SignedIn, cookie_value, random_token, secure_cookies, set_cookie,
};
use crate::ui::view::Chrome;
use crate::ui::{Console, UiError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
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
    problem: Option<String>,
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
    if SignedIn::find(&console, &headers).is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    sign_in_page(&console, StatusCode::OK, next, None)
}

/// The form with a fresh double-submit token in its cookie.
fn sign_in_page(
    console: &Console,
    status: StatusCode,
    next: String,
    problem: Option<String>,
) -> Result<Response, UiError> {
    let token = random_token();
    let cookie = set_cookie(SIGN_IN_COOKIE, &token, SIGN_IN_FORM_LIFETIME, secure_cookies(console));
    let mut response =
        page(SignInPage { chrome: Chrome::signed_out(), csrf: token, next, problem })?;
    *response.status_mut() = status;
    append_cookie(&mut response, &cookie);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
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
    let token = form.token.unwrap_or_default().trim().to_string();
    let live = console.app.live.load_full();
    // The same rule and count of wrong tokens per client as the API's.
    let client = client.map(|Extension(address)| address.client);
    let caller = match live.authenticate(client, Some(&token)) {
        Ok(caller) => caller,
        Err(Refused::Blocked(refused)) => {
            if refused.first {
                tracing::warn!(client = %refused.client, "too many failed console sign-ins from this client; refusing its tokens unchecked for a while (api.failed_auth_per_minute)");
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
        Err(_) => {
            tracing::warn!("console sign-in refused: unknown token");
            return sign_in_page(
                &console,
                StatusCode::UNAUTHORIZED,
                next,
                Some(
                    "That token is not one of the host's API tokens. Check it and try again."
                        .into(),
                ),
            );
        }
    };
    let lifetime = Duration::from_secs(live.config.ui.session_minutes.saturating_mul(60));
    let session = console.sessions.open(token, lifetime);
    tracing::info!(user = %caller.name, "console sign-in");
    let secure = secure_cookies(&console);
    let mut response = Redirect::to(&next).into_response();
    append_cookie(&mut response, &set_cookie(SESSION_COOKIE, &session, lifetime, secure));
    append_cookie(&mut response, &set_cookie(SIGN_IN_COOKIE, "", Duration::ZERO, secure));
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: Option<String>,
}

pub async fn sign_out(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    form: Result<Form<SignOutForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form.map_err(super::form_error)?;
    csrf::check(&headers, form.csrf.as_deref(), &signed_in.session.csrf)?;
    console.sessions.close(&signed_in.session_id);
    let mut response = Redirect::to("/ui/sign-in").into_response();
    let removed = set_cookie(SESSION_COOKIE, "", Duration::ZERO, secure_cookies(&console));
    append_cookie(&mut response, &removed);
    Ok(response)
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Where to go after signing in: a console path, never another site
/// (`//evil.example` or `/\evil.example` would leave the host).
fn safe_next(next: Option<&str>) -> String {
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
