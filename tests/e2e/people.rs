//! People, roles and sign-in (docs/people.md): every API and console route
//! tried with every role, people signing in with a password, sessions kept
//! in the database across a restart and ended by a new password or a role
//! change, and the audit trail of each of those.

use crate::support::{
    ConsoleSession, Host, TOKEN, console_sign_in, inbound, person_sign_in, poll, ticket,
    zendesk_config,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const VIEWER: &str = "viewer-token-7Hq2mXz9Lp4Rk8Wd";
const RESPONDER: &str = "responder-token-3Gf8nBv1Yc6Tj0Qs";
const METRICS: &str = "metrics-token-5Ke9wPa2Zu7Nh4Dx";
const ADA_PASSWORD: &str = "ada's long passphrase 42";
const GRACE_PASSWORD: &str = "grace reads, never writes";

/// Tokens of each role (`ops`, the suite's token, is the admin) and two
/// people: ada answers, grace only reads.
fn people_config(grace_role: &str) -> String {
    zendesk_config(&format!(
        r#"
[[api.tokens]]
name = "grafana"
token = "{VIEWER}"
role = "viewer"

[[api.tokens]]
name = "pager"
token = "{RESPONDER}"
role = "responder"

[[api.tokens]]
name = "prometheus"
token = "{METRICS}"
role = "metrics"

[[people]]
name = "ada"
role = "responder"
email = "ada@example.test"

[[people]]
name = "grace"
role = "{grace_role}"
"#
    ))
}

/// What each role may do, written here independently of the host's route
/// table: the issue's matrix. A route the host serves that is missing here
/// fails the test.
const API_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/incidents", "viewer"),
    ("GET", "/api/v1/incidents/{id}", "viewer"),
    ("GET", "/api/v1/incidents/{id}/log", "viewer"),
    ("POST", "/api/v1/incidents/{id}/accept", "responder"),
    ("POST", "/api/v1/incidents/{id}/resolve", "responder"),
    ("POST", "/api/v1/incidents/{id}/notes", "responder"),
    ("GET", "/api/v1/failed", "responder"),
    ("GET", "/api/v1/failed/{id}", "responder"),
    ("POST", "/api/v1/failed/{id}/replay", "responder"),
    ("GET", "/api/v1/notifications", "viewer"),
    ("GET", "/api/v1/notifications/{id}", "viewer"),
    ("POST", "/api/v1/notifications/{id}/retry", "responder"),
    ("GET", "/api/v1/maintenance", "viewer"),
    ("POST", "/api/v1/maintenance", "responder"),
    ("DELETE", "/api/v1/maintenance/{name}", "responder"),
    ("GET", "/api/v1/heartbeats", "viewer"),
    ("GET", "/api/v1/oncall", "viewer"),
    ("POST", "/api/v1/schedules/{name}/shifts", "responder"),
    ("DELETE", "/api/v1/schedules/{name}/shifts/{id}", "responder"),
    ("POST", "/api/v1/admin/reload", "admin"),
    ("GET", "/api/v1/admin/backup", "admin"),
    ("GET", "/api/v1/people", "admin"),
    ("PUT", "/api/v1/people/{name}/password", "admin"),
    ("POST", "/api/v1/people/{name}/test", "admin"),
    ("GET", "/api/v1/audit", "admin"),
    ("GET", "/api/v1/sources/{name}/shadow", "admin"),
    ("POST", "/api/v1/sources/{name}/replay", "admin"),
    ("GET", "/metrics", "metrics"),
];

const ROLES: [(&str, &str); 4] =
    [("metrics", METRICS), ("viewer", VIEWER), ("responder", RESPONDER), ("admin", TOKEN)];

fn rank(role: &str) -> usize {
    ROLES.iter().position(|(name, _)| *name == role).unwrap()
}

