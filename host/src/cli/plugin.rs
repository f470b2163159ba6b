//! `inbound plugin ...`: the commands plugin authors use. Each lives in its
//! own module; `main.rs` only dispatches to [`run`].

mod candidate;
mod check;
mod new;
mod run;
mod test;

use super::output::OutputArg;
use super::remote::Remote;
use clap::{Args, Subcommand};
use inbound::plugin::CallLimits;
use std::path::PathBuf;
use std::time::Duration;

/// The per-call limits of `[plugins]`, `[integrations.NAME]` or a source in
/// config.toml, for a plugin that needs more than the defaults (Python).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// The per-call deadline, as `timeout_ms` in config.toml (default 100).
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// The per-call memory cap, as `memory_limit_mib` in config.toml (default 32).
    #[arg(long)]
    memory_limit_mib: Option<usize>,
}

impl LimitArgs {
    fn limits(&self) -> CallLimits {
        let defaults = CallLimits::default();
        CallLimits {
            timeout: self.timeout_ms.map_or(defaults.timeout, Duration::from_millis),
            memory_bytes: self.memory_limit_mib.map_or(defaults.memory_bytes, |mib| mib << 20),
            ..defaults
        }
    }
}

#[derive(Subcommand)]
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
        #[command(flatten)]
        limits: LimitArgs,
        /// Request bodies, sent in order to the same source and database.
        #[arg(required = true)]
        requests: Vec<PathBuf>,
    },
    /// Run a plugin project's fixture files (DIR/tests/*.toml), each on a
    /// fresh temporary database, and report like `cargo test`. Exits
    /// non-zero if a test fails.
    Test {
        /// The plugin project (default: the current folder), its tests
        /// folder, or one fixture file.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The plugin component (.wasm); by default the one the project
        /// builds (cargo's target folder for a Rust crate, else the one
        /// .wasm file in DIR).
        #[arg(long)]
        plugin: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Validate a plugin component exactly as `inbound serve` does at
    /// start-up (compile, check its world, link) and show what it says about
    /// itself: name, version, the settings it accepts.
    Check {
        /// The plugin component (.wasm).
        plugin: PathBuf,
        /// Also judge a source's settings as `inbound serve` would at
        /// start-up: a JSON object, or a .json or .toml file.
        #[arg(long)]
        settings: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Create a plugin project with fixture tests for `inbound plugin test`.
    New {
        /// The plugin's name, e.g. `my-alerts`.
        name: String,
        /// Where to create it (default: ./NAME).
        #[arg(long)]
        path: Option<PathBuf>,
        /// The language to write it in.
        #[arg(long, value_enum, default_value = "rust")]
        lang: new::Lang,
        /// A copy of the SDK on disk to depend on (default: the published
        /// SDK, by version).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// Run a candidate plugin over a source's stored events on a running
    /// host, beside the live plugin, each on a scratch database (the live
    /// data is only read), and report where their outcomes differ.
    Replay {
        /// The candidate component (.wasm).
        plugin: PathBuf,
        /// The source whose events to replay.
        #[arg(long)]
        source: String,
        /// Only events received this long ago or later, e.g. 90m, 12h, 7d
        /// (default: every stored event).
        #[arg(long)]
        since: Option<String>,
        /// At most this many events, the newest (default 1000, at most 10000).
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Show what a source's [sources.shadow] plugin has judged on a running
    /// host: events it agreed on, those it did not, and the latest differences.
    Shadow {
        /// The source.
        source: String,
        #[command(flatten)]
        output: OutputArg,
        #[command(flatten)]
        remote: Remote,
    },
    /// Make a source's [sources.shadow] plugin live: config.toml is edited
    /// (comments kept) and checked; reload the host to apply it.
    Promote {
        /// The source.
        source: String,
        /// Also when other sources share the integration (their plugin changes too).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        config: super::ConfigArg,
    },
}

pub fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Run { plugin, settings, headers, source, json, limits, requests } => {
            let limits = limits.limits();
            run::run(&run::RunArgs { plugin, settings, headers, source, json, limits, requests })
        }
        PluginCommand::Check { plugin, settings, json, limits } => {
            check::check(&plugin, settings.as_deref(), &limits.limits(), json)
        }
        PluginCommand::Test { dir, plugin, limits } => test::test(&dir, plugin, &limits.limits()),
        PluginCommand::New { name, path, lang, sdk_path } => new::new(&name, path, lang, sdk_path),
        PluginCommand::Replay { plugin, source, since, limit, output, remote } => {
            candidate::replay(candidate::ReplayArgs {
                candidate: &plugin,
                source: &source,
                since: since.as_deref(),
                limit,
                output,
                remote: &remote,
            })
        }
        PluginCommand::Shadow { source, output, remote } => {
            candidate::shadow(&source, output, &remote)
        }
        PluginCommand::Promote { source, all, config } => {
            candidate::promote(&source, all, &config.config)
        }
    }
}
