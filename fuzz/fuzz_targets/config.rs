//! `config.toml` parsing and validation: any text gives a config or an
//! error naming the file, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

// The host crate links wasmtime; building it with the fuzzer's
// instrumentation would take as long as the rest of CI. The config module
// depends on nothing else in the host, so its source files are compiled here
// on their own. If it ever needs more of the host, this stops compiling and
// says so.
#[allow(dead_code)]
#[path = "../../host/src"]
mod host {
    pub mod config;
}
// The roles people and tokens are given in the config.
#[allow(dead_code)]
#[path = "../../host/src/roles.rs"]
mod roles;

use host::config::{Config, ConfigError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Config::parse(Path::new("fuzz.toml"), text) {
        Ok(config) => {
            for source in &config.sources {
                assert!(source.key().chars().count() >= host::config::MIN_KEY_CHARS);
                let _ = config.webhook_url(source);
            }
        }
        Err(error @ ConfigError::Invalid { .. }) => assert!(error.to_string().starts_with("fuzz.toml")),
        Err(ConfigError::Read { .. }) => unreachable!("nothing is read from disk"),
    }
});
