//! Commands, one module per group: `serve` and `check` here, the others in
//! their own files; [`remote`] is the client of a running host's API.

mod backup;
mod failed;
mod incidents;
mod noise;
mod notifications;
mod output;
mod people;
mod plugin;
mod remote;
mod sources;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use inbound::config::Config;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "inbound", version, about = "Turns webhooks from alert sources into incidents")]
pub struct Cli {
    /// How log lines are written to stderr.
    #[arg(long, global = true, value_enum, default_value = "text", env = "INBOUND_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `--config`, shared by every command that reads the file.
#[derive(Args, Clone)]
pub struct ConfigArg {
    /// The configuration file.
    #[arg(long, short, default_value = "config.toml", env = "INBOUND_CONFIG")]
    pub config: PathBuf,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the host: receive webhooks and serve the incident API.
    Serve(ConfigArg),
    /// Validate the configuration and print each source's webhook URL.
    Check(ConfigArg),
    /// Ask a running host to re-read its configuration and plugins.
    Reload(remote::Remote),
    /// Add or list alert sources in the configuration file.
    #[command(subcommand)]
    Sources(sources::Command),
    /// List, show, accept and resolve incidents on a running host.
    #[command(subcommand)]
    Incidents(incidents::Command),
    /// List, show and replay events whose plugin call failed.
    #[command(subcommand)]
    Failed(failed::Command),
    /// List notifications and retry failed ones on a running host.
    #[command(subcommand)]
    Notifications(notifications::Command),
    /// Who is on call in each schedule, now or at --at.
    Oncall(notifications::OnCall),
    /// Maintenance windows: list, start (for 2h, or until), end early.
    #[command(subcommand)]
    Maintenance(noise::Maintenance),
    /// Heartbeats (dead-man's switches) and their last ping.
    #[command(subcommand)]
    Heartbeats(noise::Heartbeats),
    /// The people who may sign in to the console, and their passwords.
    #[command(subcommand)]
    People(people::Command),
    /// The audit trail: sign-ins, refusals, reloads, backups, ... (admin token).
    Audit(people::Audit),
    /// Tools for plugin authors: run, check, new.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Download a consistent copy of a running host's database to DEST.
    Backup {
        /// The file to write; it must not exist yet.
        destination: PathBuf,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Put a backup in place as the database of --config (the host must be stopped).
    Restore {
        /// The backup file.
        source: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Shrink the database file of --config to what it holds (the host must
    /// be stopped; retention frees space that later commits reuse anyway).
    Compact(ConfigArg),
    /// Print a shell completion script, e.g. `inbound completions bash > /etc/bash_completion.d/inbound`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `inbound man > /usr/local/share/man/man1/inbound.1`.
    Man,
}

pub fn init_logging(format: LogFormat, command: &Command) {
    // The plugin tools print the plugin's log lines and failures in their
    // report; the host's copy of each on stderr would show everything twice.
    let default = if matches!(command, Command::Plugin(_)) {
        "info,plugin=off,inbound::ingest::failure=off,refinery_core=warn"
    } else {
        "info,refinery_core=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("INBOUND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only for a person at a terminal, never into log files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(inbound::log_output::ControlFreeStderr { colours: ansi })
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let config = Config::load(&args.config)?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?
                .block_on(inbound::server::serve(config))
        }
        Command::Check(args) => {
            let config = Config::load(&args.config)?;
            // Plugins, their settings and storage, as `serve` would meet them.
            let checked = inbound::preflight::check(&config)?;
            for warning in config.warnings().iter().chain(&checked.warnings) {
                eprintln!("warning: {warning}");
            }
            println!("{}: ok", config.file.display());
            for (integration, plugin, version) in &checked.plugins {
                println!("integration {integration:?}: {plugin} (inbound:plugin@{version})");
            }
            if let Some(days) = checked.tls_days_left {
                let soon = if days < inbound::app::tls::EXPIRY_WARNING_DAYS {
                    ": renew it soon"
                } else {
                    ""
                };
                println!("server.tls: the certificate is valid for {days} more days{soon}");
            }
            sources::print(&config);
            Ok(())
        }
        Command::Reload(remote) => remote::reload(&remote),
        Command::Sources(command) => sources::run(command),
        Command::Incidents(command) => incidents::run(command),
        Command::Failed(command) => failed::run(command),
        Command::Notifications(command) => notifications::run(command),
        Command::Oncall(args) => notifications::oncall(args),
        Command::Maintenance(command) => noise::maintenance(command),
        Command::Heartbeats(command) => noise::heartbeats(command),
        Command::People(command) => people::run(command),
        Command::Audit(args) => people::audit(args),
        Command::Plugin(command) => plugin::run(command),
        Command::Backup { destination, remote } => backup::backup(&destination, &remote),
        Command::Restore { source, config } => backup::restore(&source, &config),
        Command::Compact(args) => backup::compact(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "inbound", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .context("cannot write the man page"),
    }
}
