//! `bench`: inbound against its ceilings, side by side in one run.
//!
//! `make bench` (or `cargo run --release -p inbound-bench`) measures, on this
//! machine and in this order: the real host with the real Zendesk plugin, a
//! native-Rust baseline of the same lifecycle on the same storage, the durable
//! ceiling (each body appended through the same group-commit writer, nothing
//! else) and a bare axum handler, all under the same wrk load; then single-client latency,
//! start-up with an uncached and a cached plugin, list queries over a million
//! stored incidents, and database size per event. See docs/performance.md.

mod calls;
mod ceiling;
mod commits;
mod console;
mod footprint;
mod groups;
mod native;
mod plugin_cost;
mod postgres;
mod servers;
mod split;
mod wrk;

use clap::{Parser, Subcommand};
use serde_json::json;
use servers::Server;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wrk::{Load, WrkResult};

#[derive(Parser)]
#[command(
    about = "Benchmark inbound against a native-Rust baseline, the durable ceiling and a bare axum handler"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every measurement (the default).
    Run(RunOptions),
    /// Serve the bare axum baseline (used by `run`).
    ServeBare,
    /// Serve the native-Rust lifecycle baseline on a database (used by `run`).
    ServeNative {
        #[arg(long)]
        data: PathBuf,
    },
    /// Serve the durable ceiling: each body appended through the store's
    /// group-commit writer, no plugin, no incident logic (used by `run`).
    ServeCeiling {
        #[arg(long)]
        data: PathBuf,
    },
    /// Time durable group commits alone, in process: no HTTP, no plugin.
    Commits {
        #[arg(long, default_value_t = 64)]
        batch: usize,
        #[arg(long, default_value_t = 200)]
        batches: usize,
        /// Read snapshots beside the writer all the while, as webhooks do.
        #[arg(long)]
        reader: bool,
        /// Percent of the events that update an older incident at random
        /// instead of creating one.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        updates: u8,
    },
    /// The web console's incident list over many stored incidents, alone.
    Console {
        #[arg(long, default_value_t = 1_000_000)]
        incidents: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// The real host on PostgreSQL, one host and two, next to redb
    /// (`bench/postgres.sh` runs it on a throwaway cluster).
    Postgres {
        /// A server where the role may create databases, e.g.
        /// postgres://inbound@127.0.0.1:5432/postgres.
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        #[arg(long, default_value_t = 64)]
        connections: u32,
    },
    /// Where a database file's bytes go, per table, for EVENTS stored events.
    Footprint {
        file: PathBuf,
        #[arg(long, default_value_t = 1)]
        events: u64,
    },
    /// What notifications of one Alertmanager group of many alerts cost on
    /// disk, through the real host.
    Groups {
        #[arg(long, default_value_t = 20)]
        alerts: usize,
        #[arg(long, default_value_t = 200)]
        events: usize,
        /// The host binary to measure (default: the one built beside this).
        #[arg(long)]
        inbound: Option<PathBuf>,
    },
    /// Time plugin calls alone, in process: no HTTP, no commit.
    Calls {
        #[arg(long, default_value_t = 20_000)]
        iterations: u32,
    },
    /// One plugin component's size, compile time, per-call time and memory,
    /// in any language (docs/performance.md, plugins by language).
    Plugin {
        /// The component (.wasm).
        wasm: PathBuf,
        /// The request body every call gets.
        body: PathBuf,
        #[arg(long, default_value_t = 200)]
        iterations: u32,
        #[arg(long, default_value_t = 64)]
        memory_limit_mib: usize,
    },
}

