//! People's console passwords: Argon2id hashes (PHC strings) kept in the
//! database, never in the config. Hashing costs tens of milliseconds on
//! purpose: run these off the async runtime (`spawn_blocking`).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// Shorter passwords are refused when set.
pub const MIN_LENGTH: usize = 12;
/// Longer ones too: hashing a megabyte on every sign-in would be a way to
/// make the host work.
pub const MAX_LENGTH: usize = 1024;

/// Password checks running at once: each takes a core and 19 MiB for tens
/// of milliseconds, so a crowd of sign-ins waits rather than exhausting the
/// machine.
const AT_ONCE: usize = 4;

/// A turn to check a password; hold it while hashing.
pub async fn verifying() -> tokio::sync::SemaphorePermit<'static> {
    static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);
    TURNS.acquire().await.expect("the semaphore is never closed")
}

/// Why a new password is refused.
pub fn refusal(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Some(format!("a password needs at least {MIN_LENGTH} characters; this one has {length}"))
    } else if password.len() > MAX_LENGTH {
        Some(format!("a password may have at most {MAX_LENGTH} bytes"))
    } else if password.chars().all(|c| password.starts_with(c)) {
        Some("a password of one character repeated is easy to guess".into())
    } else {
        None
    }
}

/// The Argon2id hash of `password` with a fresh random salt, as a PHC string.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2id with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches `stored`. With no stored hash (an unknown
/// person, or one without a password) a hash is still computed, so the
/// time taken does not tell which names exist.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not a password anyone has"));
    let (hash, real) = match stored {
        Some(stored) => (stored, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        tracing::warn!("a stored password hash cannot be read; set the password again");
        return false;
    };
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_own_hash_only() {
        let stored = hash("correct horse battery");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify(Some(&stored), "correct horse battery"));
        assert!(!verify(Some(&stored), "correct horse batterY"));
        assert!(!verify(None, "correct horse battery"));
        assert!(!verify(Some("not a hash"), "x"));
        assert_ne!(stored, hash("correct horse battery"), "each hash has its own salt");
    }

    #[test]
    fn short_or_repeated_passwords_are_refused() {
        assert!(refusal("short").unwrap().contains("at least 12"));
        assert!(refusal(&"a".repeat(20)).unwrap().contains("repeated"));
        assert!(refusal(&"ab".repeat(600)).unwrap().contains("at most"));
        assert_eq!(refusal("a long enough passphrase"), None);
    }
}
