//! `bench postgres`: the real host on PostgreSQL, one host and two, next to
//! the same host on redb, under the same load in one run
//! (docs/performance.md, PostgreSQL).
//!
//! `--url` names a server where the role may create databases; each
//! contestant gets a fresh one. `bench/postgres.sh` runs this against a
//! throwaway cluster.

use crate::servers::{self, Server};
use crate::wrk::{self, WrkResult};

pub fn run(url: &str, seconds: u32, connections: u32) -> anyhow::Result<()> {
    let inbound = servers::inbound_binary()?;
    let wasm = servers::zendesk_wasm()?;
    let load = |server: &Server, seconds: u32, connections: u32| {
        wrk::zendesk_mix(&server.base, seconds, connections)
    };
    let start = |storage: &str| -> anyhow::Result<(tempfile::TempDir, Server)> {
        let dir = tempfile::tempdir()?;
        let config = servers::write_config_with_storage(dir.path(), &wasm, storage)?;
        let server = Server::start(&inbound, &["serve", "--config", config.to_str().unwrap()])?;
        Ok((dir, server))
    };
    let redb = "[storage]\npath = \"data/inbound.redb\"".to_string();
    let postgres = |url: &str| format!("[storage]\nbackend = \"postgres\"\nurl = \"{url}\"");
    println!(
        "inbound on PostgreSQL: {seconds} s per contestant, {connections} connections in all, wrk on loopback\n"
    );
    println!(
        "{:<34} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "", "events/s", "p50 ms", "p99 ms", "p999 ms", "non-2xx"
    );
    let print = |name: &str, events: f64, results: &[&WrkResult]| {
        let worst = |f: fn(&WrkResult) -> u64| results.iter().map(|r| f(r)).max().unwrap_or(0);
        let failed: u64 = results.iter().map(|r| r.non_2xx + r.socket_errors).sum();
        println!(
            "{name:<34} {events:>10.0} {:>9.2} {:>9.2} {:>9.2} {failed:>8}",
            worst(|r| r.p50_us) as f64 / 1000.0,
            worst(|r| r.p99_us) as f64 / 1000.0,
            worst(|r| r.p999_us) as f64 / 1000.0,
        );
    };

    let (_dir, server) = start(&redb)?;
    load(&server, 2, connections)?;
    let on_redb = load(&server, seconds, connections)?;
    server.stop();
    print("redb, one host", on_redb.per_second(), &[&on_redb]);

    let (_dir, server) = start(&postgres(&fresh_database(url)?))?;
    load(&server, 2, connections)?;
    let one = load(&server, seconds, connections)?;
    server.stop();
    print("postgres, one host", one.per_second(), &[&one]);

    // Two hosts on one database, each loaded by its own wrk with half the
    // connections, at the same time; throughput is the sum.
    let database = fresh_database(url)?;
    let (_a, host_a) = start(&postgres(&database))?;
    let (_b, host_b) = start(&postgres(&database))?;
    let both = |seconds: u32| -> anyhow::Result<(WrkResult, WrkResult)> {
        std::thread::scope(|scope| {
            let a = scope.spawn(|| load(&host_a, seconds, (connections / 2).max(1)));
            let b = scope.spawn(|| load(&host_b, seconds, (connections / 2).max(1)));
            let a = a.join().map_err(|_| anyhow::anyhow!("wrk thread"))??;
            let b = b.join().map_err(|_| anyhow::anyhow!("wrk thread"))??;
            Ok((a, b))
        })
    };
    both(2)?;
    let (a, b) = both(seconds)?;
    host_a.stop();
    host_b.stop();
    let two = a.per_second() + b.per_second();
    print("postgres, two hosts (sum)", two, &[&a, &b]);

    println!(
        "\nratio postgres one host / redb: {:.2}    two hosts / one host: {:.2}",
        one.per_second() / on_redb.per_second(),
        two / one.per_second()
    );

    // One client: the latency of a single durable acknowledgement.
    let (_dir, server) = start(&redb)?;
    let single_redb = load(&server, 5, 1)?;
    server.stop();
    let (_dir, server) = start(&postgres(&fresh_database(url)?))?;
    let single_postgres = load(&server, 5, 1)?;
    server.stop();
    println!(
        "single client, durable acknowledgement p50: redb {:.3} ms, postgres {:.3} ms",
        single_redb.p50_us as f64 / 1000.0,
        single_postgres.p50_us as f64 / 1000.0
    );
    Ok(())
}

/// Creates an empty database next to the one `url` names; its URL.
fn fresh_database(url: &str) -> anyhow::Result<String> {
    let name = format!("inbound_bench_{}", rand_suffix());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await?;
        drop(client);
        let _ = driver.await;
        Ok::<_, anyhow::Error>(())
    })?;
    let (base, _) =
        url.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("--url ends in /database"))?;
    Ok(format!("{base}/{name}"))
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000)
}
