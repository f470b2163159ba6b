//! inbound: a self-hosted integration host that turns webhooks from alert
//! sources into incidents, through sandboxed WebAssembly plugins.
//!
//! - [`app`]: the running application: live state from the config, reload.
//! - [`config`]: `config.toml`, typed and validated.
//! - [`files`]: owner-only creation and metadata-keeping atomic rewrites.
//! - [`harness`]: run a plugin on the real runtime from `cargo test`.
//! - [`http`]: the JSON API: its routes, handlers and error type.
//! - [`ingest`]: one webhook through its plugin into a durable commit.
//! - [`log_output`]: log lines on stderr, free of raw control characters.
//! - [`notify`]: escalation, the notification outbox and notifier plugins.
//! - [`plugin`]: the wasmtime engine, components, limits and the host API.
//! - [`preflight`]: `inbound check` of plugins, settings and storage.
//! - [`request_extensions`]: what the shared layers and the handlers pass each other.
//! - [`respond`]: people accepting and resolving incidents.
//! - [`server`]: wiring, signals and reload; the API and the console composed under shared layers.
//! - [`store`]: redb tables, the incident model and group commit.
//! - [`telemetry`]: Prometheus metrics.
//! - [`ui`]: the web console under `/ui/`, a peer of [`http`].

pub mod app;
pub mod config;
pub mod files;
pub mod harness;
pub mod heartbeats;
pub mod http;
pub mod ingest;
pub mod log_output;
pub mod noise;
pub mod notify;
pub mod plugin;
pub mod preflight;
pub mod replay;
pub mod request_extensions;
pub mod respond;
pub mod retention;
pub mod roles;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod ui;
