//! `inbound people ...` and `inbound audit`: the people who may sign in to
//! the console, their passwords, and the audit trail, on a running host
//! (admin token). Answers are read through the API's own types.

use super::output::OutputArg;
use super::remote::{Remote, read};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use inbound::http::answers::{AuditPage, ContactChecks, PasswordSet, PeoplePage};
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand)]
pub enum Command {
    /// List the people of [[people]]: role, email, whether a password is set.
    List {
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Send a test message to each of a person's contacts now, and show
    /// what each receiver answered.
    Test {
        /// The person's name in [[people]].
        name: String,
        /// Only the contact on this channel.
        #[arg(long)]
        channel: Option<String>,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Set a person's console password (asked twice at a terminal); ends
    /// every session they hold.
    SetPassword {
        /// The person's name in [[people]].
        name: String,
        /// Read the password from the first line of standard input instead
        /// of asking (for scripts).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { output, remote } => {
            let page = remote.send(|client, base| client.get(format!("{base}/api/v1/people")))?;
            if output.is_json() {
                println!("{page:#}");
                return Ok(());
            }
            let page: PeoplePage = read(page)?;
            if page.people.is_empty() {
                println!("no [[people]] in the host's config");
                return Ok(());
            }
            println!("{:<20}  {:<10}  {:<8}  EMAIL", "NAME", "ROLE", "PASSWORD");
            for person in page.people {
                let password = if person.has_password { "set" } else { "-" };
                let email = person.email.unwrap_or_else(|| "-".into());
                println!(
                    "{:<20}  {:<10}  {:<8}  {email}",
                    person.name,
                    person.role.as_str(),
                    password
                );
            }
            Ok(())
        }
        Command::Test { name, channel, output, remote } => {
            let body = serde_json::json!({ "channel": channel });
            let answer = remote.send(|client, base| {
                let name = percent_encoding::utf8_percent_encode(
                    &name,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                client.post(format!("{base}/api/v1/people/{name}/test")).json(&body)
            })?;
            if output.is_json() {
                println!("{answer:#}");
            }
            let checks: ContactChecks = read(answer)?;
            if !output.is_json() {
                println!("{:<12}  {:<28}  {:<7}  ANSWER", "CHANNEL", "ADDRESS", "OUTCOME");
                for check in &checks.checks {
                    println!(
                        "{:<12}  {:<28}  {:<7}  {}",
                        check.channel, check.address, check.outcome, check.detail
                    );
                }
            }
            if checks.checks.iter().any(|check| check.outcome != "sent") {
                bail!("a test message to {} failed", checks.person);
            }
            Ok(())
        }
        Command::SetPassword { name, password_stdin, remote } => {
            let password = if password_stdin { from_stdin()? } else { from_terminal(&name)? };
            let body = serde_json::json!({ "password": password });
            let answer = remote.send(|client, base| {
                let name = percent_encoding::utf8_percent_encode(
                    &name,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                client.put(format!("{base}/api/v1/people/{name}/password")).json(&body)
            })?;
            let set: PasswordSet = read(answer)?;
            println!("password of {} set; their console sessions ended", set.person);
            Ok(())
        }
    }
}

fn from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

fn from_terminal(name: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "standard input is not a terminal: pass --password-stdin to read the password from it"
        );
    }
    let first = rpassword::prompt_password(format!("New password for {name}: "))?;
    let second = rpassword::prompt_password("Again: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// `inbound audit`.
#[derive(Args)]
pub struct Audit {
    /// Only entries of this action (sign_in, sign_in_failed, forbidden, reload, ...).
    #[arg(long)]
    action: Option<String>,
    /// How many (1-500).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Entries older than this entry id (the `next` of a previous page).
    #[arg(long)]
    before: Option<u64>,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    remote: Remote,
}

pub fn audit(args: Audit) -> anyhow::Result<()> {
    let Audit { action, limit, before, output, remote } = args;
    let page = remote.send(|client, base| {
        let mut request = client.get(format!("{base}/api/v1/audit")).query(&[("limit", limit)]);
        if let Some(action) = &action {
            request = request.query(&[("action", action)]);
        }
        if let Some(before) = before {
            request = request.query(&[("before", before)]);
        }
        request
    })?;
    if output.is_json() {
        println!("{page:#}");
        return Ok(());
    }
    let page: AuditPage = read(page)?;
    if page.entries.is_empty() {
        println!("no audit entries");
        return Ok(());
    }
    println!(
        "{:>6}  {:<24}  {:<18}  {:<20}  {:<15}  DETAIL",
        "ID", "AT", "ACTION", "ACTOR", "CLIENT"
    );
    for entry in &page.entries {
        println!(
            "{:>6}  {:<24}  {:<18}  {:<20}  {:<15}  {}",
            entry.id,
            entry.at,
            entry.action,
            entry.actor,
            entry.client.as_deref().unwrap_or("-"),
            entry.detail
        );
    }
    if let Some(next) = page.next_before {
        println!("more: --before {next}");
    }
    Ok(())
}
