//! Escalation timing with a hand-set clock: the real store (a redb file, or
//! with `INBOUND_TEST_STORAGE=postgres` a PostgreSQL database),
//! the real engine and notifier component, time moved by the test. Exact
//! to the millisecond, and no test waits for a minute to pass.
//!
//! Deliveries go to a port where nothing listens; they fail fast and are
//! rescheduled, which is not what these tests look at.

use crate::support;

use inbound::config::Config;
use inbound::notify::{ManualClock, Notify};
use inbound::store::{
    ChangeSet, EscalationState, Incident, Notification, NotificationKind, NotificationQuery,
    PostgresOptions, Status, Store, Write,
};
use std::sync::Arc;
use support::plugin_wasm;

const MINUTE: u64 = 60_000;
/// 2026-03-28 12:00 UTC.
const T0: u64 = 1_774_699_200_000;

fn config(dir: &std::path::Path) -> Config {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = format!(
        r#"
[[channels]]
name = "hook"
plugin = "{wasm}"
url = "http://127.0.0.1:{port}/hook"
signing_secret = "secret-0123456789abcdefghij"

[[people]]
name = "ada"
contacts = [{{ channel = "hook", address = "ada" }}]

[[people]]
name = "lead"
contacts = [{{ channel = "hook", address = "lead" }}]

[[escalation_policies]]
name = "oncall"
repeat = 1
repeat_after_minutes = 10

  [[escalation_policies.levels]]
  notify = ["person:ada"]

  [[escalation_policies.levels]]
  delay_minutes = 5
  notify = ["person:lead"]
"#,
        wasm = plugin_wasm("notify_webhook").display()
    );
    Config::parse(&dir.join("config.toml"), &text).expect("valid config")
}

struct World {
    store: Arc<Store>,
    notify: Arc<Notify>,
    clock: Arc<ManualClock>,
}

/// The store kept in `dir`: the same one each time it is opened there.
fn open_store(dir: &std::path::Path) -> Store {
    if std::env::var("INBOUND_TEST_STORAGE").as_deref() == Ok("postgres") {
        let remembered = dir.join("postgres-url");
        let url = std::fs::read_to_string(&remembered).unwrap_or_else(|_| {
            let url = support::postgres::shared().new_database();
            std::fs::write(&remembered, &url).unwrap();
            url
        });
        let options = PostgresOptions { url, ca_file: None };
        return Store::open_postgres(&options, Default::default(), |_| {}).unwrap();
    }
    Store::open(&dir.join("inbound.redb"), Default::default(), |_| {}).unwrap()
}

fn start(dir: &std::path::Path) -> World {
    let store = Arc::new(open_store(dir));
    let clock = Arc::new(ManualClock::new(T0));
    let setup = Notify::setup(&config(dir), None).unwrap();
    let notify = Notify::new(store.clone(), setup, clock.clone());
    World { store, notify, clock }
}

impl World {
    /// Ada accepts or resolves `id` through the API's code path.
    async fn set_status(&self, id: u64, to: Status) {
        let ada = inbound::respond::Actor { logged: "ada".into(), name: "ada".into() };
        let config = &self.notify.current().config;
        inbound::respond::set_status(&self.store, config, id, to, &ada, None).await.unwrap();
    }

    async fn step(&self, at: u64) -> usize {
        self.clock.set(at);
        self.notify.step(at).await.unwrap()
    }

