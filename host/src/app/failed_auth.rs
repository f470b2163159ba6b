//! Failed token attempts per client: the API's bearer tokens and the
//! console's sign-in form (`[api] failed_auth_per_minute`).
//!
//! Each attempt reserves one failure of its client's quota *before* its
//! token is compared, and a right token gives it back. A client whose
//! quota is used up is refused without its token being compared, a right
//! one too: otherwise every guess past the limit would still be checked
//! (and answered differently when right), and the limit would not limit
//! guessing at all. Reserving first also holds the count exactly under
//! concurrency: parallel connections cannot all slip through while one
//! block ends. The price: people sharing the guesser's address (a NAT, a
//! /64, a proxy not in `server.trusted_proxies`) wait with it until its
//! quota refills. Signed-in console sessions are not affected.
//!
//! The quota is a leaky bucket (GCRA): `per_minute` failures at once, then
//! one more every `60 / per_minute` seconds.

use super::clients::limit_key;
use super::limits::retry_after_seconds;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many clients with failures are remembered; beyond it those whose
/// failures have drained are forgotten, then the half that owes least (a
/// flood from many addresses must not grow the map).
const MAX_CLIENTS: usize = 10_000;
/// Drained clients are also forgotten every this many attempts.
const FORGET_EVERY: u64 = 1024;

/// A client made too many failed token attempts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "too many failed token attempts from {client} ([api] failed_auth_per_minute): its tokens are not checked until its quota refills; retry after {seconds} s"
)]
pub struct TooManyFailedAttempts {
    pub client: IpAddr,
    pub seconds: u32,
    /// The first refusal since the client was last admitted: worth one log
    /// line, not one per attempt.
    pub first: bool,
}

/// What one client owes.
struct Debt {
    /// When its bucket will be empty again (GCRA's theoretical arrival time).
    empty_at: Instant,
    /// Refused since it was last admitted.
    refusing: bool,
}

pub struct FailedAuth {
    /// The time one failure takes to drain.
    interval: Duration,
    /// The most that may be owed at once: `per_minute` failures.
    capacity: Duration,
    debts: Mutex<HashMap<IpAddr, Debt>>,
    /// Attempts so far, for forgetting drained clients.
    attempts: AtomicU64,
}

impl FailedAuth {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32) -> Option<FailedAuth> {
        if per_minute == 0 {
            return None;
        }
        let interval = Duration::from_secs(60) / per_minute;
        Some(FailedAuth {
            interval,
            capacity: interval * per_minute,
            debts: Mutex::new(HashMap::new()),
            attempts: AtomicU64::new(0),
        })
    }

    /// Before a token from `client` is compared: reserves one failure, or
    /// `Err` when its quota is used up (answer 429 without comparing).
    /// A right token must [`FailedAuth::refund`] it.
    pub fn reserve(&self, client: IpAddr) -> Result<(), TooManyFailedAttempts> {
        self.reserve_at(client, Instant::now())
    }

    /// The token `client` presented was right: the failure it reserved is
    /// given back.
    pub fn refund(&self, client: IpAddr) {
        self.refund_at(client, Instant::now());
    }

    fn reserve_at(&self, client: IpAddr, now: Instant) -> Result<(), TooManyFailedAttempts> {
        // An IPv6 client counts by its /64, as for the webhook rate limit.
        let key = limit_key(client);
        let mut debts = self.debts.lock().unwrap_or_else(|e| e.into_inner());
        let attempts = self.attempts.fetch_add(1, Ordering::Relaxed);
        if attempts.is_multiple_of(FORGET_EVERY) || debts.len() >= MAX_CLIENTS {
            forget_drained(&mut debts, now);
        }
        let debt = debts.entry(key).or_insert(Debt { empty_at: now, refusing: false });
        let empty_at = debt.empty_at.max(now) + self.interval;
        let owed = empty_at - now;
        if owed > self.capacity {
            let first = !debt.refusing;
            debt.refusing = true;
            let wait = owed - self.capacity;
            return Err(TooManyFailedAttempts {
                client,
                seconds: retry_after_seconds(wait),
                first,
            });
        }
        *debt = Debt { empty_at, refusing: false };
        Ok(())
    }

    fn refund_at(&self, client: IpAddr, now: Instant) {
        let key = limit_key(client);
        let mut debts = self.debts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(debt) = debts.get_mut(&key) {
            debt.empty_at = debt.empty_at.checked_sub(self.interval).unwrap_or(now);
            if debt.empty_at <= now {
                debts.remove(&key);
            }
        }
    }
}

