//! `bench calls`: the cost of one plugin call (fresh instance, the Zendesk
//! lifecycle for a new ticket, against a snapshot) with nothing around it,
//! to profile the sandbox's per-request work on its own.

use inbound::plugin::{CallLimits, EngineSettings, PluginHost, PluginRequest};
use inbound::store::{Session, SourceScope, Store, now_millis};
use std::sync::Arc;
use std::time::Instant;

pub fn run(iterations: u32) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(&dir.path().join("calls.redb"), Default::default(), |_| {})?);
    let mut plugins = PluginHost::new(&EngineSettings::default())?;
    plugins.load("zendesk", &crate::servers::zendesk_wasm()?, None)?;
    let plugin = plugins.plugin("zendesk").expect("loaded");
    let limits = CallLimits::default();
    let scope = SourceScope {
        name: "bench".into(),
        escalation_policy: "oncall".into(),
        actor: "bench".into(),
    };
    let started = Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    for n in 0..iterations {
        let body = format!(
            r#"{{"id": "{n}", "title": "Printer on fire", "description": "Floor 3", "status": "Open", "priority": "High", "requester_name": "Ada", "link": "https://example.zendesk.com/agent/tickets/{n}", "latest_comment": "Floor 3"}}"#
        );
        let session = Session::new(store.clone(), scope.clone(), now_millis())?;
        let request =
            PluginRequest { headers: vec![], body: body.into_bytes(), settings_json: "{}".into() };
        let call = Instant::now();
        let output = plugins.call(&plugin, session, request, &limits);
        slowest = slowest.max(call.elapsed());
        output.result.map_err(|error| anyhow::anyhow!("{error}"))?;
    }
    let elapsed = started.elapsed();
    println!(
        "{iterations} plugin calls: {:.1} µs each on average, slowest {:.1} µs, {:.0} calls/s on one thread",
        elapsed.as_secs_f64() * 1e6 / iterations as f64,
        slowest.as_secs_f64() * 1e6,
        iterations as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
