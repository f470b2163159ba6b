//! `[ui]`: the web console's sign-in sessions, and `[ui.oidc]`, sign-in
//! through an OpenID Connect provider (docs/people.md).

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
    /// Sign-in through an OpenID Connect provider, beside passwords.
    pub oidc: Option<OidcConfig>,
}

/// `[ui.oidc]`: the authorization code flow with PKCE against `issuer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as its discovery document says it
    /// (`<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// Best from the environment (`client_secret_env`); resolved at load.
    pub client_secret: Option<String>,
    pub client_secret_env: Option<String>,
    /// Shown on the sign-in button: "Sign in with <name>".
    #[serde(default = "default_provider_name")]
    pub name: String,
    /// Which claim of the ID token names the person: `email` (matched to
    /// `[[people]] email`, and only when the provider says it is verified),
    /// or `preferred_username` or `sub` (matched to `[[people]] name`).
    #[serde(default = "default_match_claim")]
    pub match_claim: String,
    /// Accept an email the provider does not say is verified (some, like
    /// Microsoft Entra ID, never send `email_verified`). Only for a provider
    /// where nobody can set an address that is not theirs.
    #[serde(default)]
    pub trust_unverified_email: bool,
}

/// The claims a person may be matched by.
pub const MATCH_CLAIMS: [&str; 3] = ["email", "preferred_username", "sub"];

fn default_provider_name() -> String {
    "single sign-on".into()
}

fn default_match_claim() -> String {
    "email".into()
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig { enabled: true, session_minutes: 12 * 60, secure_cookie: false, oidc: None }
    }
}
