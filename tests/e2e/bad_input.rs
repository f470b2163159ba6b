//! End to end: the bad input catalogue. Each malformed or misdirected
//! request gets its documented status and error code (docs/api.md, "Bad
//! input"), and afterwards everything the API shows of the database, every
//! incident with its full log and every failed delivery, is exactly as
//! before, also after a restart.

use crate::support;

use serde_json::Value;
use support::{Host, KEY, TOKEN, ticket, zendesk_config};

/// One request of the catalogue and what it must get.
struct Case {
    name: &'static str,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    extra_header: Option<(&'static str, String)>,
    status: u16,
    /// The JSON error code; `None` for answers hyper gives before the request
    /// reaches inbound (no JSON body).
    code: Option<&'static str>,
}

fn webhook(
    body: impl Into<Vec<u8>>,
    content_type: &'static str,
) -> (String, &'static str, Vec<u8>) {
    (format!("/api/v1/events/zendesk/{KEY}"), content_type, body.into())
}

fn case(
    name: &'static str,
    (path, content_type, body): (String, &'static str, Vec<u8>),
    status: u16,
    code: Option<&'static str>,
) -> Case {
    Case { name, path, content_type, body, extra_header: None, status, code }
}

fn catalogue() -> Vec<Case> {
    const JSON: &str = "application/json";
    let nested = format!(r#"{{"id": "9", "status": "Open", "x": {}}}"#, "[".repeat(100_000));
    let oversized =
        format!(r#"{{"id": "9", "status": "Open", "description": "{}"}}"#, "x".repeat(1 << 20));
    let mut cases = vec![
        case(
            "truncated JSON",
            webhook(r#"{"id": "9", "status": "Op"#, JSON),
            400,
            Some("invalid-json"),
        ),
        case(
            "trailing comma",
            webhook(r#"{"id": "9", "status": "Open",}"#, JSON),
            400,
            Some("invalid-json"),
        ),
        case(
            "single quotes",
            webhook("{'id': '9', 'status': 'Open'}", JSON),
            400,
            Some("invalid-json"),
        ),
        case(
            "XML, labelled XML",
            webhook("<ticket><id>9</id></ticket>", "application/xml"),
            400,
            Some("invalid-json"),
        ),
        case(
            "a form, labelled as one",
            webhook("id=9&status=Open", "application/x-www-form-urlencoded"),
            400,
            Some("invalid-json"),
        ),
        case(
            "invalid UTF-8",
            webhook(b"{\"id\": \"9\", \"status\": \"Op\xffen\"}".to_vec(), JSON),
            400,
            Some("invalid-json"),
        ),
        case("empty body", webhook("", JSON), 400, Some("empty-body")),
        case("whitespace body", webhook(" \r\n\t ", JSON), 400, Some("empty-body")),
        case(
            "a JSON array",
            webhook(r#"[{"id": "9", "status": "Open"}]"#, JSON),
            400,
            Some("invalid-body"),
        ),
        case("a JSON string", webhook(r#""Open""#, JSON), 400, Some("invalid-body")),
        case(
            "number out of range",
            webhook(r#"{"id": 1e400, "status": "Open"}"#, JSON),
            400,
            Some("invalid-json"),
        ),
        case(
            "id past u64",
            webhook(r#"{"id": 123456789012345678901234567890, "status": "Open"}"#, JSON),
            400,
            Some("invalid-field"),
        ),
        case(
            "id string past u64",
            webhook(r#"{"id": "123456789012345678901234567890", "status": "Open"}"#, JSON),
            400,
            Some("invalid-field"),
        ),
        case(
            "negative id",
            webhook(r#"{"id": -9, "status": "Open"}"#, JSON),
            400,
            Some("invalid-field"),
        ),
        case(
            "fractional id",
            webhook(r#"{"id": 9.5, "status": "Open"}"#, JSON),
            400,
            Some("invalid-field"),
        ),
        case("deeply nested JSON", webhook(nested, JSON), 400, Some("invalid-json")),
        case("missing id", webhook(r#"{"status": "Open"}"#, JSON), 400, Some("missing-field")),
        case(
            "unknown status",
            webhook(r#"{"id": "9", "status": "Escalated"}"#, JSON),
            400,
            Some("invalid-status"),
        ),
        case(
            "solved, never opened",
            webhook(r#"{"id": "9", "status": "Solved"}"#, JSON),
            400,
            Some("no-incident"),
        ),
        case("oversized body", webhook(oversized, JSON), 413, Some("body-too-large")),
        case(
            "unknown integration",
            (format!("/api/v1/events/pagerduty/{KEY}"), JSON, ticket(9, "Open").to_string().into()),
            404,
            Some("unknown-integration"),
        ),
        case(
            "wrong key",
            (
                format!("/api/v1/events/zendesk/{}x", &KEY[..KEY.len() - 1]),
                JSON,
                ticket(9, "Open").to_string().into(),
            ),
            404,
            Some("unknown-key"),
        ),
        case(
            "key prefix",
            (
                format!("/api/v1/events/zendesk/{}", &KEY[..10]),
                JSON,
                ticket(9, "Open").to_string().into(),
            ),
            404,
            Some("unknown-key"),
        ),
        case(
            "a key that is not UTF-8",
            (
                "/api/v1/events/zendesk/%ff%fe".to_string(),
                JSON,
                ticket(9, "Open").to_string().into(),
            ),
            400,
            Some("invalid-path"),
        ),
        case(
            "no key",
            ("/api/v1/events/zendesk/".to_string(), JSON, ticket(9, "Open").to_string().into()),
            404,
            Some("no-route"),
        ),
    ];
    let mut oversized_header =
        case("oversized header", webhook(ticket(9, "Open").to_string(), JSON), 431, None);
    oversized_header.extra_header = Some(("x-padding", "a".repeat(32 << 10)));
    cases.push(oversized_header);
    cases
}

fn send(host: &Host, case: &Case) -> (u16, Value) {
    let mut headers = vec![("content-type", case.content_type)];
    if let Some((name, value)) = &case.extra_header {
        headers.push((name, value.as_str()));
    }
    let (status, _, answer) = host.post_with_headers(&case.path, &headers, case.body.clone());
    (status, answer)
}

#[test]
fn every_bad_request_gets_its_status_and_code_and_changes_nothing() {
    let host = Host::start(&zendesk_config(""));
    // Some state to disturb: an open incident with a comment, a resolved one.
    for (id, status) in [(1, "Open"), (2, "Open"), (2, "Solved")] {
        assert_eq!(host.zendesk(&ticket(id, status)).0, 202);
    }
    let before = host.snapshot();
    let cases = catalogue();
    for case in &cases {
        let (status, answer) = send(&host, case);
        assert_eq!(status, case.status, "{}: {answer}", case.name);
        if let Some(code) = case.code {
            assert_eq!(answer["error"]["code"], code, "{}: {answer}", case.name);
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.len() > 20,
                "{}: the message must say what is wrong: {answer}",
                case.name
            );
        }
    }
    assert_eq!(host.snapshot(), before, "a bad request changed the database");
    let host = host.restart();
    assert_eq!(host.snapshot(), before, "the database differs after a restart");
    eprintln!("bad input catalogue: {} cases, database unchanged", cases.len());
}

#[test]
fn the_content_type_is_not_checked() {
    // Senders and proxies mislabel bodies (curl -d says form-urlencoded);
    // the plugin judges the body, so a JSON body is accepted whatever its label.
    let host = Host::start(&zendesk_config(""));
    for (id, content_type) in [(1, "text/plain"), (2, "application/x-www-form-urlencoded"), (3, "")]
    {
        let (status, _, answer) = host.post_with_headers(
            &format!("/api/v1/events/zendesk/{KEY}"),
            &[("content-type", content_type)],
            ticket(id, "Open").to_string(),
        );
        assert_eq!(
            (status, answer["action"].as_str()),
            (202, Some("created")),
            "{content_type:?}: {answer}"
        );
    }
}

#[test]
fn malformed_ids_and_paths_of_the_api_get_json_errors() {
    let host = Host::start(&zendesk_config(""));
    assert_eq!(host.zendesk(&ticket(1, "Open")).0, 202);
    let before = host.snapshot();
    let cases = [
        ("GET", "/api/v1/incidents/0", "invalid-id"),
        ("GET", "/api/v1/incidents/-1", "invalid-id"),
        ("GET", "/api/v1/incidents/abc", "invalid-id"),
        ("GET", "/api/v1/incidents/%ff%fe", "invalid-path"),
        ("POST", "/api/v1/incidents/0/accept", "invalid-id"),
        ("POST", "/api/v1/incidents/%ff/resolve", "invalid-path"),
        ("GET", "/api/v1/failed/0", "invalid-id"),
        ("POST", "/api/v1/failed/%fe/replay", "invalid-path"),
    ];
    let client = reqwest::blocking::Client::new();
    for (method, path, code) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client.request(method, host.url(path)).bearer_auth(TOKEN).send().unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{path}: the answer must be a JSON error: {text}"
        );
    }
    assert_eq!(host.snapshot(), before, "a malformed request changed the database");
}
