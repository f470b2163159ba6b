//! What the store keeps about people, beside incidents: password hashes,
//! console sessions and the audit trail. Engine-neutral types; each engine
//! keeps them in its own tables (redb `passwords`, `sessions`, `audit`;
//! PostgreSQL migration V3).
//!
//! Sessions live in the database so that any host serves any session and a
//! restart keeps them. A session is found by the SHA-256 of its cookie
//! value ([`session_key`]): the table holds nothing a browser could present.

use super::model::Millis;
use crate::roles::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Who a session or an audit entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Principal {
    /// A person from `[[people]]`.
    Person { name: String },
    /// A token from `[[api.tokens]]`, by name and the SHA-256 of its value,
    /// so a session opened with a token ends when the token is replaced.
    Token { name: String, digest: String },
}

impl Principal {
    /// The name the audit trail and the console show: `ada`, `token ci`.
    pub fn label(&self) -> String {
        match self {
            Principal::Person { name } => name.clone(),
            Principal::Token { name, .. } => format!("token {name}"),
        }
    }

    /// The person's name, if a person.
    pub fn person(&self) -> Option<&str> {
        match self {
            Principal::Person { name } => Some(name),
            Principal::Token { .. } => None,
        }
    }
}

/// One console session, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    pub principal: Principal,
    /// The role the session was opened with: a different role in the live
    /// config means the person's role changed, which ends the session.
    pub role: Role,
    /// Carried by every form of this session (`ui::csrf`).
    pub csrf: String,
    /// How the person signed in: `password`, `oidc` or `token`.
    pub method: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The client address it was opened from, for the audit trail.
    #[serde(default)]
    pub client: Option<String>,
}

/// The key a session is stored under: the SHA-256 of its cookie value, hex.
pub fn session_key(cookie_value: &str) -> String {
    Sha256::digest(cookie_value.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// One row of the audit trail: who did what, from where, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Given by the engine when stored; increasing with time. Zero before.
    #[serde(default)]
    pub id: u64,
    pub at: Millis,
    /// Who acted: `person ada`, `token ci`, or for a failed sign-in the
    /// name that was tried.
    pub actor: String,
    /// What was done, e.g. `sign_in`, `sign_in_failed`, `forbidden`,
    /// `reload`, `backup`, `set_password`, `notification_retry`.
    pub action: String,
    /// The client address the request came from, when known.
    #[serde(default)]
    pub client: Option<String>,
    /// What was acted on and how, in a sentence.
    pub detail: String,
}

/// Which audit entries to read: newest first, a page at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// Only entries with an id below this one (the cursor of the previous page).
    pub before: Option<u64>,
    pub limit: usize,
    /// Only entries of this action.
    pub action: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_stored_under_a_digest_of_its_cookie() {
        let key = session_key("cookie");
        assert_eq!(key.len(), 64);
        assert_ne!(key, session_key("cookie2"));
        assert!(!key.contains("cookie"));
    }

    #[test]
    fn principals_read_back_as_written() {
        let token = Principal::Token { name: "ci".into(), digest: "ab".into() };
        let json = serde_json::to_string(&token).unwrap();
        assert_eq!(serde_json::from_str::<Principal>(&json).unwrap(), token);
        assert_eq!(token.label(), "token ci");
        assert_eq!(Principal::Person { name: "ada".into() }.person(), Some("ada"));
    }
}
