//! Bearer tokens for the incidents API, `/metrics` and admin routes.
//!
//! Tokens are compared as SHA-256 digests in constant time, so neither the
//! content nor the length of a configured token leaks through timing.

use crate::config::ApiToken;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who made an authenticated request: the token's name from config.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
}

impl Caller {
    /// How the incident log names changes made with this token.
    pub fn actor(&self) -> String {
        format!("user {}", self.name)
    }
}

/// The configured tokens, kept only as digests.
pub struct Tokens {
    known: Vec<(String, [u8; 32])>,
}

impl Tokens {
    pub fn new(tokens: &[ApiToken]) -> Tokens {
        let known = tokens
            .iter()
            .map(|token| (token.name.clone(), digest(token.token.as_deref().unwrap_or_default())))
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
        for (name, known) in &self.known {
            if bool::from(known.ct_eq(&presented)) {
                found = Some(Caller { name: name.clone() });
            }
        }
        found
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[
            ApiToken { name: "ops".into(), token: Some("a".repeat(32)), token_env: None },
            ApiToken { name: "ci".into(), token: Some("b".repeat(32)), token_env: None },
        ])
    }

    #[test]
    fn the_matching_token_names_the_caller() {
        assert_eq!(tokens().find(&"b".repeat(32)).unwrap().name, "ci");
    }

    #[test]
    fn a_prefix_or_a_wrong_token_is_refused() {
        assert!(tokens().find(&"a".repeat(31)).is_none());
        assert!(tokens().find("").is_none());
        assert!(Tokens::new(&[]).find("anything").is_none());
    }
}