/// A concrete request for a route: ids nobody has, so an allowed call
/// changes nothing (404), and a body where one is read.
fn request(host: &Host, method: &str, route: &str, token: &str) -> (u16, Value) {
    let path = route.replace("{id}", "999999").replace("{name}", "nobody");
    let client = reqwest::blocking::Client::new();
    let builder = match method {
        "GET" => client.get(host.url(&path)),
        "POST" => client.post(host.url(&path)),
        "PUT" => client.put(host.url(&path)).json(&json!({"password": "a long enough one"})),
        "DELETE" => client.delete(host.url(&path)),
        other => panic!("{other}"),
    };
    let answer = builder.bearer_auth(token).send().unwrap();
    let status = answer.status().as_u16();
    let body = answer.text().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

#[test]
fn every_api_route_answers_each_role_by_the_matrix_and_refusals_are_audited() {
    let host = Host::start(&people_config("viewer"));

    // The matrix covers every protected route the host describes, with the
    // role its document names.
    let (status, document) = host.get_as("/api/v1/openapi.json", None);
    assert_eq!(status, 200);
    let mut described = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if let Some(role) = operation["x-required-role"].as_str() {
                described.insert((method.to_uppercase(), path.clone(), role.to_string()));
            }
        }
    }
    let expected: BTreeSet<_> = API_ROUTES
        .iter()
        .map(|(method, path, role)| (method.to_string(), path.to_string(), role.to_string()))
        .collect();
    assert_eq!(described, expected, "the host's protected routes and roles");

    let mut refusals = 0;
    for (method, route, needed) in API_ROUTES {
        for (role, token) in ROLES {
            let (status, body) = request(&host, method, route, token);
            if rank(role) >= rank(needed) {
                assert!(
                    ![401, 403].contains(&status),
                    "{role} may use {method} {route}, got {status} {body}"
                );
            } else {
                assert_eq!(status, 403, "{role} on {method} {route}: {body}");
                assert_eq!(body["error"]["code"], format!("needs_{needed}"), "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains(&format!("has {role}")), "{message}");
                refusals += 1;
            }
        }
    }
    // No token, or a wrong one, is still a 401 that names no role.
    let (status, body) = request(&host, "GET", "/api/v1/incidents", "wrong-token-8Jd2Kq9Lm3Xz");
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")));

    // Each refusal is in the audit trail, by token, with the route.
    let mut forbidden = Vec::new();
    let found = poll(Duration::from_secs(10), || {
        let (status, page) = host.get("/api/v1/audit?action=forbidden&limit=500");
        assert_eq!(status, 200, "{page}");
        forbidden = page["entries"].as_array().unwrap().clone();
        forbidden.len() == refusals
    });
    assert!(found, "{refusals} refusals, {} audited: {forbidden:#?}", forbidden.len());
    assert!(forbidden.iter().any(|entry| entry["actor"] == "token grafana"
        && entry["detail"].as_str().unwrap().contains("POST /api/v1/admin/reload needs admin")
        && entry["client"] == "127.0.0.1"));
}

/// The console's routes, with the role each needs (see `ui::routes`).
const CONSOLE_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/ui/", "viewer"),
    ("GET", "/ui/incidents/999999", "viewer"),
    ("POST", "/ui/incidents/999999/accept", "responder"),
    ("POST", "/ui/incidents/999999/resolve", "responder"),
    ("POST", "/ui/incidents/999999/notes", "responder"),
    ("GET", "/ui/failed", "responder"),
    ("GET", "/ui/failed/999999", "responder"),
    ("POST", "/ui/failed/999999/replay", "responder"),
    ("GET", "/ui/mine", "viewer"),
    ("POST", "/ui/mine/test", "viewer"),
    ("GET", "/ui/oncall", "viewer"),
    ("POST", "/ui/calendar-key", "viewer"),
    ("GET", "/ui/maintenance", "viewer"),
    ("POST", "/ui/maintenance", "responder"),
    ("POST", "/ui/maintenance/nobody/end", "responder"),
    ("POST", "/ui/oncall/primary/take", "responder"),
    ("POST", "/ui/oncall/primary/shifts/999999/cancel", "responder"),
    ("GET", "/ui/sources", "admin"),
    ("GET", "/ui/audit", "admin"),
];

