//! Bearer tokens for the incidents API, `/metrics` and admin routes.
//!
//! Tokens are compared as SHA-256 digests in constant time, so neither the
//! content nor the length of a configured token leaks through timing.

use crate::config::ApiToken;
use crate::roles::Role;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who made an authenticated request, and what they may do.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The token's name, or the person's, from config.
    pub name: String,
    pub role: Role,
    pub kind: CallerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// A machine with a token from `[[api.tokens]]`.
    Token,
    /// A person from `[[people]]`, signed in to the console.
    Person,
}

impl Caller {
    /// How the incident log names changes this caller made: `user ci` for
    /// a token, `ada in the console` for a person.
    pub fn actor(&self) -> String {
        match self.kind {
            CallerKind::Token => format!("user {}", self.name),
            CallerKind::Person => format!("{} in the console", self.name),
        }
    }

    /// How the audit trail names the caller: `token ci`, `person ada`.
    pub fn principal(&self) -> String {
        match self.kind {
            CallerKind::Token => format!("token {}", self.name),
            CallerKind::Person => format!("person {}", self.name),
        }
    }
}

/// The configured tokens, kept only as digests.
pub struct Tokens {
    known: Vec<(String, Role, [u8; 32])>,
}

impl Tokens {
    pub fn new(tokens: &[ApiToken]) -> Tokens {
        let known = tokens
            .iter()
            .map(|token| {
                let secret = token.token.as_deref().unwrap_or_default();
                (token.name.clone(), token.effective_role(), digest(secret))
            })
            .collect();
        Tokens { known }
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The caller whose token matches; every token is compared.
    pub fn find(&self, presented: &str) -> Option<Caller> {
        let presented = digest(presented);
        let mut found = None;
        for (name, role, known) in &self.known {
            if bool::from(known.ct_eq(&presented)) {
                found = Some(Caller { name: name.clone(), role: *role, kind: CallerKind::Token });
            }
        }
        found
    }

    /// The caller of token `name` if its value still has this digest
    /// ([`digest_hex`]): a replaced token no longer matches.
    pub fn find_by_digest(&self, name: &str, digest: &str) -> Option<Caller> {
        self.known
            .iter()
            .find(|(known, _, value)| known == name && digest_hex_of(value) == digest)
            .map(|(name, role, _)| Caller {
                name: name.clone(),
                role: *role,
                kind: CallerKind::Token,
            })
    }
}

fn digest_hex_of(digest: &[u8; 32]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The SHA-256 of a token, hex: how a console session opened with it
/// remembers it without holding it.
pub fn digest_hex(token: &str) -> String {
    digest_hex_of(&digest(token))
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[
            ApiToken {
                name: "ops".into(),
                token: Some("a".repeat(32)),
                token_env: None,
                role: None,
            },
            ApiToken {
                name: "ci".into(),
                token: Some("b".repeat(32)),
                token_env: None,
                role: Some(Role::Viewer),
            },
        ])
    }

    #[test]
    fn the_matching_token_names_the_caller_and_its_role() {
        let ci = tokens().find(&"b".repeat(32)).unwrap();
        assert_eq!((ci.name.as_str(), ci.role), ("ci", Role::Viewer));
        // No role written: full access for one release.
        assert_eq!(tokens().find(&"a".repeat(32)).unwrap().role, Role::Admin);
    }

    #[test]
    fn a_session_finds_its_token_by_digest_until_the_token_changes() {
        let ci = tokens().find_by_digest("ci", &digest_hex(&"b".repeat(32))).unwrap();
        assert_eq!(ci.role, Role::Viewer);
        assert!(tokens().find_by_digest("ci", &digest_hex("another value")).is_none());
        assert!(tokens().find_by_digest("ops", &digest_hex(&"b".repeat(32))).is_none());
    }

    #[test]
    fn a_prefix_or_a_wrong_token_is_refused() {
        assert!(tokens().find(&"a".repeat(31)).is_none());
        assert!(tokens().find("").is_none());
        assert!(Tokens::new(&[]).find("anything").is_none());
    }
}
