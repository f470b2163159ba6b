//! End to end: the incidents API for people and tools — bearer tokens,
//! accept and resolve recorded with who did it, the OpenAPI document against
//! the real routes, and the `inbound incidents` commands.

use crate::support;

use serde_json::{Value, json};
use support::{Host, KEY, TOKEN, inbound, ticket, zendesk_config};

fn host_with_incident() -> (Host, Value) {
    let host = Host::start(&zendesk_config(""));
    let (status, body) = host.zendesk(&ticket(7, "New"));
    assert_eq!(status, 202, "{body}");
    (host, body["incident"]["id"].clone())
}

/// A request to `path` with the given Authorization header value, or none.
fn call(
    host: &Host,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> (u16, String, Option<String>) {
    let client = reqwest::blocking::Client::new();
    let mut request = client.request(method.parse().unwrap(), host.url(path));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().unwrap();
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), response.text().unwrap(), challenge)
}

const PROTECTED: [(&str, &str); 6] = [
    ("GET", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents/1"),
    ("POST", "/api/v1/incidents/1/accept"),
    ("POST", "/api/v1/incidents/1/resolve"),
    ("POST", "/api/v1/admin/reload"),
    ("GET", "/metrics"),
];

fn assert_refused_everywhere(host: &Host, authorization: Option<&str>) {
    for (method, path) in PROTECTED {
        let (status, body, challenge) = call(host, method, path, authorization);
        assert_eq!(status, 401, "{method} {path} with {authorization:?}: {body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        assert!(
            !body.to_string().contains("Printer"),
            "nothing about incidents is revealed: {body}"
        );
        assert_eq!(challenge.as_deref(), Some("Bearer"));
    }
}

#[test]
fn missing_or_wrong_tokens_get_401_and_nothing_else() {
    // Thirty wrong tokens from one address: without the limit on failed
    // attempts (tests/e2e/client_limits.rs tests it), each is a plain 401.
    let host = Host::start(
        &zendesk_config("")
            .replace("[[api.tokens]]", "[api]\nfailed_auth_per_minute = 0\n\n[[api.tokens]]"),
    );
    assert_eq!(host.zendesk(&ticket(7, "New")).0, 202);
    assert_refused_everywhere(&host, None);
    assert_refused_everywhere(&host, Some("Bearer wrong-token-0123456789abcdefghij"));
    assert_refused_everywhere(&host, Some(&format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])));
    assert_refused_everywhere(&host, Some(&format!("Basic {TOKEN}")));
    assert_refused_everywhere(&host, Some(TOKEN));
    // Nothing was changed by the refused accept and resolve.
    assert_eq!(host.incidents()[0]["status"], "pending");
    let (status, _, _) = call(&host, "GET", "/api/v1/incidents", Some(&format!("Bearer {TOKEN}")));
    assert_eq!(status, 200);
}

#[test]
fn without_configured_tokens_the_api_refuses_everyone_and_says_so_at_start() {
    let config = zendesk_config("").replace(
        &format!("[[api.tokens]]\nname = \"ops\"\ntoken = \"{TOKEN}\"\nrole = \"admin\"\n"),
        "",
    );
    assert!(!config.contains("api.tokens"));
    let host = Host::start(&config);
    assert!(host.logs().contains("no [[api.tokens]] configured"), "{}", host.logs());
    assert_refused_everywhere(&host, Some(&format!("Bearer {TOKEN}")));
    assert_refused_everywhere(&host, Some("Bearer "));
    // Webhooks need no token: their key is the secret.
    assert_eq!(host.zendesk(&ticket(1, "New")).0, 202);
}

#[test]
fn a_token_may_come_from_the_environment() {
    let config = zendesk_config("")
        .replace(&format!("token = \"{TOKEN}\""), "token_env = \"INBOUND_TEST_TOKEN\"");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let from_env = "env-token-0123456789abcdefghijkl";
    let host = Host::start_with(dir, &[], &[("INBOUND_TEST_TOKEN", from_env)]);
    assert_eq!(host.get_as("/api/v1/incidents", Some(from_env)).0, 200);
    assert_eq!(host.get_as("/api/v1/incidents", Some(TOKEN)).0, 401);
}

#[test]
fn accept_and_resolve_are_logged_with_who_did_it() {
    let (host, id) = host_with_incident();
    let (status, body) =
        host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({"note": "on it"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["action"], "accepted");
    assert_eq!(body["incident"]["status"], "accepted");

    let (status, body) = host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["action"], "unchanged", "accepting twice changes nothing");

    // No body at all is fine too.
    let response = reqwest::blocking::Client::new()
        .post(host.url(&format!("/api/v1/incidents/{id}/resolve")))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().unwrap();
    assert_eq!(body["action"], "resolved");
    assert_eq!(body["incident"]["status"], "resolved");

    let log = host.incident(&id)["log"].as_array().unwrap().clone();
    let changes: Vec<&Value> = log.iter().filter(|e| e["type"] == "status_changed").collect();
    assert_eq!(changes.len(), 2, "{log:?}");
    assert_eq!(changes[0]["from"], "pending");
    assert_eq!(changes[0]["to"], "accepted");
    assert_eq!(changes[0]["by"], "user ops");
    assert_eq!(changes[0]["note"], "on it");
    assert_eq!(changes[1]["to"], "resolved");
    assert_eq!(changes[1]["by"], "user ops");
    assert!(changes[1]["note"].is_null());

    // Resolved is final, for people as for plugins.
    let (status, body) = host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "incident-resolved");
    // Zendesk solving the ticket later is a harmless no-op.
    assert_eq!(host.zendesk(&ticket(7, "Solved")).1["action"], "unchanged");
}

