//! Noise control: maintenance windows, urgency and working hours, and
//! heartbeats. The timing tests run the real store (redb, or PostgreSQL
//! with `INBOUND_TEST_STORAGE=postgres`), the real escalation engine and a
//! real notifier component on a hand-set clock, so a window's end or a
//! Monday morning across a daylight-saving change is exact and instant.
//! The API tests run the real binary over HTTP.

use crate::support;

use inbound::config::Config;
use inbound::notify::{ManualClock, Notify};
use inbound::store::{
    ChangeSet, EscalationState, Incident, LogKind, NotificationQuery, PostgresOptions, Priority,
    Status, Store, Write,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use support::{Host, KEY, TOKEN, plugin_wasm, poll, storage_section};

const MINUTE: u64 = 60_000;
/// Friday 2026-03-27 17:30 UTC: 18:30 in Berlin (CET), after hours; the
/// clocks go forward on Sunday 29th.
const FRIDAY_EVENING: u64 = 1_774_632_600_000;

fn config(dir: &std::path::Path, extra: &str) -> Config {
    let port = support::free_port();
    let text = format!(
        r#"
[integrations.zendesk]
plugin = "{zendesk}"

[[channels]]
name = "hook"
plugin = "{hook}"
url = "http://127.0.0.1:{port}/hook"
signing_secret = "secret-0123456789abcdefghij"

[[people]]
name = "ada"
contacts = [{{ channel = "hook", address = "ada" }}]

[[escalation_policies]]
name = "oncall"
working_hours = {{ timezone = "Europe/Berlin", start = "09:00", end = "17:00" }}

  [[escalation_policies.levels]]
  notify = ["person:ada"]

  [[escalation_policies.levels]]
  delay_minutes = 5
  notify = ["person:ada"]

[[escalation_policies]]
name = "no-hours"

  [[escalation_policies.levels]]
  notify = ["person:ada"]

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "oncall"
key = "{KEY}"
low_urgency = ["low"]

[[sources]]
name = "billing"
integration = "zendesk"
escalation_policy = "oncall"
key = "billing-key-0123456789abcdefghij"
{extra}
"#,
        zendesk = plugin_wasm("zendesk").display(),
        hook = plugin_wasm("notify_webhook").display()
    );
    Config::parse(&dir.join("config.toml"), &text).expect("valid config")
}

struct World {
    store: Arc<Store>,
    notify: Arc<Notify>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

fn open_store(dir: &std::path::Path) -> Store {
    if std::env::var("INBOUND_TEST_STORAGE").as_deref() == Ok("postgres") {
        let url = support::postgres::shared().new_database();
        let options = PostgresOptions { url, ca_file: None };
        return Store::open_postgres(&options, Default::default(), |_| {}).unwrap();
    }
    Store::open(&dir.join("inbound.redb"), Default::default(), |_| {}).unwrap()
}

fn start(extra: &str, now: u64) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_store(dir.path()));
    let clock = Arc::new(ManualClock::new(now));
    let setup = Notify::setup(&config(dir.path(), extra), None).unwrap();
    let notify = Notify::new(store.clone(), setup, clock.clone());
    World { store, notify, clock, _dir: dir }
}

impl World {
    async fn step(&self, at: u64) {
        self.clock.set(at);
        self.notify.step(at).await.unwrap();
    }

