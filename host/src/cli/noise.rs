//! `inbound maintenance list|start|end` and `inbound heartbeats list`:
//! what keeps the pager quiet, on a running host.

use super::output::OutputArg;
use super::remote::{Remote, read};
use clap::{Args, Subcommand};
use inbound::http::answers::{HeartbeatPage, MaintenancePage, MaintenanceWindow};
use serde_json::json;

#[derive(Subcommand)]
pub enum Maintenance {
    /// Every window: the config's and those made at run time.
    List {
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Start a window now (or plan one with --from): levels due in it page nobody.
    Start(Start),
    /// End a run-time window now; what it held pages (or stays quiet, per --after).
    End {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Args)]
pub struct Start {
    /// The window's name, e.g. deploy.
    name: String,
    /// How long it lasts, e.g. 2h, 90m.
    #[arg(long = "for", value_name = "DURATION", conflicts_with = "until")]
    duration: Option<humantime::Duration>,
    /// When it ends, RFC 3339.
    #[arg(long)]
    until: Option<String>,
    /// When it starts, RFC 3339 [default: now].
    #[arg(long)]
    from: Option<String>,
    /// Only these sources (repeat the flag) [default: every source].
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Only incidents of these priorities (repeat the flag).
    #[arg(long = "priority")]
    priorities: Vec<String>,
    /// What incidents still open at its end do: escalate or quiet.
    #[arg(long, default_value = "escalate")]
    after: String,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
pub enum Heartbeats {
    /// Every heartbeat, its state and last ping.
    List {
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn maintenance(command: Maintenance) -> anyhow::Result<()> {
    match command {
        Maintenance::List { output, remote } => {
            let answer =
                remote.send(|client, base| client.get(format!("{base}/api/v1/maintenance")))?;
            if output.is_json() {
                println!("{answer:#}");
                return Ok(());
            }
            let page: MaintenancePage = read(answer)?;
            if page.windows.is_empty() {
                println!("no maintenance windows");
            }
            for window in &page.windows {
                print_window(window);
            }
            Ok(())
        }
        Maintenance::Start(start) => {
            let mut body = json!({
                "name": start.name,
                "sources": start.sources,
                "priorities": start.priorities,
                "after": start.after,
            });
            if let Some(duration) = start.duration {
                body["minutes"] = json!(std::time::Duration::from(duration).as_secs().div_ceil(60));
            }
            if let Some(until) = &start.until {
                body["until"] = json!(until);
            }
            if let Some(from) = &start.from {
                body["from"] = json!(from);
            }
            let answer = start.remote.send(|client, base| {
                client.post(format!("{base}/api/v1/maintenance")).json(&body)
            })?;
            if start.output.is_json() {
                println!("{answer:#}");
                return Ok(());
            }
            let window: MaintenanceWindow = read(answer)?;
            print_window(&window);
            Ok(())
        }
        Maintenance::End { name, remote } => {
            let answer = remote.send(|client, base| {
                client.delete(format!("{base}/api/v1/maintenance/{}", encode(&name)))
            })?;
            let window: MaintenanceWindow = read(answer)?;
            print_window(&window);
            Ok(())
        }
    }
}

fn print_window(window: &MaintenanceWindow) {
    let sources =
        if window.sources.is_empty() { "all sources".into() } else { window.sources.join(", ") };
    let priorities = if window.priorities.is_empty() {
        String::new()
    } else {
        format!(", priorities {}", window.priorities.join(", "))
    };
    let after = serde_json::to_value(window.after)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    println!(
        "{} ({}): {} until {}, {sources}{priorities}, then {after} (by {})",
        window.name, window.state, window.from, window.until, window.created_by
    );
}

pub fn heartbeats(command: Heartbeats) -> anyhow::Result<()> {
    match command {
        Heartbeats::List { output, remote } => {
            let answer =
                remote.send(|client, base| client.get(format!("{base}/api/v1/heartbeats")))?;
            if output.is_json() {
                println!("{answer:#}");
                return Ok(());
            }
            let page: HeartbeatPage = read(answer)?;
            if page.heartbeats.is_empty() {
                println!("no [[heartbeats]] in the host's config");
                return Ok(());
            }
            println!(
                "{:<20}  {:<8}  {:<10}  {:<26}  INCIDENT",
                "NAME", "STATE", "EVERY", "LAST PING"
            );
            for heartbeat in page.heartbeats {
                let every = format!("{}m+{}m", heartbeat.interval_minutes, heartbeat.grace_minutes);
                let last = heartbeat.last_ping.unwrap_or_else(|| "never".into());
                let incident = heartbeat.incident.map_or("-".into(), |id| id.to_string());
                println!(
                    "{:<20}  {:<8}  {:<10}  {:<26}  {incident}",
                    heartbeat.name, heartbeat.state, every, last
                );
            }
            Ok(())
        }
    }
}

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}