#[test]
fn every_console_route_answers_each_role_by_the_matrix() {
    let host = Host::start(&people_config("viewer"));
    // A scraper's token cannot open the console at all.
    let refused = console_sign_in(&host, METRICS, None);
    assert_eq!(refused.status().as_u16(), 401);
    assert!(refused.text().unwrap().contains("may only read /metrics"));

    for (role, token) in &ROLES[1..] {
        let session = ConsoleSession::from_sign_in(&host, &console_sign_in(&host, token, None));
        let csrf = session.csrf();
        for (method, path, needed) in CONSOLE_ROUTES {
            let (status, page) = match *method {
                "GET" => session.get(path),
                _ => session.post(path, &csrf, &[]),
            };
            if rank(role) >= rank(needed) {
                assert!(![401, 403].contains(&status), "{role} on {method} {path}: {status}");
            } else {
                assert_eq!(status, 403, "{role} on {method} {path}: {page}");
                assert!(page.contains(&format!("This needs the {needed} role")), "{page}");
            }
        }
        // The navigation offers only what the role may open.
        let (_, page) = session.get("/ui/");
        assert_eq!(page.contains("href=\"/ui/failed\""), rank(role) >= rank("responder"), "{role}");
        assert_eq!(page.contains("href=\"/ui/audit\""), rank(role) >= rank("admin"), "{role}");
    }
}

/// `inbound people set-password NAME --password-stdin` against `host`.
fn set_password(host: &Host, name: &str, password: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inbound"))
        .args(["people", "set-password", name, "--password-stdin", "--url", &host.url("")])
        .env("INBOUND_API_TOKEN", TOKEN)
        .env_remove("INBOUND_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn audit(host: &Host, action: &str) -> Vec<Value> {
    let (status, page) = host.get(&format!("/api/v1/audit?action={action}&limit=500"));
    assert_eq!(status, 200, "{page}");
    page["entries"].as_array().unwrap().clone()
}

#[test]
fn people_sign_in_with_a_password_act_as_themselves_and_viewers_cannot_act() {
    let host = Host::start(&people_config("viewer"));
    // Passwords are set through the API by an admin, checked, and never
    // for someone the config does not name.
    let (code, stdout, stderr) = set_password(&host, "ada", ADA_PASSWORD);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("password of ada set"), "{stdout}");
    let (code, _, stderr) = set_password(&host, "ada", "short");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("at least 12 characters") && stderr.contains("weak-password"),
        "{stderr}"
    );
    let (code, _, stderr) = set_password(&host, "mallory", ADA_PASSWORD);
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown-person"), "{stderr}");
    assert_eq!(set_password(&host, "grace", GRACE_PASSWORD).0, 0);
    let (_, people) = host.get("/api/v1/people");
    assert_eq!(
        people["people"][0],
        json!({"email": "ada@example.test", "has_password": true, "name": "ada", "role": "responder"})
    );
    assert!(!people.to_string().contains("argon2"), "the hash never leaves: {people}");

    // A wrong password, or a name nobody has, is refused alike.
    for (name, password) in [("ada", "not ada's password"), ("mallory", ADA_PASSWORD)] {
        let refused = person_sign_in(&host, name, password);
        assert_eq!(refused.status().as_u16(), 401, "{name}");
        assert!(refused.text().unwrap().contains("do not match"));
    }

    let (status, _) = host.zendesk(&ticket(7, "New"));
    assert_eq!(status, 202);
    let id = host.incidents()[0]["id"].as_u64().unwrap();

    // grace, a viewer, sees the incident but no button, and may not post.
    let grace =
        ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "grace", GRACE_PASSWORD));
    let (status, page) = grace.get(&format!("/ui/incidents/{id}"));
    assert_eq!(status, 200);
    assert!(page.contains("<span class=\"who\">grace</span>"), "{page}");
    assert!(!page.contains(&format!("/ui/incidents/{id}/accept")), "a viewer sees no Accept");
    let (status, _) = grace.post(&format!("/ui/incidents/{id}/accept"), &grace.csrf(), &[]);
    assert_eq!(status, 403);

    // ada accepts it as herself, and the log says so.
    let ada = ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "ada", ADA_PASSWORD));
    let (_, page) = ada.get(&format!("/ui/incidents/{id}"));
    assert!(page.contains(&format!("formaction=\"/ui/incidents/{id}/accept\"")), "{page}");
    let (status, _) =
        ada.post(&format!("/ui/incidents/{id}/accept"), &ada.csrf(), &[("note", "on it")]);
    assert_eq!(status, 303);
    let (_, log) = host.get(&format!("/api/v1/incidents/{id}/log"));
    assert!(log.to_string().contains("ada in the console"), "{log}");
    assert_eq!(host.incident(&json!(id))["incident"]["status"], "accepted");

    // The audit trail has each sign-in, each failure with who was tried and
    // from where, the refusal and each password change; `inbound audit` too.
    let sign_ins = audit(&host, "sign_in");
    let actors: BTreeSet<_> = sign_ins.iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, BTreeSet::from(["person ada", "person grace"]));
    let failed = audit(&host, "sign_in_failed");
    assert!(
        failed.iter().any(|e| e["actor"] == "person ada"
            && e["detail"] == "wrong password"
            && e["client"] == "127.0.0.1"),
        "{failed:#?}"
    );
    assert!(failed.iter().any(|e| e["actor"] == "person mallory"), "{failed:#?}");
    assert!(poll(Duration::from_secs(5), || audit(&host, "forbidden")
        .iter()
        .any(|e| e["actor"] == "person grace")));
    assert_eq!(audit(&host, "set_password").len(), 2);
    let (code, stdout, stderr) = inbound(
        &["audit", "--action", "sign_in", "--url", &host.url("")],
        &[("INBOUND_API_TOKEN", TOKEN)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("sign_in") && stdout.contains("person ada"), "{stdout}");
}

