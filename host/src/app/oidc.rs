//! Sign-in through an OpenID Connect provider (`[ui.oidc]`): the
//! authorization code flow with PKCE, by the `openidconnect` crate. This
//! module speaks the protocol and matches the ID token to a person of
//! `[[people]]`; the console (`ui/pages/oidc.rs`) keeps the flow's state in
//! a cookie between the two legs and opens the session.
//!
//! The provider's discovery document and keys are fetched on first use and
//! kept for [`METADATA_TTL`], so a key rotation at the provider is picked up
//! without a restart.

use crate::config::OidcConfig;
use crate::config::notify::PersonConfig;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the provider's metadata and keys are trusted before they are
/// fetched again.
pub const METADATA_TTL: Duration = Duration::from_secs(600);

/// What the host keeps between sending the browser to the provider and its
/// return: in a cookie of the browser that started it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// The `state` the provider must send back (CSRF protection).
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
    /// The console path to return to after signing in.
    pub next: String,
}

/// Who the provider signed in: the claim `match_claim` names, as the ID
/// token says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub claim: String,
    pub value: String,
}

pub struct Oidc {
    settings: OidcConfig,
    redirect_uri: String,
    http: reqwest::Client,
    metadata: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Oidc {
    /// `public_url` is the host's: the provider sends browsers back to
    /// `<public_url>/ui/sign-in/oidc/callback`, which must be registered
    /// with it.
    pub fn new(settings: OidcConfig, public_url: &str) -> anyhow::Result<Oidc> {
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer steer
            // this host's requests elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        let redirect_uri = format!("{public_url}/ui/sign-in/oidc/callback");
        Ok(Oidc { settings, redirect_uri, http, metadata: Mutex::new(None) })
    }

    /// The provider's name, for the sign-in button.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The provider's URL to send the browser to, and the flow to keep
    /// until it comes back.
    pub async fn start(&self, next: String) -> Result<(String, Flow), String> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            next,
        };
        Ok((url.to_string(), flow))
    }

    /// Redeems `code` for an ID token, checks its signature, issuer,
    /// audience, expiry and nonce, and returns who it names.
    pub async fn finish(&self, code: String, flow: &Flow) -> Result<Identity, String> {
        let client = self.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| format!("the provider has no token endpoint: {error}"))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| format!("the provider refused the code: {}", describe(&error)))?;
        let id_token = tokens.id_token().ok_or("the provider sent no ID token")?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(flow.nonce.clone()))
            .map_err(|error| format!("the ID token is not valid: {error}"))?;
        let claim = self.settings.match_claim.clone();
        let value = match claim.as_str() {
            "email" => {
                // A missing claim is not a yes: on some providers people
                // can set any address, an admin's included.
                let verified = claims.email_verified() == Some(true);
                if !verified && !self.settings.trust_unverified_email {
                    return Err("the provider does not say this email address is verified (set [ui.oidc] trust_unverified_email only if nobody there can set an address that is not theirs)".into());
                }
                claims.email().map(|email| email.as_str().to_string())
            }
            "preferred_username" => {
                claims.preferred_username().map(|name| name.as_str().to_string())
            }
            _ => Some(claims.subject().as_str().to_string()),
        };
        let value = value.ok_or_else(|| format!("the ID token has no {claim} claim"))?;
        Ok(Identity { claim, value })
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        String,
    > {
        let metadata = self.metadata().await?;
        let secret = self.settings.client_secret.clone().unwrap_or_default();
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|error| format!("the callback URL is not valid: {error}"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect))
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata, String> {
        if let Some((fetched, metadata)) = &*self.metadata.lock().expect("metadata lock")
            && fetched.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|error| format!("the issuer URL is not valid: {error}"))?;
        let metadata =
            CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|error| {
                format!(
                    "the provider {} cannot be reached or read: {}",
                    self.settings.issuer,
                    describe(&error)
                )
            })?;
        *self.metadata.lock().expect("metadata lock") = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }
}

/// The person `identity` names: by email, or by name.
pub fn person<'a>(people: &'a [PersonConfig], identity: &Identity) -> Option<&'a PersonConfig> {
    people.iter().find(|person| match identity.claim.as_str() {
        "email" => {
            person.email.as_deref().is_some_and(|email| email.eq_ignore_ascii_case(&identity.value))
        }
        _ => person.name == identity.value,
    })
}

/// An error and its causes, in one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;

    fn person(name: &str, email: Option<&str>) -> PersonConfig {
        PersonConfig {
            name: name.into(),
            role: Role::Viewer,
            email: email.map(str::to_string),
            contacts: Vec::new(),
            rules: Vec::new(),
        }
    }

    #[test]
    fn people_are_matched_by_email_without_case_or_by_name() {
        let people = [person("ada", Some("Ada@Example.test")), person("grace", None)];
        let by_email = Identity { claim: "email".into(), value: "ada@example.TEST".into() };
        assert_eq!(super::person(&people, &by_email).unwrap().name, "ada");
        let by_name = Identity { claim: "preferred_username".into(), value: "grace".into() };
        assert_eq!(super::person(&people, &by_name).unwrap().name, "grace");
        let unknown = Identity { claim: "email".into(), value: "mallory@example.test".into() };
        assert!(super::person(&people, &unknown).is_none());
        // A name is not an email: grace has none.
        let grace_by_email = Identity { claim: "email".into(), value: "grace".into() };
        assert!(super::person(&people, &grace_by_email).is_none());
    }
}
