//! How fast one source may fill the disk: a budget of stored bytes per
//! minute (`[plugins] stored_mib_per_minute`), counted in KiB by a GCRA
//! limiter. An event over the budget is refused before its commit, with the
//! time to wait; nothing of it is stored.

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

/// Zendesk ignores `Retry-After` of 60 s or more.
const MAX_RETRY_AFTER: u64 = 59;

pub struct StorageBudget {
    limiter: DefaultDirectRateLimiter,
    kib_per_minute: NonZeroU32,
}

/// A source stored more than its budget allows; retry after `seconds`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "this source stored more than its {mib_per_minute} MiB per minute (stored_mib_per_minute); nothing was stored, retry after {seconds} s"
)]
pub struct OverBudget {
    pub mib_per_minute: u32,
    pub seconds: u32,
}

impl StorageBudget {
    /// `None` when `mib_per_minute` is 0 (no budget).
    pub fn new(mib_per_minute: u32) -> Option<StorageBudget> {
        let kib_per_minute = NonZeroU32::new(mib_per_minute.saturating_mul(1024))?;
        // The whole minute's budget may be used in one burst.
        let limiter = RateLimiter::direct(Quota::per_minute(kib_per_minute));
        Some(StorageBudget { limiter, kib_per_minute })
    }

    /// Takes `bytes` from the budget, or says how long to wait.
    pub fn spend(&self, bytes: usize) -> Result<(), OverBudget> {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        let mib_per_minute = self.kib_per_minute.get() / 1024;
        let over = |seconds: u64| OverBudget {
            mib_per_minute,
            seconds: seconds.clamp(1, MAX_RETRY_AFTER) as u32,
        };
        let Some(kib) = NonZeroU32::new(kib) else { return Ok(()) };
        match self.limiter.check_n(kib) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Err(over(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)))
            }
            // More than a whole minute's budget in one event.
            Err(_) => Err(over(MAX_RETRY_AFTER)),
        }
    }
}

impl std::fmt::Debug for StorageBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StorageBudget({} KiB/min)", self.kib_per_minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minutes_budget_is_spent_then_refused_with_a_wait() {
        let budget = StorageBudget::new(1).unwrap();
        assert_eq!(budget.spend(512 << 10), Ok(()));
        assert_eq!(budget.spend(512 << 10), Ok(()));
        let refused = budget.spend(64 << 10).unwrap_err();
        assert_eq!(refused.mib_per_minute, 1);
        assert!((1..60).contains(&refused.seconds), "{refused:?}");
    }

    #[test]
    fn zero_means_no_budget() {
        assert!(StorageBudget::new(0).is_none());
    }
}