#[test]
fn sessions_survive_a_restart_and_end_with_a_new_password_or_a_new_role() {
    let host = Host::start(&people_config("viewer"));
    assert_eq!(set_password(&host, "ada", ADA_PASSWORD).0, 0);
    assert_eq!(set_password(&host, "grace", GRACE_PASSWORD).0, 0);
    let ada = person_sign_in(&host, "ada", ADA_PASSWORD);
    let ada = crate::support::cookie(&ada, "inbound_session");
    let grace = person_sign_in(&host, "grace", GRACE_PASSWORD);
    let grace = crate::support::cookie(&grace, "inbound_session");

    // Kept in the database: a restart signs nobody out.
    let host = host.restart();
    for cookie in [&ada, &grace] {
        assert_eq!(ConsoleSession::with_cookie(&host, cookie).get("/ui/").0, 200);
    }

    // A new password ends ada's sessions at once, and only hers.
    assert_eq!(set_password(&host, "ada", "ada's next passphrase 43").0, 0);
    let (status, _) = ConsoleSession::with_cookie(&host, &ada).get("/ui/");
    assert_eq!(status, 303, "ada's old session must be gone");
    assert_eq!(ConsoleSession::with_cookie(&host, &grace).get("/ui/").0, 200);

    // A new role for grace, reloaded, ends hers: a viewer's session does
    // not become a responder's.
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    let promoted = config
        .replace("name = \"grace\"\nrole = \"viewer\"", "name = \"grace\"\nrole = \"responder\"");
    assert_ne!(config, promoted);
    std::fs::write(host.config_path(), promoted).unwrap();
    let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(ConsoleSession::with_cookie(&host, &grace).get("/ui/").0, 303);
    let reload = &audit(&host, "reload")[0];
    assert_eq!(reload["actor"], "token ops");
    let detail = reload["detail"].as_str().unwrap();
    assert!(
        detail.contains(" -> ") && detail.contains("signed out (role changed or removed): grace"),
        "{detail}"
    );
    // Signing in again gives grace her new role.
    let grace =
        ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "grace", GRACE_PASSWORD));
    let (_, page) = grace.get("/ui/");
    assert!(page.contains("<span class=\"role\">responder</span>"), "{page}");
}

