//! The one rule every door follows, the API's bearer tokens and the
//! console's sign-in form: each attempt reserves a failure of its client's
//! quota before its token is compared ([`super::FailedAuth`]), so a client
//! over the quota is refused without its token being compared; a right
//! token, or none, gives the reservation back.

use super::{Caller, Live, TooManyFailedAttempts};
use std::net::IpAddr;

/// Why a token did not sign anyone in.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The client is over its quota: its token was not compared.
    Blocked(TooManyFailedAttempts),
    /// No token was presented: nothing was compared or counted.
    Missing,
    /// The token is none of the host's; it counts against the client.
    Wrong,
}

impl Live {
    /// The caller `presented` belongs to, as asked by `client` (`None` when
    /// the address is unknown: then nothing is counted).
    pub fn authenticate(
        &self,
        client: Option<IpAddr>,
        presented: Option<&str>,
    ) -> Result<Caller, Refused> {
        self.reserve_attempt(client).map_err(Refused::Blocked)?;
        match presented {
            None => {
                self.refund_attempt(client);
                Err(Refused::Missing)
            }
            Some(token) => match self.tokens.find(token) {
                Some(caller) => {
                    self.refund_attempt(client);
                    Ok(caller)
                }
                None => Err(Refused::Wrong),
            },
        }
    }

    /// Reserves one failure of `client`'s quota before a credential is
    /// checked (a token here, a password in the console); refused, unchecked,
    /// when the quota is spent.
    pub fn reserve_attempt(&self, client: Option<IpAddr>) -> Result<(), TooManyFailedAttempts> {
        match self.failed_auth.as_ref().zip(client) {
            Some((guard, client)) => guard.reserve(client),
            None => Ok(()),
        }
    }

    /// Gives back what [`Live::reserve_attempt`] took: the credential was right.
    pub fn refund_attempt(&self, client: Option<IpAddr>) {
        if let Some((guard, client)) = self.failed_auth.as_ref().zip(client) {
            guard.refund(client);
        }
    }
}
