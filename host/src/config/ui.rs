//! `[ui]`: the web console's sign-in sessions.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Serve the console under `/ui/`. Off: those paths answer 404.
    pub enabled: bool,
    /// A console session ends this long after sign-in; the person signs in
    /// again with their token.
    pub session_minutes: u64,
    /// Mark the session cookie `Secure` (sent over https only). Always on
    /// when `server.public_url` is an https URL; set it when a TLS proxy in
    /// front of the host has no public_url configured.
    pub secure_cookie: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig { enabled: true, session_minutes: 12 * 60, secure_cookie: false }
    }
}
