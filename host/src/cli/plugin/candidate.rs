//! A new version of a source's plugin before it is live: `inbound plugin
//! replay` (over the source's stored events, on a running host), `shadow`
//! (what a `[sources.shadow]` has judged) and `promote` (make the shadow
//! live by editing config.toml).

use crate::cli::output::OutputArg;
use crate::cli::remote::Remote;
use anyhow::Context;
use inbound::config::Config;
use inbound::config::edit::promote_shadow;
use inbound::ingest::ShadowReport;
use inbound::replay::ReplayReport;
use std::path::Path;
use std::time::Duration;

/// How long the command waits for a replay (the host bounds it at 10 min).
const REPLAY_WAIT: Duration = Duration::from_secs(660);

pub struct ReplayArgs<'a> {
    pub candidate: &'a Path,
    pub source: &'a str,
    pub since: Option<&'a str>,
    pub limit: Option<usize>,
    pub output: OutputArg,
    pub remote: &'a Remote,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let wasm = std::fs::read(args.candidate)
        .with_context(|| format!("cannot read {}", args.candidate.display()))?;
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(since) = args.since {
        query.push(("since", since.to_string()));
    }
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    let path = format!("/api/v1/sources/{}/replay", args.source);
    let response = args.remote.fetch(REPLAY_WAIT, |client, base| {
        client
            .post(format!("{base}{path}"))
            .query(&query)
            .header("content-type", "application/wasm")
            .body(wasm)
    })?;
    let report: ReplayReport =
        response.json().context("the host's replay answer is not a replay report")?;
    if args.output.is_json() {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

pub fn shadow(source: &str, output: OutputArg, remote: &Remote) -> anyhow::Result<()> {
    let answer =
        remote.send(|client, base| client.get(format!("{base}/api/v1/sources/{source}/shadow")))?;
    if output.is_json() {
        println!("{answer:#}");
        return Ok(());
    }
    let report: ShadowReport =
        serde_json::from_value(answer).context("the host's answer is not a shadow report")?;
    print!("{}", report.to_text(source));
    Ok(())
}

pub fn promote(source: &str, all: bool, file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (changed, promoted) = promote_shadow(&text, source, all).map_err(anyhow::Error::msg)?;
    // The whole result is checked before the file is touched.
    Config::parse(file, &changed).context("the shadow was not promoted")?;
    inbound::files::replace_keeping_metadata(file, changed.as_bytes())
        .context("the shadow was not promoted")?;
    println!(
        "promoted: integration {:?} now runs {} ({} no longer has a shadow)",
        promoted.integration, promoted.plugin, source
    );
    if !promoted.also.is_empty() {
        println!("  also for: {}", promoted.also.join(", "));
    }
    println!("Reload a running host to make it live: inbound reload (or kill -HUP <pid>).");
    Ok(())
}