#[derive(clap::Args, Clone)]
struct RunOptions {
    /// Seconds of measured load per contestant.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Incidents stored for the list-query measurement.
    #[arg(long, default_value_t = 1_000_000)]
    incidents: u64,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Some(Command::ServeBare) => serve(bare_router()),
        Some(Command::ServeNative { data }) => {
            let store = inbound::store::Store::open(&data, Default::default(), |_| {})?;
            let source =
                Arc::new(native::NativeSource { store: Arc::new(store), settings: "{}".into() });
            serve(
                axum::Router::new()
                    .route("/api/v1/events/zendesk/{key}", axum::routing::post(native::receive))
                    .with_state(source),
            )
        }
        Some(Command::ServeCeiling { data }) => {
            let store = inbound::store::Store::open(&data, Default::default(), |_| {})?;
            serve(ceiling::router(Arc::new(store)))
        }
        Some(Command::Run(options)) => run(&options),
        Some(Command::Calls { iterations }) => calls::run(iterations),
        Some(Command::Footprint { file, events }) => footprint::print(&file, events),
        Some(Command::Groups { alerts, events, inbound }) => groups::run(inbound, alerts, events),
        Some(Command::Postgres { url, seconds, connections }) => {
            postgres::run(&url, seconds, connections)
        }
        Some(Command::Plugin { wasm, body, iterations, memory_limit_mib }) => {
            plugin_cost::run(&wasm, &body, iterations, memory_limit_mib)
        }
        Some(Command::Commits { batch, batches, reader, updates }) => {
            commits::run(batch, batches, reader, updates)
        }
        Some(Command::Console { incidents, seconds }) => console_pages(incidents, seconds),
        None => run(&RunOptions { seconds: 10, connections: 64, incidents: 1_000_000 }),
    }
}

fn serve(router: axum::Router) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        eprintln!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router).with_graceful_shutdown(terminated()).await?;
        Ok(())
    })
}

async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    term.recv().await;
}

/// The ceiling: parse nothing, store nothing, answer a fixed JSON.
fn bare_router() -> axum::Router {
    async fn accept(
        _body: axum::body::Bytes,
    ) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
        let answer =
            json!({"action": "created", "incident": {"id": 1, "key": "1", "status": "pending"}});
        (axum::http::StatusCode::ACCEPTED, axum::Json(answer))
    }
    axum::Router::new().route("/api/v1/events/zendesk/{key}", axum::routing::post(accept))
}

struct Contestant {
    name: &'static str,
    result: WrkResult,
    rss_mib: f64,
    /// Server CPU per acknowledged event, user and system, in microseconds.
    cpu_us: (f64, f64),
}

/// Runs `load` against `server` and measures the server's CPU meanwhile:
/// the result, and user and system CPU per acknowledged (2xx) event in µs.
fn measured(
    server: &Server,
    load: impl FnOnce() -> anyhow::Result<WrkResult>,
) -> anyhow::Result<(WrkResult, (f64, f64))> {
    let (user_before, system_before) = server.cpu_seconds();
    let result = load()?;
    let (user_after, system_after) = server.cpu_seconds();
    let events = (result.requests - result.non_2xx).max(1) as f64;
    let per_event = |before: f64, after: f64| (after - before) / events * 1e6;
    Ok((result, (per_event(user_before, user_after), per_event(system_before, system_after))))
}

