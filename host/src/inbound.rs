//! inbound: a self-hosted integration host that turns webhooks from alert
//! sources into incidents, through sandboxed WebAssembly plugins.
//!
//! - [`app`]: the running application: live state from the config, reload.
//! - [`config`]: `config.toml`, typed and validated.
//! - [`harness`]: run a plugin on the real runtime from `cargo test`.
//! - [`http`]: the axum routes.
//! - [`ingest`]: one webhook through its plugin into a durable commit.
//! - [`plugin`]: the wasmtime engine, components, limits and the host API.
//! - [`respond`]: people accepting and resolving incidents.
//! - [`server`]: wiring, signals and reload.
//! - [`store`]: redb tables, the incident model and group commit.
//! - [`telemetry`]: Prometheus metrics.
//! - [`ui`]: the web console under `/ui/`.

pub mod app;
pub mod config;
pub mod harness;
pub mod http;
pub mod ingest;
pub mod plugin;
pub mod respond;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod ui;