    async fn create(&self, key: &str, at: u64) -> u64 {
        let incident = Incident {
            id: self.store.allocate_incident_id().unwrap(),
            source: "support".into(),
            key: key.into(),
            status: Status::Pending,
            summary: format!("incident {key}"),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            escalation_policy: "oncall".into(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let id = incident.id;
        self.store
            .commit(ChangeSet { reads: vec![], writes: vec![Write::PutIncident(incident)] })
            .await
            .unwrap();
        id
    }

    /// `(level, round, due_at - T0 in minutes)` of each fired level.
    fn fired(&self, id: u64) -> Vec<(u32, u32, u64)> {
        let escalation = self.store.escalation_of(id).unwrap();
        escalation
            .unwrap()
            .fired
            .iter()
            .map(|f| (f.level, f.round, (f.due_at - T0) / MINUTE))
            .collect()
    }

    fn state(&self, id: u64) -> EscalationState {
        self.store.escalation_of(id).unwrap().unwrap().state
    }

    fn notifications_of(&self, id: u64) -> Vec<Notification> {
        let query = NotificationQuery { incident: Some(id), limit: 500, ..Default::default() };
        self.store.notifications(&query).unwrap().items
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_fires_at_its_delay_unless_accepted_and_repeats_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let world = start(dir.path());
    let ignored = world.create("ignored", T0).await;
    let accepted = world.create("accepted", T0).await;

    assert_eq!(world.step(T0).await, 2, "level 0 of both, at once");
    assert_eq!(world.fired(ignored), vec![(0, 0, 0)]);
    world.set_status(accepted, Status::Accepted).await;

    assert_eq!(world.step(T0 + 5 * MINUTE - 1).await, 0, "one millisecond early: nothing");
    assert_eq!(world.step(T0 + 5 * MINUTE).await, 1, "level 1 of the ignored one only");
    assert_eq!(world.fired(ignored), vec![(0, 0, 0), (1, 0, 5)]);
    assert_eq!(world.fired(accepted), vec![(0, 0, 0)]);
    assert_eq!(world.state(accepted), EscalationState::Accepted);

    // The repeat starts 10 minutes after the last level, then runs through.
    assert_eq!(world.step(T0 + 15 * MINUTE - 1).await, 0);
    assert_eq!(world.step(T0 + 15 * MINUTE).await, 1);
    assert_eq!(world.step(T0 + 20 * MINUTE).await, 1);
    assert_eq!(world.fired(ignored), vec![(0, 0, 0), (1, 0, 5), (0, 1, 15), (1, 1, 20)]);
    assert_eq!(world.state(ignored), EscalationState::Exhausted);
    assert_eq!(world.step(T0 + 24 * 60 * MINUTE).await, 0, "nothing after the last repeat");

    // Resolving sends one "resolved" notice to each person notified.
    world.set_status(ignored, Status::Resolved).await;
    // The API stamps the change with the real time, after T0.
    assert_eq!(world.step(inbound::store::now_millis() + MINUTE).await, 1);
    let escalation = world.store.escalation_of(ignored).unwrap();
    assert_eq!(escalation.unwrap().state, EscalationState::Closed);
    let notifications = world.notifications_of(ignored);
    let mut resolved: Vec<String> = notifications
        .iter()
        .filter(|n| n.kind == NotificationKind::Resolved)
        .map(|n| n.recipient.person.clone().unwrap())
        .collect();
    resolved.sort();
    assert_eq!(resolved, ["ada", "lead"]);
    let triggered = notifications.iter().filter(|n| n.kind == NotificationKind::Triggered).count();
    assert_eq!(triggered, 4, "one per level and round");
}

/// After downtime, overdue levels fire one per pass, in order, each due at
/// its scheduled time (not at the restart), none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_overdue_levels_fire_in_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let world = start(dir.path());
    let id = world.create("down", T0).await;
    assert_eq!(world.step(T0).await, 1);
    let World { store, notify, .. } = world;
    drop(notify);
    Arc::try_unwrap(store).ok().expect("only the test holds the store").close();

    let world = start(dir.path());
    let later = T0 + 3 * 60 * MINUTE;
    let mut passes = Vec::new();
    for _ in 0..5 {
        passes.push(world.step(later).await);
    }
    assert_eq!(passes, [1, 1, 1, 0, 0], "one overdue level per pass, then nothing");
    assert_eq!(world.fired(id), vec![(0, 0, 0), (1, 0, 5), (0, 1, 15), (1, 1, 20)]);
    assert_eq!(world.notifications_of(id).len(), 4);
}