fn run(options: &RunOptions) -> anyhow::Result<()> {
    let inbound = servers::inbound_binary()?;
    let wasm = servers::zendesk_wasm()?;
    let me = std::env::current_exe()?;
    let load = |server: &Server, seconds: u32, connections: u32| {
        wrk::zendesk_mix(&server.base, seconds, connections)
    };
    println!(
        "inbound benchmark: {} s per contestant, {} connections, wrk on loopback\n",
        options.seconds, options.connections
    );

    // 1. Throughput and latency, four contestants under the same load.
    let mut contestants = Vec::new();
    let dir = tempfile::tempdir()?;
    let config = servers::write_inbound_config(dir.path(), &wasm)?;
    let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
    let warmup = load(&server, 2, options.connections)?;
    let before = split::read(&server)?;
    let (result, cpu_us) =
        measured(&server, || load(&server, options.seconds, options.connections))?;
    let after = split::read(&server)?;
    let rss_mib = server.peak_rss_mib();
    server.stop();
    let acknowledged = (warmup.requests - warmup.non_2xx) + (result.requests - result.non_2xx);
    let db_bytes = std::fs::metadata(dir.path().join("data/inbound.redb"))?.len();
    contestants.push(Contestant { name: "inbound (wasm plugin)", result, rss_mib, cpu_us });

    let native_dir = tempfile::tempdir()?;
    let db = native_dir.path().join("native.redb");
    let server = Server::start(&me, &["serve-native", "--data", db.to_str().unwrap()])?;
    load(&server, 2, options.connections)?;
    let (result, cpu_us) =
        measured(&server, || load(&server, options.seconds, options.connections))?;
    contestants.push(Contestant {
        name: "native Rust, same storage",
        result,
        rss_mib: server.peak_rss_mib(),
        cpu_us,
    });
    server.stop();

    let ceiling_dir = tempfile::tempdir()?;
    let db = ceiling_dir.path().join("ceiling.redb");
    let server = Server::start(&me, &["serve-ceiling", "--data", db.to_str().unwrap()])?;
    load(&server, 2, options.connections)?;
    let (result, cpu_us) =
        measured(&server, || load(&server, options.seconds, options.connections))?;
    contestants.push(Contestant {
        name: "durable ceiling (append)",
        result,
        rss_mib: server.peak_rss_mib(),
        cpu_us,
    });
    server.stop();

    let server = Server::start(&me, &["serve-bare"])?;
    load(&server, 2, options.connections)?;
    let (result, cpu_us) =
        measured(&server, || load(&server, options.seconds, options.connections))?;
    contestants.push(Contestant {
        name: "bare axum handler",
        result,
        rss_mib: server.peak_rss_mib(),
        cpu_us,
    });
    server.stop();

    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>18}",
        "", "events/s", "p50 ms", "p99 ms", "p999 ms", "non-2xx", "peak MiB", "CPU µs/event (u+s)"
    );
    for c in &contestants {
        let r = &c.result;
        let (user, system) = c.cpu_us;
        println!(
            "{:<28} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>9.1} {:>7.0} ({:.0}+{:.0})",
            c.name,
            r.per_second(),
            r.p50_us as f64 / 1000.0,
            r.p99_us as f64 / 1000.0,
            r.p999_us as f64 / 1000.0,
            r.non_2xx + r.socket_errors,
            c.rss_mib,
            user + system,
            user,
            system
        );
    }
    let cpu = |c: &Contestant| c.cpu_us.0 + c.cpu_us.1;
    println!(
        "server CPU per event: inbound {:.0} µs, {:.1}x the durable ceiling's {:.0} µs (target: 40 µs)",
        cpu(&contestants[0]),
        cpu(&contestants[0]) / cpu(&contestants[2]).max(0.001),
        cpu(&contestants[2])
    );
    let inbound_run = &contestants[0].result;
    split::print(&before, &after, inbound_run.requests - inbound_run.non_2xx, inbound_run.seconds);
    let host = contestants[0].result.per_second();
    println!(
        "\nratio inbound / native: {:.2}    inbound / durable ceiling: {:.2}    native / durable ceiling: {:.2}    inbound / bare axum: {:.2}",
        host / contestants[1].result.per_second(),
        host / contestants[2].result.per_second(),
        contestants[1].result.per_second() / contestants[2].result.per_second(),
        host / contestants[3].result.per_second()
    );
    println!(
        "database: {:.1} MiB for {} acknowledged events = {:.0} bytes/event",
        db_bytes as f64 / (1 << 20) as f64,
        acknowledged,
        db_bytes as f64 / acknowledged.max(1) as f64
    );
    footprint::print(&dir.path().join("data/inbound.redb"), acknowledged)?;
    let compacted = inbound::store::compact_file(&dir.path().join("data/inbound.redb"))?;
    println!(
        "after `inbound compact`: {:.0} bytes/event",
        compacted.bytes_after as f64 / acknowledged.max(1) as f64
    );

    // 2. One client: the latency of a single durable acknowledgement.
    let dir = tempfile::tempdir()?;
    let config = servers::write_inbound_config(dir.path(), &wasm)?;
    let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
    let single = load(&server, 5, 1)?;
    server.stop();
    println!(
        "\nsingle client, durable acknowledgement: p50 {:.3} ms, p99 {:.3} ms ({:.0} events/s)",
        single.p50_us as f64 / 1000.0,
        single.p99_us as f64 / 1000.0,
        single.per_second()
    );

    // 3. Start-up: time from spawn to listening, plugin uncached then cached.
    let dir = tempfile::tempdir()?;
    let config = servers::write_inbound_config(dir.path(), &wasm)?;
    let mut uncached = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(dir.path().join("data/plugin-cache"));
        let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
        uncached.push(server.started_in);
        server.stop();
        let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
        cached.push(server.started_in);
        server.stop();
    }
    println!(
        "start-up to listening (median of 5): uncached plugin {:.0} ms, cached plugin {:.0} ms",
        median(&mut uncached).as_secs_f64() * 1000.0,
        median(&mut cached).as_secs_f64() * 1000.0
    );

    // 4. List queries over many stored incidents.
    if options.incidents > 0 {
        let dir = tempfile::tempdir()?;
        let config = servers::write_inbound_config(dir.path(), &wasm)?;
        let started = Instant::now();
        populate(&dir.path().join("data/inbound.redb"), options.incidents)?;
        println!(
            "\nstored {} incidents in {:.1} s",
            options.incidents,
            started.elapsed().as_secs_f64()
        );
        let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
        let pages = wrk::run(&Load {
            script: "list-pages.lua",
            url: server.base.clone(),
            connections: 4,
            threads: 1,
            seconds: 5,
            script_args: vec![options.incidents.to_string(), servers::TOKEN.to_string()],
        })?;
        let console_pages = console::measure(&server.base, options.incidents, 5)?;
        server.stop();
        println!(
            "list a page of 50 (random depth and filter) over {} incidents: p50 {:.2} ms, p99 {:.2} ms, p999 {:.2} ms ({} non-2xx)",
            options.incidents,
            pages.p50_us as f64 / 1000.0,
            pages.p99_us as f64 / 1000.0,
            pages.p999_us as f64 / 1000.0,
            pages.non_2xx
        );
        report_console(options.incidents, &console_pages);
    }
    Ok(())
}