    async fn create(&self, source: &str, priority: Option<Priority>, policy: &str, at: u64) -> u64 {
        let incident = Incident {
            id: self.store.allocate_incident_id().unwrap(),
            source: source.into(),
            key: format!("key-{at}-{source}-{priority:?}-{policy}"),
            status: Status::Pending,
            summary: "printer on fire".into(),
            details: String::new(),
            priority,
            url: None,
            links: Vec::new(),
            escalation_policy: policy.into(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let id = incident.id;
        let changes = ChangeSet { reads: vec![], writes: vec![Write::PutIncident(incident)] };
        self.store.commit(changes).await.unwrap();
        id
    }

    /// Levels fired, as (level, fired_at - `base` in minutes).
    fn fired(&self, id: u64, base: u64) -> Vec<(u32, u64)> {
        let escalation = self.store.escalation_of(id).unwrap().unwrap();
        escalation.fired.iter().map(|f| (f.level, (f.fired_at - base) / MINUTE)).collect()
    }

    fn notifications(&self, id: u64) -> usize {
        let query = NotificationQuery { incident: Some(id), limit: 500, ..Default::default() };
        self.store.notifications(&query).unwrap().items.len()
    }

    fn state(&self, id: u64) -> EscalationState {
        self.store.escalation_of(id).unwrap().unwrap().state
    }

    /// The `not_paged` entries of the incident's log: (reason, until).
    fn not_paged(&self, id: u64) -> Vec<(String, Option<u64>)> {
        let (_, log) = self.store.incident_with_log(id).unwrap().unwrap();
        log.into_iter()
            .filter_map(|entry| match entry.kind {
                LogKind::NotPaged { reason, until } => Some((reason, until)),
                _ => None,
            })
            .collect()
    }
}

/// 2026-12-08 10:00 UTC, a Tuesday, inside Berlin working hours.
const T0: u64 = 1_796_724_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_holds_its_sources_levels_and_they_start_from_level_0_when_it_ends() {
    let window = r#"
[[maintenance]]
name = "deploy"
start = "2026-12-08T10:00:00Z"
duration_minutes = 30
sources = ["support"]
"#;
    let world = start(window, T0);
    let held = world.create("support", Some(Priority::High), "oncall", T0 + MINUTE).await;
    let other = world.create("billing", Some(Priority::High), "oncall", T0 + MINUTE).await;
    world.step(T0 + MINUTE).await;
    assert_eq!(world.notifications(held), 0, "the window holds support's level 0");
    assert_eq!(world.notifications(other), 1, "billing is not in the window");
    let end = T0 + 30 * MINUTE;
    assert_eq!(world.not_paged(held), vec![("maintenance deploy".to_string(), Some(end))]);

    // Looked at again every minute while it lasts: no new page, no new log line.
    for minute in 2..30 {
        world.step(T0 + minute * MINUTE).await;
    }
    assert_eq!(world.notifications(held), 0);
    assert_eq!(world.not_paged(held).len(), 1, "logged once, not at every look");

    world.step(end).await;
    assert_eq!(world.fired(held, T0), vec![(0, 30)], "level 0 at the window's end");
    world.step(end + 5 * MINUTE).await;
    assert_eq!(world.fired(held, T0), vec![(0, 30), (1, 35)], "then the levels as usual");
    assert_eq!(world.notifications(held), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_window_for_one_priority_leaves_what_it_held_unpaged_after_it() {
    let window = r#"
[[maintenance]]
name = "nightly batch"
start = "2026-12-08 11:00"
timezone = "Europe/Berlin"
end = "2026-12-08 11:20"
priorities = ["normal"]
after = "quiet"
"#;
    let world = start(window, T0);
    let normal = world.create("billing", Some(Priority::Normal), "oncall", T0).await;
    let urgent = world.create("billing", Some(Priority::Urgent), "oncall", T0).await;
    world.step(T0).await;
    assert_eq!((world.notifications(normal), world.notifications(urgent)), (0, 1));
    world.step(T0 + 20 * MINUTE).await;
    world.step(T0 + 40 * MINUTE).await;
    assert_eq!(world.notifications(normal), 0, "quiet after the window too");
    assert_eq!(world.state(normal), EscalationState::Exhausted);
    let reasons: Vec<String> = world.not_paged(normal).into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        reasons,
        [
            "maintenance nightly batch",
            "maintenance nightly batch ended, and it says after = \"quiet\""
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_urgency_waits_for_working_hours_across_a_daylight_saving_change() {
    let world = start("", FRIDAY_EVENING);
    let low = world.create("support", Some(Priority::Low), "oncall", FRIDAY_EVENING).await;
    let high = world.create("support", Some(Priority::High), "oncall", FRIDAY_EVENING).await;
    let never = world.create("support", Some(Priority::Low), "no-hours", FRIDAY_EVENING).await;
    world.step(FRIDAY_EVENING).await;
    assert_eq!(world.notifications(high), 1, "high urgency pages at once");
    assert_eq!(world.notifications(low), 0);
    // Monday 09:00 in Berlin is 07:00 UTC after the change (08:00 before it).
    let monday_nine = 1_774_854_000_000;
    assert_eq!(
        world.not_paged(low),
        vec![("low urgency: outside working hours".to_string(), Some(monday_nine))]
    );
    assert_eq!(world.state(never), EscalationState::Exhausted);
    assert_eq!(
        world.not_paged(never)[0].0,
        "low urgency, and the escalation policy has no working_hours"
    );

    // Over the weekend it is looked at again now and then, and waits.
    let mut at = FRIDAY_EVENING;
    while at < monday_nine - MINUTE {
        at += 15 * MINUTE;
        world.step(at.min(monday_nine - MINUTE)).await;
    }
    assert_eq!(world.notifications(low), 0, "not a minute before 09:00 CEST");
    assert_eq!(world.not_paged(low).len(), 1);
    world.step(monday_nine).await;
    assert_eq!(world.notifications(low), 1, "paged at 09:00 CEST");
    assert_eq!(world.fired(low, monday_nine), vec![(0, 0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_heartbeat_opens_one_incident_and_the_next_ping_resolves_it() {
    let heartbeat = r#"
[[heartbeats]]
name = "nightly-backup"
key = "beat-key-0123456789abcdefghij"
interval_minutes = 60
grace_minutes = 10
escalation_policy = "no-hours"
"#;
    let world = start(heartbeat, T0);
    let config = world.notify.current().config.clone();
    let beat = &config.heartbeats[0];
    // Declared but never pinged: waiting, not missed.
    world.step(T0 + 24 * 60 * MINUTE).await;
    assert!(world.store.list(&Default::default()).unwrap().items.is_empty());

    let pinged = inbound::heartbeats::ping(&world.store, beat, 1, T0).await.ok().unwrap();
    assert_eq!(pinged.next_due, T0 + 70 * MINUTE);
    world.step(T0 + 70 * MINUTE - 1).await;
    assert!(world.store.list(&Default::default()).unwrap().items.is_empty(), "not late yet");
    world.step(T0 + 70 * MINUTE).await;
    world.step(T0 + 71 * MINUTE).await;
    let opened = world.store.list(&Default::default()).unwrap().items;
    assert_eq!(opened.len(), 1, "one incident, however many passes see the miss");
    let incident = &opened[0];
    assert_eq!((incident.source.as_str(), incident.key.as_str()), ("heartbeats", "nightly-backup"));
    assert_eq!(incident.summary, "No heartbeat from nightly-backup");
    assert_eq!(world.notifications(incident.id), 1, "paged through its policy");

    let pinged =
        inbound::heartbeats::ping(&world.store, beat, 1, T0 + 80 * MINUTE).await.ok().unwrap();
    assert_eq!(pinged.resolved, Some(incident.id));
    let resolved = world.store.incident(incident.id).unwrap().unwrap();
    assert_eq!(resolved.status, Status::Resolved);
    world.step(T0 + 149 * MINUTE).await;
    assert_eq!(world.store.list(&Default::default()).unwrap().items.len(), 1, "pinged in time");
}

fn api_config(extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

{storage}

[[api.tokens]]
name = "ops"
token = "{TOKEN}"
role = "responder"

[[api.tokens]]
name = "dashboard"
token = "viewer-token-0123456789abcdefghij"
role = "viewer"

[notifications]
time_scale = 600

[integrations.zendesk]
plugin = "{zendesk}"

[[channels]]
name = "hook"
plugin = "{hook}"
url = "http://127.0.0.1:{port}/hook"
signing_secret = "secret-0123456789abcdefghij"

[[escalation_policies]]
name = "support-oncall"

  [[escalation_policies.levels]]
  notify = ["channel:hook"]

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{KEY}"
low_urgency = ["low"]
{extra}
"#,
        storage = storage_section(),
        zendesk = plugin_wasm("zendesk").display(),
        hook = plugin_wasm("notify_webhook").display(),
        port = support::free_port(),
    )
}

fn send(host: &Host, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::blocking::Client::new();
    let mut request = match method {
        "POST" => client.post(host.url(path)),
        "DELETE" => client.delete(host.url(path)),
        _ => client.get(host.url(path)),
    }
    .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn windows_are_made_listed_and_ended_through_the_api_and_the_cli_by_role() {
    let host = Host::start(&api_config(
        "\n[[maintenance]]\nname = \"planned\"\nstart = \"2030-01-01T00:00:00Z\"\nduration_minutes = 60\n",
    ));
    let viewer = "viewer-token-0123456789abcdefghij";
    let body = json!({"name": "deploy", "minutes": 120, "sources": ["support"]});
    let (status, answer) = send(&host, "POST", "/api/v1/maintenance", viewer, Some(body.clone()));
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("needs_responder")));

    let (status, made) = send(&host, "POST", "/api/v1/maintenance", TOKEN, Some(body.clone()));
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        (made["state"].as_str(), made["created_by"].as_str()),
        (Some("active"), Some("token ops"))
    );
    let metrics = host.get_text("/metrics", Some(TOKEN)).1;
    assert!(metrics.contains("inbound_maintenance_windows_active 1"), "{metrics}");
    let (status, again) = send(&host, "POST", "/api/v1/maintenance", TOKEN, Some(body));
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("window-conflict")));
    for (bad, code) in [
        (json!({"name": "x"}), "invalid-time"),
        (json!({"name": "x", "minutes": 60, "sources": ["nope"]}), "unknown-source"),
        (json!({"name": "x", "minutes": 60, "priorities": ["p1"]}), "invalid-priority"),
        (json!({"name": "", "minutes": 60}), "invalid-name"),
        (json!({"name": "x", "minutes": 60 * 24 * 32}), "invalid-time"),
        (json!({"name": "planned", "minutes": 60}), "window-conflict"),
    ] {
        let (status, answer) = send(&host, "POST", "/api/v1/maintenance", TOKEN, Some(bad.clone()));
        assert_eq!(answer["error"]["code"].as_str(), Some(code), "{bad}: {status} {answer}");
    }

    let (status, list) = send(&host, "GET", "/api/v1/maintenance", viewer, None);
    assert_eq!(status, 200);
    let names: Vec<(&str, &str)> = list["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap(), w["state"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("deploy", "active"), ("planned", "upcoming")]);

    // An incident during the window is recorded, listed, and its log says why nobody was paged.
    let (status, answer) = host.zendesk(&support::ticket(7, "new"));
    assert_eq!(status, 202, "{answer}");
    let id = answer["incident"]["id"].as_u64().unwrap();
    let logged = || {
        let (_, log) = host.get(&format!("/api/v1/incidents/{id}/log"));
        log["entries"].as_array().cloned().unwrap_or_default()
    };
    assert!(
        poll(Duration::from_secs(10), || logged()
            .iter()
            .any(|e| e["type"] == "not_paged" && e["reason"] == "maintenance deploy")),
        "{:?}",
        logged()
    );
    let (_, shown) = host.get(&format!("/api/v1/incidents/{id}"));
    assert_eq!(shown["incident"]["urgency"], "high");
    assert_eq!(shown["escalation"]["held"]["reason"], "maintenance deploy", "{shown}");

    let cli_env = [("INBOUND_URL", host.url("").trim_end_matches('/').to_string())];
    let env: Vec<(&str, &str)> = cli_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut with_token = env.clone();
    with_token.push(("INBOUND_API_TOKEN", TOKEN));
    let (code, out, err) = support::inbound(&["maintenance", "list"], &with_token);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deploy (active)") && out.contains("planned (upcoming)"), "{out}");

    let (code, out, err) = support::inbound(&["maintenance", "end", "deploy"], &with_token);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deploy (ended)"), "{out}");
    let (status, _) = send(&host, "DELETE", "/api/v1/maintenance/planned", TOKEN, None);
    assert_eq!(status, 409, "a config window is changed in the file");
    let (status, _) = send(&host, "DELETE", "/api/v1/maintenance/deploy", TOKEN, None);
    assert_eq!(status, 404, "ended already");

    // Its one level fires once the window is over: no longer held.
    let released = poll(Duration::from_secs(10), || {
        let (_, shown) = host.get(&format!("/api/v1/incidents/{id}"));
        shown["escalation"]["held"].is_null() && shown["escalation"]["fired_count"] == 1
    });
    let (_, shown) = host.get(&format!("/api/v1/incidents/{id}"));
    assert!(released, "{shown}");
    assert_eq!(shown["notifications"].as_array().map(Vec::len), Some(1), "{shown}");

    let (code, out, err) = support::inbound(
        &["maintenance", "start", "db", "--for", "2h", "--source", "support"],
        &with_token,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("db (active)") && out.contains("support"), "{out}");

    let metrics = host.get_text("/metrics", Some(TOKEN)).1;
    assert!(metrics.contains("inbound_pages_held_total{reason=\"maintenance\"} 1"), "{metrics}");
}

#[test]
fn heartbeats_are_pinged_listed_and_a_miss_opens_an_incident_over_http() {
    let key = "beat-key-0123456789abcdefghij";
    let host = Host::start(&api_config(&format!(
        "\n[[heartbeats]]\nname = \"cron\"\nkey = \"{key}\"\ninterval_minutes = 1\ngrace_minutes = 0\nescalation_policy = \"support-oncall\"\n"
    )));
    let list = || send(&host, "GET", "/api/v1/heartbeats", TOKEN, None).1["heartbeats"][0].clone();
    assert_eq!(list()["state"], "waiting");
    let (status, answer) =
        send(&host, "POST", "/api/v1/heartbeats/wrong-key-0123456789abcdefghij", "", None);
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("unknown-heartbeat")));

    let (status, pinged) = send(&host, "POST", &format!("/api/v1/heartbeats/{key}"), "", None);
    assert_eq!((status, pinged["heartbeat"].as_str()), (200, Some("cron")), "{pinged}");
    // A minute lasts 100 ms here (time_scale = 600).
    assert!(poll(Duration::from_secs(10), || list()["state"] == "missed"), "{}", list());
    let incident = list()["incident"].clone();
    let metrics = host.get_text("/metrics", Some(TOKEN)).1;
    assert!(metrics.contains("inbound_heartbeat_up{heartbeat=\"cron\"} 0"), "{metrics}");
    let shown = host.incident(&incident);
    assert_eq!(shown["incident"]["source"], "heartbeats");
    assert_eq!(shown["incident"]["status"], "pending");

    let (status, pinged) = send(&host, "POST", &format!("/api/v1/heartbeats/{key}"), "", None);
    assert_eq!((status, &pinged["resolved"]), (200, &incident));
    assert_eq!(host.incident(&incident)["incident"]["status"], "resolved");

    let env = [("INBOUND_URL", host.url("")), ("INBOUND_API_TOKEN", TOKEN.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out, err) = support::inbound(&["heartbeats", "list"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cron") && out.contains("1m+0m"), "{out}");
    let metrics = host.get_text("/metrics", Some(TOKEN)).1;
    assert!(metrics.contains("inbound_heartbeats_missed_total{heartbeat=\"cron\"}"), "{metrics}");
}

#[test]
fn a_responder_starts_and_ends_a_window_in_the_console_and_sees_the_heartbeats() {
    let host = Host::start(&api_config(
        "\n[[heartbeats]]\nname = \"cron\"\nkey = \"beat-key-0123456789abcdefghij\"\ninterval_minutes = 60\nescalation_policy = \"support-oncall\"\n",
    ));
    let viewer = support::ConsoleSession::from_sign_in(
        &host,
        &support::console_sign_in(&host, "viewer-token-0123456789abcdefghij", None),
    );
    let (status, page) = viewer.get("/ui/maintenance");
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"start-window\""), "a viewer gets no form");
    assert!(page.contains("data-heartbeat=\"cron\"") && page.contains("waiting"), "{page}");

    let responder =
        support::ConsoleSession::from_sign_in(&host, &support::console_sign_in(&host, TOKEN, None));
    let csrf = responder.csrf();
    let fields = [("name", "deploy"), ("hours", "2"), ("source", "support"), ("after", "quiet")];
    let (status, page) = responder.post("/ui/maintenance", &csrf, &fields);
    assert!(status == 200 || status == 303, "{status}: {page}");
    let (_, page) = responder.get("/ui/maintenance");
    assert!(page.contains("data-window=\"deploy\" class=\"active\""), "{page}");
    assert!(page.contains("stays quiet") && page.contains("End now"), "{page}");
    let (status, page) = responder.post("/ui/maintenance", &csrf, &[("name", "x"), ("hours", "3")]);
    assert_eq!(status, 400, "{page}");

    let (_, api) = send(&host, "GET", "/api/v1/maintenance", TOKEN, None);
    assert_eq!(api["windows"][0]["after"], "quiet", "{api}");
    let (status, _) = responder.post("/ui/maintenance/deploy/end", &csrf, &[]);
    assert!(status == 200 || status == 303);
    let (_, page) = responder.get("/ui/maintenance");
    assert!(page.contains("data-window=\"deploy\" class=\"ended\""), "{page}");
}
