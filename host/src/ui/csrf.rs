//! Cross-site request forgery: every console form POST carries a token that
//! only pages of the console know, and must come from the console's origin.
//!
//! Signed in, the token is the session's ([`super::session::Session::csrf`]).
//! Before sign-in there is no session, so the sign-in form uses a
//! double-submit token: the same random value in a short-lived cookie and in
//! the form. SameSite=Strict cookies already keep other sites' forms from
//! riding a session; the token also covers browsers that ignore SameSite.

use super::UiError;
use axum::http::{HeaderMap, StatusCode, header};
use subtle::ConstantTimeEq;

/// The cookie holding the sign-in form's token.
pub const SIGN_IN_COOKIE: &str = "inbound_sign_in";

/// Refuses a form whose token is missing or differs from `expected`, or that
/// a browser says came from another site.
pub fn check(headers: &HeaderMap, presented: Option<&str>, expected: &str) -> Result<(), UiError> {
    check_origin(headers)?;
    let presented = presented.unwrap_or_default();
    if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(refused());
    }
    Ok(())
}

/// Browsers send `Origin` (and `Sec-Fetch-Site`) with a form POST; when they
/// do, it must be this host. Tools that send neither are judged by the token.
fn check_origin(headers: &HeaderMap) -> Result<(), UiError> {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site") | Some("same-site")) {
        return Err(refused());
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (None, _) => Ok(()),
        (Some(origin), Some(host))
            if origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"))
                == Some(host) =>
        {
            Ok(())
        }
        _ => Err(refused()),
    }
}

fn refused() -> UiError {
    UiError::new(
        StatusCode::FORBIDDEN,
        "Form refused",
        "This form did not carry the console's security token, or came from another site. Go back, reload the page and try again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_right_token_passes() {
        assert!(check(&headers(&[]), Some("abc"), "abc").is_ok());
        let same = headers(&[("origin", "http://h:1"), ("host", "h:1")]);
        assert!(check(&same, Some("abc"), "abc").is_ok());
    }

    #[test]
    fn a_missing_or_wrong_token_is_refused_with_403() {
        assert_eq!(check(&headers(&[]), None, "abc").unwrap_err().status, StatusCode::FORBIDDEN);
        assert!(check(&headers(&[]), Some(""), "").is_err());
        assert!(check(&headers(&[]), Some("abd"), "abc").is_err());
    }

    #[test]
    fn another_origin_is_refused_even_with_the_token() {
        let other = headers(&[("origin", "http://evil.example"), ("host", "h:1")]);
        assert!(check(&other, Some("abc"), "abc").is_err());
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(check(&cross, Some("abc"), "abc").is_err());
    }
}
