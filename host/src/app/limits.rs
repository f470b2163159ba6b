//! Abuse limits on webhooks: a gate on how many are handled at once
//! (server-wide) and a rate limit per source (GCRA, from `governor`); the
//! limit per client is in `clients.rs`.

use crate::config::SourceConfig;
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What an overloaded host asks senders to wait: long enough for a spike to
/// drain, short enough that Zendesk retries.
pub const OVERLOADED_RETRY_AFTER: u32 = 5;

/// Zendesk ignores `Retry-After` of 60 s or more.
const MAX_RETRY_AFTER: u64 = 59;

/// The host already handles `max` webhooks (`server.max_concurrent_webhooks`).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "the host is already handling {max} webhooks (server.max_concurrent_webhooks); nothing was stored, retry"
)]
pub struct Overloaded {
    pub max: usize,
}

/// A source is over its rate limit; retry after `seconds`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "source {source_name:?} is over its rate limit (rate_limit_per_second, rate_limit_burst); nothing was stored, retry after {seconds} s"
)]
pub struct RateLimited {
    pub source_name: String,
    pub seconds: u32,
}

/// How many webhooks may be handled at once. Built with each config
/// version, so a reload starts a fresh gate (requests in flight keep their
/// permits on the old one).
pub struct WebhookGate {
    webhooks: Arc<Semaphore>,
    max: usize,
}

impl WebhookGate {
    pub fn new(max: usize) -> WebhookGate {
        WebhookGate { webhooks: Arc::new(Semaphore::new(max)), max }
    }

    /// Webhooks holding a place now (of this config version's gate).
    pub fn in_flight(&self) -> usize {
        self.max - self.webhooks.available_permits()
    }

    /// A place among the webhooks being handled, held until the answer.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, Overloaded> {
        self.webhooks.clone().try_acquire_owned().map_err(|_| Overloaded { max: self.max })
    }
}

/// One source's rate limit; `None` from [`RateLimit::for_source`] when the
/// source has none.
pub struct RateLimit {
    limiter: DefaultDirectRateLimiter,
}

impl RateLimit {
    pub fn for_source(source: &SourceConfig) -> Option<RateLimit> {
        let rate = NonZeroU32::new(source.rate_limit_per_second)?;
        let burst = NonZeroU32::new(source.rate_limit_burst).unwrap_or(rate);
        let limiter = RateLimiter::direct(Quota::per_second(rate).allow_burst(burst));
        Some(RateLimit { limiter })
    }

    /// One request of `source` against its limit.
    pub fn check(&self, source: &str) -> Result<(), RateLimited> {
        self.limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            RateLimited { source_name: source.to_string(), seconds: retry_after_seconds(wait) }
        })
    }
}

/// `Retry-After` for a limiter's wait: whole seconds, rounded up, at least
/// 1 and under Zendesk's 60.
pub fn retry_after_seconds(wait: std::time::Duration) -> u32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.clamp(1, MAX_RETRY_AFTER) as u32
}
