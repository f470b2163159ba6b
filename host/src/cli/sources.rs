//! `inbound sources add|list`.

use super::ConfigArg;
use super::output::OutputArg;
use anyhow::Context;
use clap::Subcommand;
use inbound::config::Config;
use inbound::config::edit::{NewSource, append_source, generate_key};

#[derive(Subcommand)]
pub enum Command {
    /// Append a source to the configuration file (keeping its comments and
    /// layout), with a new random key, and print its webhook URL.
    Add {
        /// A unique name, e.g. "support".
        #[arg(long)]
        name: String,
        /// Which integration handles its webhooks, e.g. "zendesk".
        #[arg(long)]
        integration: String,
        /// The escalation policy its incidents get.
        #[arg(long)]
        escalation_policy: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print every source with its webhook URL.
    List {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        output: OutputArg,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add { name, integration, escalation_policy, config } => {
            let file = config.config;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let key = generate_key();
            let source = NewSource {
                name: &name,
                integration: &integration,
                escalation_policy: &escalation_policy,
                key: &key,
            };
            let changed = append_source(&text, &source).map_err(anyhow::Error::msg)?;
            // Validate the whole result before touching the file: a typo in
            // an option must not leave a broken config behind.
            let config = Config::parse(&file, &changed).context("the source was not added")?;
            // The file holds keys and tokens: its mode, owner and symlink stay.
            inbound::files::replace_keeping_metadata(&file, changed.as_bytes())
                .context("the source was not added")?;
            let added =
                config.sources.iter().find(|s| s.name == name).expect("the source was just added");
            println!("added source {name:?} to {}", file.display());
            println!("webhook URL: {}", config.webhook_url(added));
            println!(
                "Reload a running host to start receiving: inbound reload (or kill -HUP <pid>)."
            );
            Ok(())
        }
        Command::List { config, output } => {
            let config = Config::load(&config.config)?;
            if output.is_json() {
                let sources: Vec<serde_json::Value> = config
                    .sources
                    .iter()
                    .map(|source| {
                        serde_json::json!({
                            "name": source.name,
                            "integration": source.integration,
                            "escalation_policy": source.escalation_policy,
                            "webhook_url": config.webhook_url(source),
                        })
                    })
                    .collect();
                println!("{:#}", serde_json::json!({ "sources": sources }));
            } else {
                print(&config);
            }
            Ok(())
        }
    }
}

/// One line per source: name, integration, escalation policy, webhook URL.
pub fn print(config: &Config) {
    if config.sources.is_empty() {
        println!("no sources; add one with `inbound sources add`");
    }
    for source in &config.sources {
        println!(
            "source {:?} ({}, escalation policy {:?}): {}",
            source.name,
            source.integration,
            source.escalation_policy,
            config.webhook_url(source)
        );
    }
    for heartbeat in &config.heartbeats {
        println!(
            "heartbeat {:?} (every {} minutes, grace {}, escalation policy {:?}): POST {}/api/v1/heartbeats/{}",
            heartbeat.name,
            heartbeat.interval_minutes,
            heartbeat.grace_minutes,
            heartbeat.escalation_policy,
            config.public_url(),
            heartbeat.key.as_deref().unwrap_or_default()
        );
    }
}
