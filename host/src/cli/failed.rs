//! `inbound failed ...`: events whose plugin call failed, kept by a running
//! host for an operator to look at and replay once the plugin is fixed.

use super::output::OutputArg;
use super::remote::{Remote, text};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// List failed deliveries, newest first.
    List {
        /// How many (1-500).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Show a failed delivery: its error, headers and original body.
    Show {
        id: u64,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Run a failed delivery through its source's current plugin again.
    Replay {
        id: u64,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { limit, output, remote } => {
            let page = remote.send(|client, base| {
                client.get(format!("{base}/api/v1/failed")).query(&[("limit", limit)])
            })?;
            if output.is_json() {
                println!("{page:#}");
                return Ok(());
            }
            let failures = page["failed_deliveries"].as_array().cloned().unwrap_or_default();
            if failures.is_empty() {
                println!("no failed deliveries");
                return Ok(());
            }
            println!("{:>6}  {:<8}  {:<12}  {:<24}  ERROR", "ID", "STATE", "SOURCE", "RECEIVED");
            for failure in &failures {
                let state = if failure["replayed"].is_null() { "kept" } else { "replayed" };
                println!(
                    "{:>6}  {:<8}  {:<12}  {:<24}  {}: {}",
                    failure["id"],
                    state,
                    text(&failure["source"]),
                    text(&failure["received_at"]),
                    text(&failure["error_code"]),
                    text(&failure["error"])
                );
            }
            Ok(())
        }
        Command::Show { id, output, remote } => {
            let failure =
                remote.send(|client, base| client.get(format!("{base}/api/v1/failed/{id}")))?;
            if output.is_json() {
                println!("{failure:#}");
                return Ok(());
            }
            println!("failed delivery {id} from source {}", text(&failure["source"]));
            for field in
                ["received_at", "error_code", "error", "attempts", "fallback_incident", "replayed"]
            {
                println!("  {field}: {}", text(&failure[field]));
            }
            println!("headers:");
            for header in failure["headers"].as_array().into_iter().flatten() {
                println!("  {}: {}", text(&header[0]), text(&header[1]));
            }
            println!("body ({} bytes):\n{}", failure["body_bytes"], text(&failure["body"]));
            Ok(())
        }
        Command::Replay { id, remote } => {
            let answer = remote
                .send(|client, base| client.post(format!("{base}/api/v1/failed/{id}/replay")))?;
            println!(
                "failed delivery {id} replayed: {} incident {} (status {})",
                text(&answer["action"]),
                answer["incident"]["id"],
                text(&answer["incident"]["status"])
            );
            Ok(())
        }
    }
}
