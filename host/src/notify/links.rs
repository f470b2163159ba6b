//! One-click accept and resolve links: `<public_url>/ack/<token>`.
//!
//! The token is `base64url(claims JSON) . base64url(HMAC-SHA256(secret,
//! claims))`: bound to the incident, the action, who it was sent to and an
//! expiry, so it cannot be altered or reused for another incident. The host
//! keeps nothing per token; changing the secret revokes every link.

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

    /// The claims of a token this host signed and that has not expired at `now` (seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, LinkError> {
        let (payload, tag) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkError::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Invalid)?;
        // verify_slice compares in constant time.
        self.mac(&payload).verify_slice(&tag).map_err(|_| LinkError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| LinkError::Invalid)?;
        if now > claims.expires {
            return Err(LinkError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let signer = LinkSigner::new("secret-0123456789abcdefghij");
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token, 1000), Ok(claims()));
        assert_eq!(signer.verify(&token, 1001), Err(LinkError::Expired));
    }

    #[test]
    fn a_changed_token_or_another_secret_is_refused() {
        let signer = LinkSigner::new("secret-0123456789abcdefghij");
        let token = signer.sign(&claims());
        let other = LinkSigner::new("other-secret-0123456789abcdef");
        assert_eq!(other.verify(&token, 0), Err(LinkError::Invalid));
        let mut forged = claims();
        forged.incident = 43;
        let (_, tag) = token.split_once('.').unwrap();
        let forged =
            format!("{}.{tag}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()));
        assert_eq!(signer.verify(&forged, 0), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", 0), Err(LinkError::Invalid));
    }
}
