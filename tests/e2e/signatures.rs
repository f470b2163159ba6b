//! End to end: a source with a Zendesk `signing_secret` accepts only
//! requests signed base64(HMAC-SHA256(secret, timestamp + body)) with a
//! timestamp inside its window; everything else is 401 and stores nothing.

use crate::support;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::time::{Duration, SystemTime};
use support::{Host, KEY, zendesk_config};

const SECRET: &str = "zendesk-signing-secret-for-tests-0123456789";

/// A known vector, computed outside this code base:
/// `python3 -c "import hmac, hashlib, base64; print(base64.b64encode(hmac.new(SECRET, TIMESTAMP + BODY, hashlib.sha256).digest()))"`
const VECTOR_TIMESTAMP: &str = "2024-01-01T12:00:00Z";
const VECTOR_BODY: &str = r#"{"id": "4242", "title": "Signed ticket", "status": "Open"}"#;
const VECTOR_SIGNATURE: &str = "3O+hrEPSckoJbkjUdCcpnTp0DkUIPr1u7kK1AdMpghA=";

fn signed_host(extra: &str) -> Host {
    Host::start(&zendesk_config(&format!("signing_secret = \"{SECRET}\"\n{extra}")))
}

fn sign(timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn iso(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

fn post(host: &Host, signature: Option<&str>, timestamp: Option<&str>, body: &str) -> (u16, Value) {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(signature) = signature {
        headers.push(("x-zendesk-webhook-signature", signature));
    }
    if let Some(timestamp) = timestamp {
        headers.push(("x-zendesk-webhook-signature-timestamp", timestamp));
    }
    let (status, _, answer) = host.post_with_headers(
        &format!("/api/v1/events/zendesk/{KEY}"),
        &headers,
        body.to_string(),
    );
    (status, answer)
}

fn ticket_body(id: u64) -> String {
    format!(r#"{{"id": "{id}", "title": "Ticket {id}", "status": "Open"}}"#)
}

#[test]
fn known_vector_is_accepted() {
    // A window of a century lets the fixed 2024 timestamp pass.
    let host = signed_host("signature_window_seconds = 3153600000");
    let (status, answer) = post(&host, Some(VECTOR_SIGNATURE), Some(VECTOR_TIMESTAMP), VECTOR_BODY);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["action"], "created");
    assert_eq!(answer["incident"]["key"], "4242");
}

#[test]
fn a_fresh_signature_is_accepted_and_every_bad_one_refused() {
    let host = signed_host("");
    let now = SystemTime::now();
    let body = ticket_body(1);
    let fresh = iso(now);
    let old = iso(now - Duration::from_secs(6 * 60));
    let future = iso(now + Duration::from_secs(6 * 60));
    let tampered = body.replace("Ticket 1", "Ticket 2");
    // (what, signature header, timestamp header, body, expected code)
    type Case<'a> = (&'a str, Option<String>, Option<String>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("no headers", None, None, &body, "signature-missing"),
        ("no signature", None, Some(fresh.clone()), &body, "signature-missing"),
        ("no timestamp", Some(sign(&fresh, &body)), None, &body, "signature-timestamp-missing"),
        ("not base64", Some("%%%".into()), Some(fresh.clone()), &body, "signature-malformed"),
        (
            "not a digest",
            Some("c2hvcnQ=".into()),
            Some(fresh.clone()),
            &body,
            "signature-malformed",
        ),
        (
            "epoch timestamp",
            Some(sign("1704110400", &body)),
            Some("1704110400".into()),
            &body,
            "signature-timestamp-invalid",
        ),
        (
            "tampered body",
            Some(sign(&fresh, &body)),
            Some(fresh.clone()),
            &tampered,
            "signature-mismatch",
        ),
        (
            "other timestamp",
            Some(sign(&old, &body)),
            Some(fresh.clone()),
            &body,
            "signature-mismatch",
        ),
        (
            "wrong secret",
            Some(VECTOR_SIGNATURE.into()),
            Some(fresh.clone()),
            &body,
            "signature-mismatch",
        ),
        ("six minutes old", Some(sign(&old, &body)), Some(old.clone()), &body, "signature-expired"),
        (
            "six minutes ahead",
            Some(sign(&future, &body)),
            Some(future.clone()),
            &body,
            "signature-from-future",
        ),
    ];
    for (name, signature, timestamp, body, code) in &cases {
        let (status, answer) = post(&host, signature.as_deref(), timestamp.as_deref(), body);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (401, Some(*code)),
            "{name}: {answer}"
        );
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty(), "{name}: {answer}");
    }
    assert!(host.all_incidents().is_empty(), "a refused request stored something");
    assert_eq!(host.get("/api/v1/failed").1["failed_deliveries"], serde_json::json!([]));

    let (status, answer) = post(&host, Some(&sign(&fresh, &body)), Some(&fresh), &body);
    assert_eq!(status, 202, "{answer}");
    // A replay of the same signed request inside the window is a harmless
    // duplicate, like any Zendesk retry.
    let (status, again) = post(&host, Some(&sign(&fresh, &body)), Some(&fresh), &body);
    assert_eq!((status, again["action"].as_str()), (202, Some("unchanged")), "{again}");
    assert_eq!(host.all_incidents().len(), 1);
}

#[test]
fn the_window_is_configurable() {
    let host = signed_host("signature_window_seconds = 30");
    let body = ticket_body(2);
    let minute_old = iso(SystemTime::now() - Duration::from_secs(60));
    let (status, answer) = post(&host, Some(&sign(&minute_old, &body)), Some(&minute_old), &body);
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("signature-expired")),
        "{answer}"
    );
    assert!(answer["error"]["message"].as_str().unwrap().contains("30 s"), "{answer}");
}

#[test]
fn the_secret_may_come_from_the_environment() {
    let config = zendesk_config("signing_secret_env = \"INBOUND_TEST_SIGNING_SECRET\"");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let host = Host::start_with(dir, &[], &[("INBOUND_TEST_SIGNING_SECRET", SECRET)]);
    let body = ticket_body(3);
    let (status, answer) = post(&host, None, None, &body);
    assert_eq!(status, 401, "{answer}");
    let now = iso(SystemTime::now());
    let (status, answer) = post(&host, Some(&sign(&now, &body)), Some(&now), &body);
    assert_eq!(status, 202, "{answer}");
}