#[test]
fn a_token_without_a_role_keeps_full_access_for_now_with_a_warning() {
    let config = zendesk_config(
        "\n[[api.tokens]]\nname = \"legacy\"\ntoken = \"legacy-token-4Rt7Yu1Io9Pa\"\n",
    );
    let host = Host::start(&config);
    assert!(
        host.logs().contains("API token \\\"legacy\\\" has no role")
            || host.logs().contains("API token \"legacy\" has no role"),
        "{}",
        host.logs()
    );
    let answer = reqwest::blocking::Client::new()
        .post(host.url("/api/v1/admin/reload"))
        .bearer_auth("legacy-token-4Rt7Yu1Io9Pa")
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
}

/// ada (responder) and grace (viewer) with a contact each on a webhook
/// channel nobody listens on; a schedule where grace is always on call; and
/// the source's policy paging that schedule at once.
fn shifts_config() -> String {
    let plugin = crate::support::plugin_wasm("notify_webhook");
    zendesk_config(&format!(
        r#"
[[api.tokens]]
name = "pager"
token = "{RESPONDER}"
role = "responder"

[[channels]]
name = "hook"
plugin = "{plugin}"
url = "http://127.0.0.1:9/hook"
signing_secret = "webhook-secret-0123456789abcdef"
timeout_ms = 200

[[people]]
name = "ada"
role = "responder"
contacts = [{{ channel = "hook", address = "ada" }}]

[[people]]
name = "grace"
role = "viewer"
contacts = [{{ channel = "hook", address = "grace" }}]

[[people]]
name = "linus"
role = "viewer"

[[schedules]]
name = "primary"
timezone = "Europe/Oslo"
  [schedules.rotation]
  members = ["grace"]
  length_days = 7
  start = "2026-01-05"
  [[schedules.overrides]]
  person = "ada"
  from = "2099-01-01 09:00"
  until = "2099-01-02 09:00"
"#,
        plugin = plugin.display()
    ))
    .replace("levels = []", "levels = [{ notify = [\"schedule:primary\"] }]")
}

fn oncall_now(host: &Host) -> Value {
    let (status, page) = host.get("/api/v1/oncall?schedule=primary");
    assert_eq!(status, 200, "{page}");
    page["oncall"][0].clone()
}