/// Forgets clients that owe nothing; if too many still owe, the half that
/// owes least.
fn forget_drained(debts: &mut HashMap<IpAddr, Debt>, now: Instant) {
    debts.retain(|_, debt| debt.empty_at > now);
    if debts.len() >= MAX_CLIENTS {
        let mut ends: Vec<Instant> = debts.values().map(|debt| debt.empty_at).collect();
        ends.sort();
        let cut = ends[ends.len() / 2];
        debts.retain(|_, debt| debt.empty_at > cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_is_refused_past_its_quota_of_failures_and_others_are_not() {
        let guard = FailedAuth::new(3).unwrap();
        let (guesser, neighbour) = (ip("198.51.100.1"), ip("198.51.100.2"));
        let now = Instant::now();
        for _ in 0..3 {
            assert!(guard.reserve_at(guesser, now).is_ok());
        }
        let refused = guard.reserve_at(guesser, now).unwrap_err();
        assert_eq!(refused.seconds, 20, "one failure drains every 20 s");
        assert!(refused.first);
        assert!(!guard.reserve_at(guesser, now).unwrap_err().first, "logged once");
        assert!(guard.reserve_at(neighbour, now).is_ok());
    }

    #[test]
    fn right_tokens_give_their_reservation_back() {
        let guard = FailedAuth::new(2).unwrap();
        let (client, now) = (ip("198.51.100.1"), Instant::now());
        for _ in 0..100 {
            assert!(guard.reserve_at(client, now).is_ok());
            guard.refund_at(client, now);
        }
        assert!(guard.debts.lock().unwrap().is_empty(), "a client that owes nothing is forgotten");
        assert!(guard.reserve_at(client, now).is_ok());
        assert!(guard.reserve_at(client, now).is_ok());
        assert!(guard.reserve_at(client, now).is_err());
    }

    #[test]
    fn the_quota_refills_one_failure_per_interval() {
        let guard = FailedAuth::new(60).unwrap();
        let (client, start) = (ip("198.51.100.1"), Instant::now());
        for _ in 0..60 {
            assert!(guard.reserve_at(client, start).is_ok());
        }
        assert!(guard.reserve_at(client, start).is_err());
        let later = start + Duration::from_millis(2500);
        assert!(guard.reserve_at(client, later).is_ok());
        assert!(guard.reserve_at(client, later).is_ok());
        assert!(guard.reserve_at(client, later).is_err(), "2.5 s drained two failures");
    }

    #[test]
    fn an_ipv6_client_cannot_rotate_addresses_within_its_64() {
        let guard = FailedAuth::new(1).unwrap();
        let now = Instant::now();
        assert!(guard.reserve_at(ip("2001:db8:0:1::1"), now).is_ok());
        assert!(guard.reserve_at(ip("2001:db8:0:1::2"), now).is_err());
        assert!(guard.reserve_at(ip("2001:db8:0:2::1"), now).is_ok());
    }

    #[test]
    fn a_flood_from_many_addresses_is_bounded() {
        let guard = FailedAuth::new(10).unwrap();
        let now = Instant::now();
        for n in 0..(3 * MAX_CLIENTS as u32) {
            let _ = guard.reserve_at(IpAddr::V4(n.into()), now);
        }
        assert!(guard.debts.lock().unwrap().len() <= MAX_CLIENTS);
    }

    #[test]
    fn no_limit_when_zero() {
        assert!(FailedAuth::new(0).is_none());
    }
}
