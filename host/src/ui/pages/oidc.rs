//! `GET /ui/sign-in/oidc` and `GET /ui/sign-in/oidc/callback`: sign-in
//! through `[ui.oidc]`'s provider (`app::oidc`). The first sends the
//! browser to the provider with a PKCE challenge, keeping the flow (state,
//! verifier, nonce, where to go next) in a short-lived cookie of this
//! browser; the second checks the returned state against it, redeems the
//! code, matches the ID token to a person of `[[people]]` (unknown people
//! are refused) and opens a session like a password sign-in.

use super::sign_in::{append_cookie, open_session, safe_next, sign_in_page};
use crate::app::audit::{self, Action};
use crate::app::oidc::{self, Flow};
use crate::app::{Caller, CallerKind};
use crate::request_extensions::ClientAddress;
use crate::store::Principal;
use crate::ui::session::{cookie_value, secure_cookies};
use crate::ui::{Console, UiError};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// The cookie holding the flow between the two legs.
const FLOW_COOKIE: &str = "inbound_oidc";
/// How long a person has at the provider.
const FLOW_LIFETIME: Duration = Duration::from_secs(600);

#[derive(Debug, Deserialize)]
pub struct StartParams {
    next: Option<String>,
}

pub async fn start(
    State(console): State<Arc<Console>>,
    Query(params): Query<StartParams>,
) -> Result<Response, UiError> {
    let live = console.app.live.load_full();
    let Some(provider) = live.oidc.as_ref() else {
        return Err(UiError::not_found(
            "Sign-in through a provider is not set up on this host ([ui.oidc]).",
        ));
    };
    let next = safe_next(params.next.as_deref());
    match provider.start(next.clone()).await {
        Ok((url, flow)) => {
            let mut response = Redirect::to(&url).into_response();
            append_cookie(&mut response, &flow_cookie(&console, Some(&flow)));
            Ok(response)
        }
        Err(problem) => {
            tracing::warn!("OIDC sign-in could not start: {problem}");
            let problem =
                format!("Signing in with {} is not possible right now: {problem}", provider.name());
            sign_in_page(&console, StatusCode::BAD_GATEWAY, next, Some(problem))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn callback(
    State(console): State<Arc<Console>>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Result<Response, UiError> {
    let live = console.app.live.load_full();
    let Some(provider) = live.oidc.as_ref() else {
        return Err(UiError::not_found(
            "Sign-in through a provider is not set up on this host ([ui.oidc]).",
        ));
    };
    let client = client.map(|Extension(address)| address.client);
    let flow = cookie_value(&headers, FLOW_COOKIE).and_then(|value| decode_flow(&value));
    let Some(flow) = flow else {
        return Err(UiError::bad_request(
            "This sign-in was not started in this browser, or took longer than 10 minutes. Start again from the sign-in page.",
        ));
    };
    let refuse = |status: StatusCode, tried: String, problem: String| {
        let console = console.clone();
        let next = flow.next.clone();
        async move {
            tracing::warn!(tried = %tried, "OIDC sign-in refused: {problem}");
            console.app.audit(audit::Entry::new(
                tried,
                Action::SignInFailed,
                client,
                format!("oidc: {problem}"),
            ));
            let mut response = sign_in_page(&console, status, next, Some(problem))?;
            append_cookie(&mut response, &flow_cookie(&console, None));
            Ok::<Response, UiError>(response)
        }
    };
    // The state first: an answer that is not to this browser's sign-in is
    // not read further, whatever it says.
    if params.state.as_deref() != Some(flow.state.as_str()) {
        return Err(UiError::bad_request(
            "The provider's answer does not belong to the sign-in this browser started. Start again from the sign-in page.",
        ));
    }
    // Each answer that signs nobody in counts against the client like a
    // wrong password, so a forged flow cookie cannot be replayed without end.
    if let Err(blocked) = live.reserve_attempt(client) {
        let problem = format!(
            "Too many failed sign-ins from your address. Try again in {} seconds.",
            blocked.seconds
        );
        return sign_in_page(
            &console,
            StatusCode::TOO_MANY_REQUESTS,
            flow.next.clone(),
            Some(problem),
        );
    }
    if let Some(error) = params.error {
        let said = params.error_description.unwrap_or_default();
        let said = crate::ui::view::cut(&format!("{error} {said}"), 200);
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unknown".into(),
            format!("{} said: {said}", provider.name()),
        )
        .await;
    }

    let Some(code) = params.code else {
        return Err(UiError::bad_request("The provider's answer has no code."));
    };
    let identity = match provider.finish(code, &flow).await {
        Ok(identity) => identity,
        Err(problem) => return refuse(StatusCode::BAD_GATEWAY, "unknown".into(), problem).await,
    };
    let tried = crate::ui::view::cut(&format!("{} {}", identity.claim, identity.value), 200);
    let Some(person) = oidc::person(&live.config.people, &identity) else {
        let problem = format!(
            "{} signed you in as {}, who is not one of this host's people. Ask an admin to add you to [[people]].",
            provider.name(),
            identity.value
        );
        return refuse(StatusCode::FORBIDDEN, tried, problem).await;
    };
    if !person.role.allows(crate::roles::Role::Viewer) {
        let problem =
            format!("{} may only read /metrics; that role cannot open the console.", person.name);
        return refuse(StatusCode::FORBIDDEN, tried, problem).await;
    }
    live.refund_attempt(client);
    let caller = Caller { name: person.name.clone(), role: person.role, kind: CallerKind::Person };
    let principal = Principal::Person { name: person.name.clone() };
    let session = open_session(&console, &caller, principal, "oidc", client).await?;
    // The provider sent the browser here from its own site, so the strict
    // session cookie would not go with a redirect; a page that moves on by
    // itself starts a navigation of this site, which it goes with.
    let next = html_attribute(&safe_next(Some(&flow.next)));
    let page = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={next}\"><title>Signed in</title><p>Signed in. <a href=\"{next}\">Continue</a></p>",
    );
    let mut response = Html(page).into_response();
    append_cookie(&mut response, &session);
    append_cookie(&mut response, &flow_cookie(&console, None));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The flow cookie, or its removal. `SameSite=Lax`: the provider sends the
/// browser back with a top-level GET from its own site, which `Strict`
/// would leave without it.
fn flow_cookie(console: &Console, flow: Option<&Flow>) -> String {
    let (value, max_age) = match flow {
        Some(flow) => {
            let json = serde_json::to_vec(flow).expect("a flow serializes");
            (URL_SAFE_NO_PAD.encode(json), FLOW_LIFETIME)
        }
        None => (String::new(), Duration::ZERO),
    };
    Cookie::build((FLOW_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure_cookies(console))
        .path("/ui/sign-in/oidc")
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build()
        .to_string()
}

fn decode_flow(value: &str) -> Option<Flow> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(value).ok()?).ok()
}

/// `text` safe inside a double-quoted HTML attribute.
fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}