#[test]
fn a_shift_taken_in_the_console_is_who_escalation_pages_and_the_incident_shows_it() {
    let host = Host::start(&shifts_config());
    assert_eq!(oncall_now(&host)["person"], "grace");
    assert_eq!(set_password(&host, "ada", ADA_PASSWORD).0, 0);
    assert_eq!(set_password(&host, "grace", GRACE_PASSWORD).0, 0);

    // grace, a viewer, sees the page but no button, and may not take.
    let grace =
        ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "grace", GRACE_PASSWORD));
    let (status, page) = grace.get("/ui/oncall");
    assert_eq!(status, 200);
    assert!(page.contains("<strong class=\"oncall-now\">grace</strong> (you)"), "{page}");
    assert!(!page.contains("Take this shift"), "{page}");
    assert!(page.contains("<ul class=\"overrides\">"), "the config's overrides are listed: {page}");
    assert!(
        page.contains("<li>ada: <time class=\"local\" datetime=\"2099-01-01T08:00:00"),
        "{page}"
    );
    assert_eq!(grace.post("/ui/oncall/primary/take", &grace.csrf(), &[]).0, 403);

    // ada covers for 2 hours from the console.
    let ada = ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "ada", ADA_PASSWORD));
    let (_, page) = ada.get("/ui/oncall");
    assert!(page.contains("Take this shift"), "{page}");
    let (status, _) = ada.post("/ui/oncall/primary/take", &ada.csrf(), &[("hours", "2")]);
    assert_eq!(status, 303);
    let now = oncall_now(&host);
    assert_eq!(now["person"], "ada", "{now}");
    assert_eq!(now["next_person"], "grace", "{now}");
    assert_eq!(now["shift"]["taken_by"], "person ada", "{now}");
    let until: jiff::Timestamp = now["until"].as_str().unwrap().parse().unwrap();
    let hours = until.duration_since(jiff::Timestamp::now()).as_secs_f64() / 3600.0;
    assert!((1.9..=2.0).contains(&hours), "until {until}: {hours} h from now");
    let (code, stdout, stderr) =
        inbound(&["oncall", "--url", &host.url("")], &[("INBOUND_API_TOKEN", TOKEN)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("primary: ada until") && stdout.contains("then grace"), "{stdout}");
    assert!(stdout.contains("ada covers") && stdout.contains("taken by person ada"), "{stdout}");

    // Escalation pages whoever covers: ada, not grace.
    let (status, _) = host.zendesk(&ticket(21, "New"));
    assert_eq!(status, 202);
    let id = host.incidents()[0]["id"].as_u64().unwrap();
    let mut paged = Vec::new();
    assert!(poll(Duration::from_secs(10), || {
        let (_, page) = host.get(&format!("/api/v1/notifications?incident={id}"));
        paged = page["notifications"].as_array().unwrap().clone();
        !paged.is_empty()
    }));
    let people: BTreeSet<_> =
        paged.iter().map(|n| n["person"].as_str().unwrap().to_string()).collect();
    assert_eq!(people, BTreeSet::from(["ada".to_string()]), "{paged:#?}");

    // The incident page shows the escalation and the page that went out;
    // ada's "My incidents" lists it, grace's does not.
    let (_, page) = ada.get(&format!("/ui/incidents/{id}"));
    assert!(
        page.contains("id=\"escalation\"") && page.contains("<strong>support-oncall</strong>"),
        "{page}"
    );
    assert!(page.contains("schedule:primary"), "{page}");
    let row = page.split("data-notification=").nth(1).expect("a notification row");
    assert!(row.contains("<td>ada</td><td>hook</td>"), "{row}");
    assert!(ada.get("/ui/mine").1.contains(&format!("href=\"/ui/incidents/{id}\"")));
    assert!(!grace.get("/ui/mine").1.contains(&format!("href=\"/ui/incidents/{id}\"")));

    // Over the API a token names the person; a person below admin cannot
    // cancel someone else's shift.
    let client = reqwest::blocking::Client::new();
    let take = |body: Value| {
        let answer = client
            .post(host.url("/api/v1/schedules/primary/shifts"))
            .bearer_auth(RESPONDER)
            .json(&body)
            .send()
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json::<Value>().unwrap())
    };
    let (status, body) = take(json!({}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("person-required")));
    let (status, body) = take(json!({"person": "mallory"}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unknown-person")));
    let (status, body) = take(json!({"person": "linus"}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("person-unreachable")),
        "linus has no contacts"
    );
    let (status, body) = take(json!({"person": "grace", "until": "2099-01-01T00:00:00Z"}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid-time")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("at most 31 days"), "{body}");
    let (status, body) = take(json!({"person": "grace", "until": "2020-01-01T00:00:00Z"}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid-time")));
    let (status, shift) = take(json!({"person": "grace"}));
    assert_eq!(status, 201, "{shift}");
    assert_eq!(oncall_now(&host)["person"], "grace", "the latest taken wins");
    let grace_shift = shift["id"].as_u64().unwrap();
    let cancel = format!("/ui/oncall/primary/shifts/{grace_shift}/cancel");
    assert_eq!(ada.post(&cancel, &ada.csrf(), &[]).0, 403, "not ada's shift");
    let answer = client
        .delete(host.url(&format!("/api/v1/schedules/primary/shifts/{grace_shift}")))
        .bearer_auth(RESPONDER)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(oncall_now(&host)["person"], "ada", "ada's cover holds again");

    let shifts = audit(&host, "shift");
    assert_eq!(shifts.len(), 3, "{shifts:#?}");
    assert!(shifts.iter().any(|e| e["actor"] == "person ada"
        && e["detail"].as_str().unwrap().starts_with("ada covers primary")));
    assert!(shifts.iter().any(|e| e["actor"] == "token pager"
        && e["detail"].as_str().unwrap().starts_with("cancelled the shift of grace")));
}

/// The events of an iCalendar feed as a real parser (Python's `icalendar`)
/// reads them: (summary, start, end) in UTC.
fn parse_ics(feed: &str) -> Vec<(String, jiff::Timestamp, jiff::Timestamp)> {
    const READ: &str = r#"
import json, sys
from icalendar import Calendar
calendar = Calendar.from_ical(sys.stdin.buffer.read())
events = []
for event in calendar.walk("VEVENT"):
    events.append([str(event["SUMMARY"]), event.decoded("DTSTART").isoformat(), event.decoded("DTEND").isoformat()])
print(json.dumps(events))
"#;
    let mut child = match Command::new("/usr/bin/python3")
        .args(["-c", READ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => panic!("python3 is needed to read the feed (make test-deps): {error}"),
    };
    child.stdin.take().unwrap().write_all(feed.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'icalendar'") {
        crate::support::cannot_check(
            "icalendar",
            "Python's icalendar is not installed",
            "apt-get install python3-icalendar (make test-deps)",
        );
        return Vec::new();
    }
    assert!(output.status.success(), "{stderr}\n{feed}");
    let events: Vec<(String, String, String)> = serde_json::from_slice(&output.stdout).unwrap();
    events
        .into_iter()
        .map(|(summary, start, end)| (summary, start.parse().unwrap(), end.parse().unwrap()))
        .collect()
}

#[test]
fn calendar_feeds_list_turns_at_local_hand_off_times_across_dst_and_a_new_key_revokes_the_old() {
    let config = shifts_config().replace(
        "members = [\"grace\"]\n  length_days = 7",
        "members = [\"ada\", \"grace\"]\n  length_days = 1\n  handoff = \"09:00\"",
    );
    assert!(config.contains("length_days = 1"));
    let host = Host::start(&config);
    assert_eq!(set_password(&host, "ada", ADA_PASSWORD).0, 0);
    let ada = ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "ada", ADA_PASSWORD));
    let (status, page) = ada.post("/ui/calendar-key", &ada.csrf(), &[]);
    assert_eq!(status, 200, "{page}");
    let link = |id: &str| {
        let after =
            page.split(&format!("<code {id}>")).nth(1).unwrap_or_else(|| panic!("{id} in {page}"));
        after.split("</code>").next().unwrap().replace("&amp;", "&").replace("&#x3d;", "=")
    };
    let person_feed = link("id=\"person-feed\"");
    let schedule_feed = link("class=\"schedule-feed\"");
    assert!(
        schedule_feed.contains("/api/v1/schedules/primary/calendar.ics?key="),
        "{schedule_feed}"
    );
    let path = |url: &str| url.split_once("/api/").map(|(_, rest)| format!("/api/{rest}")).unwrap();

    // Oslo moves to summer time on the last Sunday of March: the 09:00
    // hand-off moves from 08:00 to 07:00 UTC, and a calendar app must see
    // 09:00 on both sides.
    let from = days_before_next_spring_forward();
    let get = |path: &str, token: Option<&str>| host.get_text(path, token);
    let (status, feed) = get(&format!("{}&from={from}", path(&schedule_feed)), None);
    assert_eq!(status, 200, "{feed}");
    let events = parse_ics(&feed);
    if events.is_empty() {
        return; // icalendar missing and allowed to skip
    }
    assert!(events.len() >= 50, "{} events", events.len());
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap();
    let mut offsets = BTreeSet::new();
    for (summary, start, end) in &events[1..events.len() - 1] {
        let local = start.to_zoned(oslo.clone());
        assert_eq!((local.hour(), local.minute()), (9, 0), "{summary} starts {start}");
        assert_eq!(end.to_zoned(oslo.clone()).hour(), 9, "{summary} ends {end}");
        offsets.insert(start.to_string()[11..13].to_string());
    }
    assert_eq!(offsets, BTreeSet::from(["07".to_string(), "08".to_string()]), "both sides of DST");
    let people: BTreeSet<_> = events.iter().map(|(summary, ..)| summary.clone()).collect();
    assert_eq!(people, BTreeSet::from(["On call: ada".to_string(), "On call: grace".to_string()]));

    // ada's own feed has her turns only, every other day.
    let (status, feed) = get(&format!("{}&from={from}", path(&person_feed)), None);
    assert_eq!(status, 200);
    let mine = parse_ics(&feed);
    assert!(mine.iter().all(|(summary, ..)| summary == "On call for primary"));
    assert_eq!(mine.len(), events.iter().filter(|(s, ..)| s == "On call: ada").count());

    // Without a key a token of this host reads it (pager, a responder); a
    // token the host does not have, or no credential, is a 401.
    let plain = path(&schedule_feed).split('?').next().unwrap().to_string();
    assert_eq!(get(&plain, Some(RESPONDER)).0, 200);
    assert_eq!(get(&plain, Some(VIEWER)).0, 401, "grafana is not in this config");
    assert_eq!(get(&plain, None).0, 401);

    // A new key revokes the old links.
    let (status, _) = ada.post("/ui/calendar-key", &ada.csrf(), &[]);
    assert_eq!(status, 200);
    let (status, body) = get(&path(&schedule_feed), None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("unknown or was replaced"), "{body}");
    assert_eq!(audit(&host, "calendar_key").len(), 2);
}

#[test]
fn signing_out_everywhere_ends_every_session_of_the_person_and_only_theirs() {
    let host = Host::start(&people_config("viewer"));
    assert_eq!(set_password(&host, "ada", ADA_PASSWORD).0, 0);
    assert_eq!(set_password(&host, "grace", GRACE_PASSWORD).0, 0);
    let laptop = ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "ada", ADA_PASSWORD));
    let phone = ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "ada", ADA_PASSWORD));
    let grace =
        ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "grace", GRACE_PASSWORD));
    // Signing out on the laptop alone leaves the phone signed in.
    let (status, _) = laptop.post("/ui/sign-out", &laptop.csrf(), &[]);
    assert_eq!(status, 303);
    assert_eq!(laptop.get("/ui/").0, 303);
    assert_eq!(phone.get("/ui/").0, 200);
    // From a third browser, "everywhere" ends the phone's too.
    let desk = ConsoleSession::from_sign_in(&host, &person_sign_in(&host, "ada", ADA_PASSWORD));
    let (status, _) = desk.post("/ui/sign-out", &desk.csrf(), &[("everywhere", "1")]);
    assert_eq!(status, 303);
    assert_eq!(phone.get("/ui/").0, 303);
    assert_eq!(desk.get("/ui/").0, 303);
    assert_eq!(grace.get("/ui/").0, 200, "grace's session is hers");
    assert!(poll(Duration::from_secs(5), || audit(&host, "sign_out")
        .iter()
        .any(|e| e["detail"] == "signed out of the console everywhere")));
}

