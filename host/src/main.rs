//! The `inbound` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use inbound::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "inbound", version, about = "Turns webhooks from alert sources into incidents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host: receive webhooks and serve the incident API.
    Serve {
        /// The configuration file.
        #[arg(long, short, default_value = "config.toml", env = "INBOUND_CONFIG")]
        config: PathBuf,
    },
    /// Validate the configuration and print each source's webhook URL.
    Check {
        #[arg(long, short, default_value = "config.toml", env = "INBOUND_CONFIG")]
        config: PathBuf,
    },
    /// Tools for plugin authors: run, check, new.
    Plugin {
        #[command(subcommand)]
        command: inbound::plugin_cli::PluginCommand,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("INBOUND_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for people: log files and pipes get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => {
            let config = Config::load(&config)?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?
                .block_on(inbound::server::serve(config))
        }
        Command::Check { config } => {
            let config = Config::load(&config)?;
            println!("{}: ok", config.file.display());
            for source in &config.sources {
                println!(
                    "source {:?} ({}, escalation policy {:?}): {}",
                    source.name,
                    source.integration,
                    source.escalation_policy,
                    config.webhook_url(source)
                );
            }
            Ok(())
        }
        Command::Plugin { command } => inbound::plugin_cli::run(command),
    }
}