#[test]
fn accept_and_resolve_errors() {
    let (host, id) = host_with_incident();
    let (status, body) = host.post_json("/api/v1/incidents/999/accept", &json!({}));
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown-incident")), "{body}");
    let (status, body) = host.post_json("/api/v1/incidents/abc/resolve", &json!({}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid-id")), "{body}");
    let (status, body) =
        host.post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({"notes": "typo"}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid-body")), "{body}");
    let (status, body) = host
        .post_json(&format!("/api/v1/incidents/{id}/accept"), &json!({"note": "x".repeat(5000)}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("note-too-long")), "{body}");
    assert_eq!(host.incidents()[0]["status"], "pending", "failed requests change nothing");
}

#[test]
fn every_documented_route_is_served() {
    let host = Host::start(&zendesk_config(""));
    let (status, document) = host.get_as("/api/v1/openapi.json", None);
    assert_eq!(status, 200, "the API description needs no token");
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{paths:?}");
    for (path, operations) in paths {
        let concrete =
            path.replace("{integration}", "zendesk").replace("{key}", KEY).replace("{id}", "1");
        let concrete = concrete.replace("{name}", "nobody");
        // `parameters` beside the methods are shared by them, not a method.
        for method in operations.as_object().unwrap().keys().filter(|key| *key != "parameters") {
            let (_, body, _) =
                call(&host, &method.to_uppercase(), &concrete, Some(&format!("Bearer {TOKEN}")));
            assert!(
                !body.contains("\"no-route\"") && !body.contains("\"method-not-allowed\""),
                "{method} {path} is documented but not served: {body}"
            );
        }
    }
    let (status, body, _) =
        call(&host, "GET", "/api/v1/nothing-here", Some(&format!("Bearer {TOKEN}")));
    assert_eq!(status, 404);
    assert!(body.contains("no-route"), "{body}");
}

#[test]
fn incidents_commands_work_against_a_running_host() {
    let (host, id) = host_with_incident();
    let remote = ["--url", host.base.as_str(), "--token", TOKEN];
    let run = |args: &[&str]| inbound(&[args, &remote[..]].concat(), &[]);

    let (code, stdout, stderr) = run(&["incidents", "list"]);
    assert_eq!(code, 0, "{stderr}");
    let header = stdout.lines().next().unwrap_or_default();
    assert!(
        header.split_whitespace().eq(["ID", "STATUS", "SOURCE", "CREATED", "SUMMARY"]),
        "{stdout}"
    );
    assert!(stdout.contains("pending") && stdout.contains("Printer on fire #7"), "{stdout}");
    for output in [&["--output", "json"][..], &["-o", "json"], &["--json"]] {
        let (code, stdout, stderr) = run(&[&["incidents", "list"][..], output].concat());
        assert_eq!(code, 0, "{stderr}");
        let page: Value = serde_json::from_str(&stdout).expect("--output json prints JSON");
        assert_eq!(page["incidents"][0]["id"], id, "{stdout}");
    }

    let id = id.to_string();
    let (code, stdout, stderr) = run(&["incidents", "accept", &id, "--note", "looking"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("accepted"), "{stdout}");

    let (code, stdout, stderr) = run(&["incidents", "note", &id, "fan replaced"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("noted"), "{stdout}");

    let (code, stdout, stderr) = run(&["incidents", "resolve", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("resolved"), "{stdout}");

    let (code, stdout, stderr) = run(&["incidents", "show", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("pending -> accepted by user ops: looking"), "{stdout}");
    assert!(stdout.contains("accepted -> resolved by user ops"), "{stdout}");
    assert!(stdout.contains("comment by ops: fan replaced"), "{stdout}");
    // What the plugin wrote for people: the details text and the links.
    assert!(stdout.contains("  details:\n    "), "{stdout}");
    assert!(stdout.contains("The printer on floor 3 is on fire."), "{stdout}");

    let (code, stdout, stderr) = run(&["incidents", "list", "--status", "pending"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("no incidents"), "{stdout}");

    // The token may come from the environment; a wrong one is refused.
    let url = ["--url", host.base.as_str()];
    let (code, _, stderr) =
        inbound(&[&["incidents", "list"], &url[..]].concat(), &[("INBOUND_API_TOKEN", TOKEN)]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = inbound(&[&["incidents", "list"], &url[..]].concat(), &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no API token"), "{stderr}");
    let (code, _, stderr) = inbound(
        &[&["incidents", "list", "--token", "wrong-token-0123456789abcdef"], &url[..]].concat(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("401"), "{stderr}");
}
