//! Zendesk webhook signatures: `X-Zendesk-Webhook-Signature` is
//! base64(HMAC-SHA256(secret, timestamp + raw body)), the timestamp taken
//! from `X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601 UTC, e.g.
//! `2024-01-01T12:00:00Z`). The secret's bytes are used as they are, not
//! base64-decoded: Zendesk shows it as text and signs with that text.
//!
//! The check runs in two steps so that an unsigned or stale request is
//! refused before its body is read: [`Signing::check_headers`], then
//! [`Signed::verify`] on the body.

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime};

pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";

/// A source's signing secret and how old a signature may be.
#[derive(Clone)]
pub struct Signing {
    secret: Vec<u8>,
    window: Duration,
}

/// Why a request's signature was refused: a code for machines (e.g.
/// `signature-expired`) and a sentence for people. HTTP answers it with 401.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

/// Headers that passed the cheap checks; the body decides the rest.
pub struct Signed {
    mac: Hmac<Sha256>,
    signature: Vec<u8>,
}

impl Signing {
    pub fn new(secret: &str, window: Duration) -> Signing {
        Signing { secret: secret.as_bytes().to_vec(), window }
    }

    /// Both headers present, the signature decodes to a SHA-256 digest and
    /// the timestamp is within the window of `now`.
    pub fn check_headers(&self, headers: &HeaderMap, now: SystemTime) -> Result<Signed, Refused> {
        let signature = header(headers, SIGNATURE_HEADER).ok_or_else(|| {
            refused(
                "signature-missing",
                "this source requires a Zendesk signature and the request has no X-Zendesk-Webhook-Signature header",
            )
        })?;
        let timestamp = header(headers, TIMESTAMP_HEADER).ok_or_else(|| {
            refused(
                "signature-timestamp-missing",
                "the request has no X-Zendesk-Webhook-Signature-Timestamp header, which the signature covers",
            )
        })?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| {
                refused(
                    "signature-malformed",
                    "X-Zendesk-Webhook-Signature is not the base64 of a SHA-256 HMAC",
                )
            })?;
        let signed_at = humantime::parse_rfc3339(timestamp.trim()).map_err(|_| {
            refused(
                "signature-timestamp-invalid",
                "X-Zendesk-Webhook-Signature-Timestamp is not an ISO 8601 UTC time like 2024-01-01T12:00:00Z",
            )
        })?;
        let window = self.window.as_secs();
        match now.duration_since(signed_at) {
            Ok(age) if age > self.window => {
                return Err(refused(
                    "signature-expired",
                    format!(
                        "the signature is {} s old, more than the {window} s this source accepts (signature_window_seconds); a replayed request, or a clock out of sync",
                        age.as_secs()
                    ),
                ));
            }
            Err(ahead) if ahead.duration() > self.window => {
                return Err(refused(
                    "signature-from-future",
                    format!(
                        "the signature's timestamp is {} s in the future, more than the {window} s this source accepts (signature_window_seconds); check the clocks",
                        ahead.duration().as_secs()
                    ),
                ));
            }
            _ => {}
        }
        // HMAC accepts keys of any length; an error here is impossible.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(timestamp.as_bytes());
        Ok(Signed { mac, signature })
    }
}

impl Signed {
    /// Compares in constant time (`verify_slice`), so timing reveals nothing
    /// about how much of a forged signature was right.
    pub fn verify(mut self, body: &[u8]) -> Result<(), Refused> {
        self.mac.update(body);
        self.mac.verify_slice(&self.signature).map_err(|_| {
            refused(
                "signature-mismatch",
                "the signature does not match the body; check the source's signing_secret against Zendesk's webhook page",
            )
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok()).filter(|value| !value.trim().is_empty())
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused { code, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    // Computed independently (python3 hmac, checked with `openssl dgst -sha256
    // -hmac SECRET -binary | base64`): base64(hmac.new(SECRET,
    // TIMESTAMP + BODY, hashlib.sha256).digest()).
    const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
    const TIMESTAMP: &str = "2024-01-01T12:00:00Z";
    const BODY: &[u8] = br#"{"id": "42", "status": "Open"}"#;
    const SIGNATURE: &str = "TBzf5oM2eiDwlcSHqKMbUFQjDvulQbFwJw/BfL13PbY=";

    fn at(seconds_after: i64) -> SystemTime {
        let signed = humantime::parse_rfc3339(TIMESTAMP).unwrap();
        if seconds_after >= 0 {
            signed + Duration::from_secs(seconds_after as u64)
        } else {
            signed - Duration::from_secs((-seconds_after) as u64)
        }
    }

    fn headers(signature: Option<&str>, timestamp: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = signature {
            headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(value).unwrap());
        }
        if let Some(value) = timestamp {
            headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn check(
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), String> {
        let signing = Signing::new(SECRET, Duration::from_secs(300));
        signing
            .check_headers(&headers(signature, timestamp), now)
            .and_then(|signed| signed.verify(body))
            .map_err(|error| error.code.to_string())
    }

    #[test]
    fn known_vector_is_accepted() {
        assert_eq!(check(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(0)), Ok(()));
        assert_eq!(check(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(299)), Ok(()));
        assert_eq!(check(Some(SIGNATURE), Some(TIMESTAMP), BODY, at(-299)), Ok(()));
    }

    /// Signature header, timestamp header, body, seconds after signing, the code.
    type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [u8], i64, &'a str);

    #[test]
    fn each_failure_has_its_own_code() {
        let cases: [Case; 9] = [
            (None, Some(TIMESTAMP), BODY, 0, "signature-missing"),
            (Some(""), Some(TIMESTAMP), BODY, 0, "signature-missing"),
            (Some(SIGNATURE), None, BODY, 0, "signature-timestamp-missing"),
            (Some("not base64!"), Some(TIMESTAMP), BODY, 0, "signature-malformed"),
            (Some("c2hvcnQ="), Some(TIMESTAMP), BODY, 0, "signature-malformed"),
            (Some(SIGNATURE), Some("1704110400"), BODY, 0, "signature-timestamp-invalid"),
            (Some(SIGNATURE), Some(TIMESTAMP), BODY, 301, "signature-expired"),
            (Some(SIGNATURE), Some(TIMESTAMP), BODY, -301, "signature-from-future"),
            (
                Some(SIGNATURE),
                Some(TIMESTAMP),
                br#"{"id": "43", "status": "Open"}"#,
                0,
                "signature-mismatch",
            ),
        ];
        for (signature, timestamp, body, seconds, code) in cases {
            assert_eq!(
                check(signature, timestamp, body, at(seconds)),
                Err(code.to_string()),
                "{signature:?} {timestamp:?}"
            );
        }
    }

    #[test]
    fn the_timestamp_is_signed_too() {
        // Same body, a timestamp one second later than the one signed.
        assert_eq!(
            check(Some(SIGNATURE), Some("2024-01-01T12:00:01Z"), BODY, at(0)),
            Err("signature-mismatch".to_string())
        );
    }

    #[test]
    fn a_different_secret_does_not_verify() {
        let signing = Signing::new("another-secret", Duration::from_secs(300));
        let signed =
            signing.check_headers(&headers(Some(SIGNATURE), Some(TIMESTAMP)), at(0)).unwrap();
        assert_eq!(signed.verify(BODY).unwrap_err().code, "signature-mismatch");
    }
}
