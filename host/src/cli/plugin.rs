//! `inbound plugin ...`: the commands plugin authors use. Each lives in its
//! own module; `main.rs` only dispatches to [`run`].

mod check;
mod new;
mod run;

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Send request files to a plugin on the host's runtime and a temporary
    /// database; print the answer, actions, logs, time and memory of each.
    /// Exits non-zero if an answer is not 2xx.
    Run {
        /// The plugin component (.wasm).
        plugin: PathBuf,
        /// The source's settings: a JSON object, or a .json or .toml file
        /// holding what the source's `settings` table in config.toml would.
        #[arg(long)]
        settings: Option<String>,
        /// A request header, `name: value`; repeatable.
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// The source name the plugin sees.
        #[arg(long, default_value = "test")]
        source: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Request bodies, sent in order to the same source and database.
        #[arg(required = true)]
        requests: Vec<PathBuf>,
    },
    /// Validate a plugin component exactly as `inbound serve` does at
    /// start-up: compile, check its world, link.
    Check {
        /// The plugin component (.wasm).
        plugin: PathBuf,
    },
    /// Create a plugin crate with a fixture test that uses the harness.
    New {
        /// The crate name, e.g. `my-alerts`.
        name: String,
        /// Where to create it (default: ./NAME).
        #[arg(long)]
        path: Option<PathBuf>,
        /// An inbound checkout to take the SDK and harness from (default:
        /// the checkout the target folder is in).
        #[arg(long, env = "INBOUND_REPO")]
        inbound_repo: Option<PathBuf>,
    },
}

pub fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Run { plugin, settings, headers, source, json, requests } => {
            run::run(&run::RunArgs { plugin, settings, headers, source, json, requests })
        }
        PluginCommand::Check { plugin } => check::check(&plugin),
        PluginCommand::New { name, path, inbound_repo } => new::new(&name, path, inbound_repo),
    }
}
