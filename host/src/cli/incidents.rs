//! `inbound incidents ...`: list, show, accept and resolve on a running host.

use super::output::OutputArg;
use super::remote::{Remote, read, text};
use clap::Subcommand;
use inbound::http::answers::{
    IncidentDetail, IncidentPage, LogKind, LogPageForward, StatusChanged,
};
use serde_json::json;

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
            let page: IncidentPage = read(page)?;
            if page.incidents.is_empty() {
                println!("no incidents");
                return Ok(());
            }
            println!("{:>6}  {:<8}  {:<12}  {:<24}  SUMMARY", "ID", "STATUS", "SOURCE", "CREATED");
            for incident in &page.incidents {
                println!(
                    "{:>6}  {:<8}  {:<12}  {:<24}  {}",
                    incident.id,
                    incident.status.as_str(),
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
            let shown: IncidentDetail = read(shown)?;
            let incident = &shown.incident;
            println!("incident {}: {}", incident.id, incident.summary);
            let priority = incident.priority.map(|p| text(&json!(p)));
            for (field, value) in [
                ("status", incident.status.as_str()),
                ("source", &incident.source),
                ("key", &incident.key),
                ("priority", priority.as_deref().unwrap_or("-")),
                ("escalation_policy", &incident.escalation_policy),
                ("url", incident.url.as_deref().unwrap_or("-")),
                ("created_at", &incident.created_at),
                ("updated_at", &incident.updated_at),
            ] {
                println!("  {field}: {value}");
            }
            for link in &incident.links {
                println!("  link: {} <{}>", link.label, link.url);
            }
            print_details(&incident.details);
            println!("log (newest entries):");
            for entry in &shown.log {
                println!("  {}  {}", entry.at, describe(&entry.kind));
            }
            if shown.log_before.is_some() {
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
                let answer: LogPageForward = read(answer)?;
                for entry in &answer.entries {
                    if output.is_json() {
                        println!("{}", serde_json::to_string(entry)?);
                    } else {
                        println!("{:>8}  {}  {}", entry.seq, entry.at, describe(&entry.kind));
                    }
                }
                match answer.next_after {
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
    let answer: StatusChanged = read(answer)?;
    println!(
        "incident {id}: {} (status {})",
        answer.action.as_str(),
        answer.incident.status.as_str()
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
fn describe(entry: &LogKind) -> String {
    match entry {
        LogKind::EventReceived { action, body_bytes, repeats, last_repeat_at, .. } => {
            let repeats = match (repeats, last_repeat_at) {
                (0, _) => String::new(),
                (n, at) => format!(
                    ", and {n} identical since, the last at {}",
                    at.as_deref().unwrap_or("-")
                ),
            };
            format!("event received: {} ({body_bytes} bytes{repeats})", action.as_str())
        }
        LogKind::Created { by } => format!("created by {by}"),
        LogKind::StatusChanged { by, from, note, to } => {
            let note = note.as_ref().map(|note| format!(": {note}")).unwrap_or_default();
            format!("{} -> {} by {by}{note}", from.as_str(), to.as_str())
        }
        LogKind::Comment { author, text, .. } => {
            format!("comment by {}: {text}", author.as_deref().unwrap_or("-"))
        }
        LogKind::LinkAdded { label, url, by } => format!("link {label} <{url}> added by {by}"),
        LogKind::Updated { by, fields } => format!("{} updated by {by}", fields.join(", ")),
        LogKind::Escalated { level, round, notified, skipped } => {
            let skipped = if skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped {}", skipped.join(", "))
            };
            format!("level {level} (round {round}) notified {}{skipped}", or_nobody(notified))
        }
        LogKind::NotPaged { reason, .. } => format!("not paged: {reason}"),
        LogKind::Other => "an entry this version of inbound does not know".to_string(),
        LogKind::NotificationAttempt {
            notification,
            channel,
            recipient,
            attempt,
            outcome,
            detail,
        } => {
            format!(
                "notification {notification} to {recipient} via {channel}, attempt {attempt}: {outcome} {detail}"
            )
        }
    }
}

fn or_nobody(names: &[String]) -> String {
    if names.is_empty() { "nobody".to_string() } else { names.join(", ") }
}
