//! `inbound failed ...`: events whose plugin call failed, kept by a running
//! host for an operator to look at and replay once the plugin is fixed.

use super::output::OutputArg;
use super::remote::{Remote, read};
use clap::Subcommand;
use inbound::http::answers::{FailedDetail, FailedPage, FailedReplayed};

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
            let page: FailedPage = read(page)?;
            if page.failed_deliveries.is_empty() {
                println!("no failed deliveries");
                return Ok(());
            }
            println!("{:>6}  {:<8}  {:<12}  {:<24}  ERROR", "ID", "STATE", "SOURCE", "RECEIVED");
            for failure in &page.failed_deliveries {
                let state = if failure.replayed.is_none() { "kept" } else { "replayed" };
                println!(
                    "{:>6}  {:<8}  {:<12}  {:<24}  {}: {}",
                    failure.id,
                    state,
                    failure.source,
                    failure.received_at,
                    failure.error_code,
                    failure.error
                );
            }
            Ok(())
        }
        Command::Show { id, output, remote } => {
            let answer =
                remote.send(|client, base| client.get(format!("{base}/api/v1/failed/{id}")))?;
            if output.is_json() {
                println!("{answer:#}");
                return Ok(());
            }
            let FailedDetail { body, delivery: failure } = read(answer)?;
            println!("failed delivery {id} from source {}", failure.source);
            println!("  received_at: {}", failure.received_at);
            println!("  error_code: {}", failure.error_code);
            println!("  error: {}", failure.error);
            println!("  attempts: {}", failure.attempts);
            println!("  fallback_incident: {}", or_dash(failure.fallback_incident));
            let replayed = failure.replayed.map(|r| {
                format!("{} by {} (incident {})", r.at, r.action.as_str(), or_dash(r.incident))
            });
            println!("  replayed: {}", replayed.unwrap_or_else(|| "-".into()));
            println!("headers:");
            for (name, value) in &failure.headers {
                println!("  {name}: {value}");
            }
            println!("body ({} bytes):\n{body}", failure.body_bytes);
            Ok(())
        }
        Command::Replay { id, remote } => {
            let answer = remote
                .send(|client, base| client.post(format!("{base}/api/v1/failed/{id}/replay")))?;
            let answer: FailedReplayed = read(answer)?;
            let (incident, status) = match &answer.incident {
                Some(incident) => (incident.id.to_string(), incident.status.as_str()),
                None => ("-".to_string(), "-"),
            };
            println!(
                "failed delivery {id} replayed: {} incident {incident} (status {status})",
                answer.action.as_str()
            );
            Ok(())
        }
    }
}

fn or_dash(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_string(), |value| value.to_string())
}
