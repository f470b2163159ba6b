//! Failed token attempts per client: the API's bearer tokens and the
//! console's sign-in form. Tokens are 128-bit secrets, so guessing one is
//! hopeless anyway; this keeps a client that tries from filling the log and
//! spending the host's time, and makes a leaked-token scan visible
//! (`[api] failed_auth_per_minute`).
//!
//! A right token always passes: a neighbour behind the same NAT, /64 or
//! unlisted proxy cannot lock anyone out. A wrong one from a client over its
//! quota gets 429 until the quota refills.

use super::clients::limit_key;
use super::limits::retry_after_seconds;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many blocked clients are remembered; beyond it the longest-blocked
/// half is forgotten (a flood from many addresses must not grow it).
const MAX_BLOCKED: usize = 10_000;
/// The failure counts of clients back at a full quota are forgotten every
/// this many failures: what is kept is the clients that failed within one
/// refill of their quota, bounded by the rate of failures, not their total.
const FORGET_EVERY: u64 = 1024;

/// A client made too many failed token attempts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "too many failed token attempts from {client} ([api] failed_auth_per_minute); retry after {seconds} s"
)]
pub struct TooManyFailedAttempts {
    pub client: IpAddr,
    pub seconds: u32,
}

pub struct FailedAuth {
    /// One cell per failed attempt.
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Clients over the quota, and until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    /// Failures counted so far, for forgetting idle clients.
    counted: AtomicU64,
}

impl FailedAuth {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32) -> Option<FailedAuth> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(FailedAuth {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: Mutex::new(HashMap::new()),
            counted: AtomicU64::new(0),
        })
    }

    /// After a wrong token from `client`: `Err` while it is blocked (answer
    /// 429, and do not count the attempt again).
    pub fn check(&self, client: IpAddr) -> Result<(), TooManyFailedAttempts> {
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.get(&limit_key(client)) {
            Some(until) if *until > Instant::now() => Err(TooManyFailedAttempts {
                client,
                seconds: retry_after_seconds(until.saturating_duration_since(Instant::now())),
            }),
            _ => Ok(()),
        }
    }

    /// `client` presented a token that is not one of the host's. True when
    /// this attempt used up its quota (log it once, not per attempt).
    pub fn failed(&self, client: IpAddr) -> bool {
        // An IPv6 client counts by its /64, as for the webhook rate limit.
        let client = limit_key(client);
        // One wrong token from each of many addresses never blocks anyone,
        // so their counts are forgotten here, not only when one is blocked.
        let counted = self.counted.fetch_add(1, Ordering::Relaxed);
        if counted.is_multiple_of(FORGET_EVERY) {
            self.failures.retain_recent();
        }
        let Err(not_until) = self.failures.check_key(&client) else { return false };
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if blocked.len() >= MAX_BLOCKED {
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() >= MAX_BLOCKED {
            let mut ends: Vec<Instant> = blocked.values().copied().collect();
            ends.sort();
            let cut = ends[ends.len() / 2];
            blocked.retain(|_, until| *until > cut);
        }
        // At least a second: a refill a few milliseconds away would let the
        // next attempt straight through.
        blocked.insert(client, now + wait.max(Duration::from_secs(1)));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_is_blocked_after_its_quota_of_failures_and_others_are_not() {
        let guard = FailedAuth::new(3).unwrap();
        let (guesser, neighbour) = (ip("198.51.100.1"), ip("198.51.100.2"));
        for _ in 0..3 {
            assert!(guard.check(guesser).is_ok());
            assert!(!guard.failed(guesser));
        }
        assert!(guard.failed(guesser), "the fourth failure is over the quota");
        let refused = guard.check(guesser).unwrap_err();
        assert!((1..=60).contains(&refused.seconds), "{refused:?}");
        assert!(guard.check(neighbour).is_ok());
    }

    #[test]
    fn an_ipv6_client_cannot_rotate_addresses_within_its_64() {
        let guard = FailedAuth::new(1).unwrap();
        assert!(!guard.failed(ip("2001:db8:0:1::1")));
        assert!(guard.failed(ip("2001:db8:0:1::2")));
        assert!(guard.check(ip("2001:db8:0:1::3")).is_err());
        assert!(guard.check(ip("2001:db8:0:2::1")).is_ok());
    }

    #[test]
    fn no_limit_when_zero() {
        assert!(FailedAuth::new(0).is_none());
    }
}
