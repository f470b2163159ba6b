//! `inbound notifications ...` and `inbound oncall`: the outbox and the
//! schedules of a running host.

use super::output::OutputArg;
use super::remote::{Remote, read, text};
use clap::{Args, Subcommand};
use inbound::http::answers::{NotificationAnswer, NotificationPage, OnCallPage};
use serde_json::json;

#[derive(Subcommand)]
pub enum Command {
    /// List notifications, newest first.
    List {
        /// Only this status: pending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only this incident's.
        #[arg(long)]
        incident: Option<u64>,
        /// How many (1-500).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Put a failed notification back in the outbox, due now.
    Retry {
        id: u64,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { status, incident, limit, output, remote } => {
            let page = remote.send(|client, base| {
                let mut request = client
                    .get(format!("{base}/api/v1/notifications"))
                    .query(&[("limit", limit.to_string())]);
                if let Some(status) = &status {
                    request = request.query(&[("status", status)]);
                }
                if let Some(incident) = incident {
                    request = request.query(&[("incident", incident)]);
                }
                request
            })?;
            if output.is_json() {
                println!("{page:#}");
                return Ok(());
            }
            let NotificationPage { notifications, .. } = read(page)?;
            if notifications.is_empty() {
                println!("no notifications");
                return Ok(());
            }
            println!(
                "{:>6}  {:<7}  {:<15} {:<9} {:<7}  {:<28} {:<10}  LAST ERROR",
                "ID", "STATUS", "INCIDENT", "KIND", "LEVEL", "TO", "ATTEMPTS"
            );
            for n in &notifications {
                let to = match &n.person {
                    Some(person) => format!("{person} via {}", n.channel),
                    None => format!("channel {}", n.channel),
                };
                println!(
                    "{:>6}  {:<7}  {:<15} {:<9} {:<7}  {:<28} {:<10}  {}",
                    n.id,
                    text(&json!(n.status)),
                    n.incident,
                    text(&json!(n.kind)),
                    n.level,
                    to,
                    n.attempts,
                    n.last_error.as_deref().unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Retry { id, remote } => {
            let answer = remote.send(|client, base| {
                client.post(format!("{base}/api/v1/notifications/{id}/retry"))
            })?;
            let NotificationAnswer { notification } = read(answer)?;
            println!(
                "notification {id} queued again (incident {}, {})",
                notification.incident, notification.channel
            );
            Ok(())
        }
    }
}

#[derive(Args)]
pub struct OnCall {
    /// Only this schedule.
    schedule: Option<String>,
    /// When, RFC 3339 (e.g. 2026-03-29T07:00:00Z) [default: now].
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    remote: Remote,
}

pub fn oncall(args: OnCall) -> anyhow::Result<()> {
    let answer = args.remote.send(|client, base| {
        let mut request = client.get(format!("{base}/api/v1/oncall"));
        if let Some(schedule) = &args.schedule {
            request = request.query(&[("schedule", schedule)]);
        }
        if let Some(at) = &args.at {
            request = request.query(&[("at", at)]);
        }
        request
    })?;
    if args.output.is_json() {
        println!("{answer:#}");
        return Ok(());
    }
    let page: OnCallPage = read(answer)?;
    if page.oncall.is_empty() {
        println!("no schedules");
    }
    for entry in &page.oncall {
        let until = entry.until.as_deref().unwrap_or("-");
        let next =
            entry.next_person.as_deref().map(|next| format!(", then {next}")).unwrap_or_default();
        println!("{}: {} until {until}{next} ({})", entry.schedule, entry.person, entry.timezone);
        for shift in &entry.shifts {
            println!(
                "  shift {}: {} covers {} until {} (taken by {})",
                shift.id, shift.person, shift.from, shift.until, shift.taken_by
            );
        }
    }
    Ok(())
}