/// Noon UTC three days before the next last Sunday of March (Europe's
/// change to summer time), at least a few days from today.
fn days_before_next_spring_forward() -> String {
    let today = jiff::Zoned::now().date();
    let mut year = today.year();
    loop {
        let mut sunday = jiff::civil::date(year, 3, 31);
        while sunday.weekday() != jiff::civil::Weekday::Sunday {
            sunday = sunday.yesterday().unwrap();
        }
        let from = sunday.checked_sub(jiff::Span::new().days(3)).unwrap();
        if from > today {
            return format!("{from}T12:00:00Z");
        }
        year += 1;
    }
}

#[test]
fn a_person_removed_from_the_config_is_forgotten_and_a_newcomer_of_that_name_starts_afresh() {
    let host = Host::start(&people_config("viewer"));
    assert_eq!(set_password(&host, "grace", GRACE_PASSWORD).0, 0);
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    let grace = "[[people]]\nname = \"grace\"\nrole = \"viewer\"\n";
    assert!(config.contains(grace));
    let reload = |text: &str| {
        std::fs::write(host.config_path(), text).unwrap();
        let (status, body) = host.post_json("/api/v1/admin/reload", &json!({}));
        assert_eq!(status, 200, "{body}");
    };
    reload(&config.replace(grace, ""));
    reload(&config);
    let refused = person_sign_in(&host, "grace", GRACE_PASSWORD);
    assert_eq!(refused.status().as_u16(), 401, "the old password went with the old grace");
    let (_, people) = host.get("/api/v1/people");
    let grace = people["people"].as_array().unwrap().iter().find(|p| p["name"] == "grace").cloned();
    assert_eq!(grace.unwrap()["has_password"], false);
}
