//! One-click accept and resolve links: `<public_url>/ack/<token>`.
//!
//! The token is `base64url(claims JSON) . base64url(HMAC-SHA256(secret,
//! claims))`: bound to the incident, the action, who it was sent to and an
//! expiry, so it cannot be altered or reused for another incident. The host
//! keeps nothing per token; changing the secret revokes every link. A token
//! must also name a recipient the host could have sent it to, so even a
//! leaked secret cannot sign a link in a made-up name.

use crate::config::Config;
use crate::config::notify::MAX_NAME_CHARS;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkAction {
    Accept,
    Resolve,
}

impl LinkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Accept => "accept",
            LinkAction::Resolve => "resolve",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "i")]
    pub incident: u64,
    #[serde(rename = "a")]
    pub action: LinkAction,
    /// The person (or `channel NAME`) the link was sent to.
    #[serde(rename = "p")]
    pub person: String,
    /// The channel it was sent through, for the log ("via email link").
    #[serde(rename = "c")]
    pub channel: String,
    /// Unix seconds after which the link no longer works.
    #[serde(rename = "e")]
    pub expires: u64,
}

/// How the host names a channel recipient (a `channel:NAME` target) in a link.
const CHANNEL_RECIPIENT: &str = "channel ";

impl Claims {
    /// The person (or `channel NAME`) a link made for `recipient` names.
    pub fn recipient_name(recipient: &crate::store::Recipient) -> String {
        match &recipient.person {
            Some(person) => person.clone(),
            None => format!("{CHANNEL_RECIPIENT}{}", recipient.channel),
        }
    }

    /// The link names someone this host could have sent it to: a configured
    /// person, or `channel NAME` for the channel it names, which must be
    /// configured. Names longer than any configured one are refused unread.
    pub fn names_a_known_recipient(&self, config: &Config) -> bool {
        let longest = MAX_NAME_CHARS + CHANNEL_RECIPIENT.len();
        if self.person.chars().count() > longest || self.channel.chars().count() > MAX_NAME_CHARS {
            return false;
        }
        let person = config.person(&self.person).is_some()
            || self.person.strip_prefix(CHANNEL_RECIPIENT) == Some(self.channel.as_str());
        person && config.channel(&self.channel).is_some()
    }
}

/// Unix seconds at which a link made for a notification created at
/// `created_at` (milliseconds) stops working. Saturating: no setting can
/// wrap it around into the past, where every link would be born expired.
pub fn expires_at(created_at: u64, valid_hours: u64) -> u64 {
    (created_at / 1000).saturating_add(valid_hours.saturating_mul(3600))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not valid (it was changed, or the host's link secret changed)")]
    Invalid,
    #[error("this link has expired; accept or resolve the incident in the console or with the CLI")]
    Expired,
}

#[derive(Clone)]
pub struct LinkSigner {
    secret: Vec<u8>,
}

impl LinkSigner {
    pub fn new(secret: &str) -> Self {
        LinkSigner { secret: secret.as_bytes().to_vec() }
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(b"inbound-ack-v1.");
        mac.update(payload);
        mac
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialize");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The claims of a token this host signed for a recipient `config`
    /// knows, that has not expired at `now` (seconds). A correctly signed
    /// token naming anyone else is as invalid as a changed one.
    pub fn verify(&self, token: &str, now: u64, config: &Config) -> Result<Claims, LinkError> {
        let (payload, tag) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkError::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Invalid)?;
        // verify_slice compares in constant time.
        self.mac(&payload).verify_slice(&tag).map_err(|_| LinkError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| LinkError::Invalid)?;
        if !claims.names_a_known_recipient(config) {
            return Err(LinkError::Invalid);
        }
        if now > claims.expires {
            return Err(LinkError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ada, reached by email; a Slack channel notified as itself.
    fn config() -> (Config, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("n.wasm"), b"").unwrap();
        let text = r#"
[[channels]]
name = "email"
plugin = "n.wasm"
url = "https://mail.example.com/"

[[channels]]
name = "slack"
plugin = "n.wasm"
url = "https://hooks.example.com/"

[[people]]
name = "ada"
contacts = [{ channel = "email", address = "ada" }]
"#;
        (Config::parse(&dir.path().join("config.toml"), text).unwrap(), dir)
    }

    fn claims() -> Claims {
        Claims {
            incident: 42,
            action: LinkAction::Accept,
            person: "ada".into(),
            channel: "email".into(),
            expires: 1000,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let (config, _dir) = config();
        let signer = LinkSigner::new("secret-0123456789abcdefghij");
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token, 1000, &config), Ok(claims()));
        assert_eq!(signer.verify(&token, 1001, &config), Err(LinkError::Expired));
    }

    #[test]
    fn a_changed_token_or_another_secret_is_refused() {
        let (config, _dir) = config();
        let signer = LinkSigner::new("secret-0123456789abcdefghij");
        let token = signer.sign(&claims());
        let other = LinkSigner::new("other-secret-0123456789abcdef");
        assert_eq!(other.verify(&token, 0, &config), Err(LinkError::Invalid));
        let mut forged = claims();
        forged.incident = 43;
        let (_, tag) = token.split_once('.').unwrap();
        let forged =
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()));
        assert_eq!(signer.verify(&forged, 0, &config), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", 0, &config), Err(LinkError::Invalid));
    }

    /// Whoever holds the secret can sign anything; the host still acts
    /// only in the name of a recipient it has, through a channel it has.
    #[test]
    fn a_signed_token_naming_no_known_recipient_is_refused() {
        let (config, _dir) = config();
        let signer = LinkSigner::new("secret-0123456789abcdefghij");
        let channel =
            Claims { person: "channel slack".into(), channel: "slack".into(), ..claims() };
        assert_eq!(signer.verify(&signer.sign(&channel), 0, &config), Ok(channel.clone()));
        for forged in [
            Claims { person: "mallory".into(), ..claims() },
            Claims { person: "x".repeat(8000), ..claims() },
            Claims { channel: "pager".into(), ..claims() },
            Claims { person: "channel email".into(), ..channel.clone() },
            Claims { person: "channel pager".into(), channel: "pager".into(), ..claims() },
        ] {
            let token = signer.sign(&forged);
            assert_eq!(signer.verify(&token, 0, &config), Err(LinkError::Invalid), "{forged:?}");
        }
    }

    #[test]
    fn the_expiry_cannot_wrap_into_the_past() {
        assert_eq!(expires_at(1_700_000_000_000, 72), 1_700_000_000 + 72 * 3600);
        assert_eq!(expires_at(1_700_000_000_000, u64::MAX), u64::MAX);
        assert_eq!(expires_at(u64::MAX, 1), u64::MAX / 1000 + 3600);
        assert_eq!(expires_at(u64::MAX, u64::MAX / 3600), u64::MAX);
    }
}
