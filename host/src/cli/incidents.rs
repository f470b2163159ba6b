//! `inbound incidents ...`: list, show, accept and resolve on a running host.

use super::output::OutputArg;
use super::remote::{Remote, text};
use anyhow::Context;
use clap::Subcommand;
use inbound::http::answers::IncidentPage;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum Command {
    /// List incidents, newest first.
    List {
        /// Only this status: pending, accepted or resolved.
        #[arg(long)]
        status: Option<String>,
        /// Only this source.
        #[arg(long)]
        source: Option<String>,
        /// How many (1-500).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Show an incident and its log.
    Show {
        id: u64,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Print an incident's whole log, oldest first, a page at a time.
    Log {
        id: u64,
        /// Start after this entry (a `seq` from an earlier listing).
        #[arg(long)]
        after: Option<u64>,
        /// Entries fetched per request (1-500).
        #[arg(long, default_value_t = 200)]
        page: usize,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Accept an incident: someone is on it.
    Accept {
        id: u64,
        /// A note for the incident log.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Resolve an incident.
    Resolve {
        id: u64,
        /// A note for the incident log.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Add a note to an incident's log (sent on to the sender when its
    /// source acts back, docs/two-way.md).
    Note {
        id: u64,
        text: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { status, source, limit, output, remote } => {
            let mut query = vec![("limit", limit.to_string())];
            query.extend(status.map(|status| ("status", status)));
            query.extend(source.map(|source| ("source", source)));
            let page = remote.send(|client, base| {
                client.get(format!("{base}/api/v1/incidents")).query(&query)
            })?;
            if output.is_json() {
                println!("{page:#}");
                return Ok(());
            }
            let page: IncidentPage =
                serde_json::from_value(page).context("the host's incident list is not one")?;
            if page.incidents.is_empty() {
                println!("no incidents");
                return Ok(());
            }
            println!("{:>6}  {:<8}  {:<12}  {:<24}  SUMMARY", "ID", "STATUS", "SOURCE", "CREATED");
            for incident in &page.incidents {
                println!(
                    "{:>6}  {:<8}  {:<12}  {:<24}  {}",
                    incident.id,
                    text(&json!(incident.status)),
                    incident.source,
                    incident.created_at,
                    incident.summary
                );
            }
            Ok(())
        }
        Command::Show { id, output, remote } => {
            let shown =
                remote.send(|client, base| client.get(format!("{base}/api/v1/incidents/{id}")))?;
            if output.is_json() {
                println!("{shown:#}");
                return Ok(());
            }
            let incident = &shown["incident"];
            println!("incident {}: {}", incident["id"], text(&incident["summary"]));
            for field in [
                "status",
                "source",
                "key",
                "priority",
                "escalation_policy",
                "url",
                "created_at",
                "updated_at",
            ] {
                println!("  {field}: {}", text(&incident[field]));
            }
            for link in incident["links"].as_array().into_iter().flatten() {
                println!("  link: {} <{}>", text(&link["label"]), text(&link["url"]));
            }
            print_details(incident["details"].as_str().unwrap_or_default());
            println!("log (newest entries):");
            for entry in shown["log"].as_array().into_iter().flatten() {
                println!("  {}  {}", text(&entry["at"]), describe(entry));
            }
            if !shown["log_before"].is_null() {
                println!("older entries: inbound incidents log {id}");
            }
            Ok(())
        }
        Command::Log { id, after, page, output, remote } => {
            let mut after = after;
            loop {
                let mut query = vec![("limit", page.to_string())];
                query.extend(after.map(|seq| ("after", seq.to_string())));
                let answer = remote.send(|client, base| {
                    client.get(format!("{base}/api/v1/incidents/{id}/log")).query(&query)
                })?;
                for entry in answer["entries"].as_array().into_iter().flatten() {
                    if output.is_json() {
                        println!("{entry}");
                    } else {
                        println!(
                            "{:>8}  {}  {}",
                            entry["seq"],
                            text(&entry["at"]),
                            describe(entry)
                        );
                    }
                }
                match answer["next_after"].as_u64() {
                    Some(next) => after = Some(next),
                    None => return Ok(()),
                }
            }
        }
        Command::Accept { id, note, remote } => change(&remote, id, "accept", note),
        Command::Resolve { id, note, remote } => change(&remote, id, "resolve", note),
        Command::Note { id, text, remote } => {
            let body = json!({"text": text});
            remote.send(|client, base| {
                client.post(format!("{base}/api/v1/incidents/{id}/notes")).json(&body)
            })?;
            println!("incident {id}: noted");
            Ok(())
        }
    }
}

fn change(remote: &Remote, id: u64, verb: &str, note: Option<String>) -> anyhow::Result<()> {
    let body = json!({"note": note});
    let answer = remote.send(|client, base| {
        client.post(format!("{base}/api/v1/incidents/{id}/{verb}")).json(&body)
    })?;
    println!(
        "incident {id}: {} (status {})",
        text(&answer["action"]),
        text(&answer["incident"]["status"])
    );
    Ok(())
}

/// The plugin's details text, indented under the fields; nothing when empty.
fn print_details(details: &str) {
    if details.trim().is_empty() {
        return;
    }
    println!("  details:");
    for line in details.lines() {
        println!("    {line}");
    }
}

/// One log entry as a short line.
fn describe(entry: &Value) -> String {
    match entry["type"].as_str().unwrap_or_default() {
        "event_received" => {
            let repeats = match entry["repeats"].as_u64() {
                Some(n) => format!(
                    ", and {n} identical since, the last at {}",
                    text(&entry["last_repeat_at"])
                ),
                None => String::new(),
            };
            format!(
                "event received: {} ({} bytes{repeats})",
                text(&entry["action"]),
                entry["body_bytes"]
            )
        }
        "created" => format!("created by {}", text(&entry["by"])),
        "status_changed" => {
            let note = entry["note"].as_str().map(|note| format!(": {note}")).unwrap_or_default();
            format!(
                "{} -> {} by {}{note}",
                text(&entry["from"]),
                text(&entry["to"]),
                text(&entry["by"])
            )
        }
        "comment" => format!("comment by {}: {}", text(&entry["author"]), text(&entry["text"])),
        other => other.to_string(),
    }
}
