//! The end-to-end suites, in one test binary: each module runs the real
//! `inbound` binary (real HTTP, a real redb file or PostgreSQL database,
//! the real plugin `.wasm`) for one area of the product. One binary links
//! once, where a binary per suite linked the host 33 times.
//!
//! Run one suite by its module path: `cargo test --release -p inbound
//! --test e2e -- storage::`; `make test` runs them all, then the ones that
//! apply to PostgreSQL again with `INBOUND_TEST_STORAGE=postgres`
//! (docs/testing.md).

mod support;

mod abuse_limits;
mod alertmanager_e2e;
mod api;
mod backup;
mod bad_input;
mod candidates;
mod chat_channels;
mod client_limits;
mod concurrency;
mod config_errors;
mod crash_safety;
mod early_refusals;
mod escalation_clock;
mod file_permissions;
mod links;
mod migration;
mod monitoring;
mod noise;
mod notifications;
mod operations;
mod page_headers;
mod people;
mod phone_channels;
mod plugin_api_versions;
mod plugin_cache;
mod plugin_settings;
mod plugin_tools;
mod postgres;
mod reach;
mod refusal_log;
mod reverse_proxy;
mod sandbox;
mod service_files;
mod signatures;
mod storage;
mod storage_failures;
mod throttle;
mod tls;
mod two_way;
mod ui_browser;
mod zendesk_lifecycle;
