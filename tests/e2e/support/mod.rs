//! Test support: runs the real `inbound` binary on a free port with a fresh
//! data directory and the real plugin `.wasm`, and talks to it over HTTP.
//!
//! - [`host`]: a running host and the requests tests make to it.
//! - [`configs`]: the configs and payloads tests start from.
//! - [`cli`]: the binary's other commands, run to completion.
//! - [`raw_http`]: answers read off a raw TCP connection.
//! - [`console`]: signing in to the web console without a browser.
//! - [`authority`]: certificates signed by a CA of the test's own.

mod authority;
pub mod browser;
mod cli;
mod configs;
mod console;
mod host;
pub mod oidc_provider;
pub mod postgres;
mod raw_http;

pub use authority::Authority;
pub use cli::{inbound, serve_expecting_failure};
pub use configs::{
    plugins_config, postgres_storage, storage_section, ticket, zendesk_config, zendesk_config_on,
};
pub use console::{ConsoleSession, console_sign_in, cookie, person_sign_in};
pub use host::Host;
pub use raw_http::read_raw_answer;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub const KEY: &str = "test-key-0123456789abcdefghij";
/// The API token the test config declares, named "ops".
pub const TOKEN: &str = "test-token-0123456789abcdefghij";

/// The workspace's target folder, where `make plugins` puts the components.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn plugin_wasm(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let path = target.join("wasm32-wasip2/release").join(format!("inbound_{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: build the plugins first with `make plugins` (make test does it)",
        path.display()
    );
    path
}

/// A port nothing listens on now (the OS picks it; a moment later it may
/// be taken, which the callers' retries or failures make visible).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Calls `ready` every 20 ms until it is true or `deadline` has passed.
pub fn poll(deadline: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + deadline;
    loop {
        if ready() {
            return true;
        }
        if std::time::Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sets its flag when dropped: put one at the top of a `thread::scope`
/// whose workers loop until the flag is set, and the scope ends whether its
/// body returns or an assertion in it fails (a failure then fails the test
/// instead of leaving the workers, and the test, running forever).
pub struct StopOnDrop<'a>(pub &'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The environment variable that lets named checks be skipped where what
/// they need is missing, e.g. `INBOUND_TEST_ALLOW_SKIP=storage-failures,systemd`
/// (the names are in docs/testing.md).
pub const ALLOW_SKIP: &str = "INBOUND_TEST_ALLOW_SKIP";

/// Says a check cannot run here: `why`, and `remedy` (what to install or
/// how to run the tests). A skip is a failure unless [`ALLOW_SKIP`] names
/// the check (`name`): then this prints SKIPPED and returns, and the caller
/// goes on without that check.
#[track_caller]
pub fn cannot_check(name: &str, why: &str, remedy: &str) {
    let allowed = std::env::var(ALLOW_SKIP).unwrap_or_default();
    if allowed.split(',').any(|allowed| allowed.trim() == name) {
        eprintln!("SKIPPED ({ALLOW_SKIP} names {name}): {why}");
        return;
    }
    panic!("{why}: {remedy}, or set {ALLOW_SKIP}={name} to skip this check");
}