/// `bench console`: stores `incidents`, then measures the console's list.
fn console_pages(incidents: u64, seconds: u32) -> anyhow::Result<()> {
    let wasm = servers::zendesk_wasm()?;
    let inbound = servers::inbound_binary()?;
    let dir = tempfile::tempdir()?;
    let config = servers::write_inbound_config(dir.path(), &wasm)?;
    let started = Instant::now();
    populate(&dir.path().join("data/inbound.redb"), incidents)?;
    println!("stored {incidents} incidents in {:.1} s", started.elapsed().as_secs_f64());
    let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
    let result = console::measure(&server.base, incidents, seconds);
    server.stop();
    report_console(incidents, &result?);
    Ok(())
}

fn report_console(incidents: u64, pages: &WrkResult) {
    println!(
        "console incident list (/ui/, a page of 50, random depth and filter, with counts) over {} incidents: {:.0} pages/s, p50 {:.2} ms, p99 {:.2} ms, p999 {:.2} ms ({} non-2xx)",
        incidents,
        pages.per_second(),
        pages.p50_us as f64 / 1000.0,
        pages.p99_us as f64 / 1000.0,
        pages.p999_us as f64 / 1000.0,
        pages.non_2xx + pages.socket_errors
    );
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Writes `count` incidents through the real store (indexes and all), in
/// large group commits.
fn populate(path: &Path, count: u64) -> anyhow::Result<()> {
    use inbound::store::{ChangeSet, Incident, LogEntry, LogKind, Status, Store, Write};
    let store = Store::open(path, Default::default(), |_| {})?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let statuses = [Status::Pending, Status::Accepted, Status::Resolved, Status::Resolved];
    let mut written = 0;
    while written < count {
        let mut changes = ChangeSet::default();
        for _ in 0..10_000.min(count - written) {
            let id = store.allocate_incident_id()?;
            let now = inbound::store::now_millis();
            let incident = Incident {
                id,
                source: if id % 3 == 0 { "other".into() } else { "bench".into() },
                key: format!("ticket-{id}"),
                status: statuses[(id % 4) as usize],
                summary: format!("Printer on fire #{id}"),
                details: "The printer on floor 3 is on fire.".into(),
                priority: None,
                url: None,
                links: Vec::new(),
                escalation_policy: "oncall".into(),
                created_at: now,
                updated_at: now,
                version: 1,
            };
            let entry = LogEntry { at: now, kind: LogKind::Created { by: "bench".into() } };
            changes.writes.push(Write::PutIncident(incident));
            changes.writes.push(Write::AppendLog { incident: id, entry });
            written += 1;
        }
        runtime.block_on(store.commit(changes))?;
    }
    store.close();
    Ok(())
}
