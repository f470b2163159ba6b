//! Abuse limits on the webhook route: a global cap on webhooks handled at
//! once (503, never an unbounded queue) and a per-source rate limit (429).
//!
//! Both answer with `Retry-After` under 60 s, because Zendesk retries a
//! failed delivery only when the header says so and is under a minute.

use super::ApiError;
use crate::config::Config;
use axum::http::StatusCode;
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What an overloaded host asks senders to wait: long enough for a spike to
/// drain, short enough that Zendesk retries.
pub const OVERLOADED_RETRY_AFTER: u32 = 5;

/// Zendesk ignores `Retry-After` of 60 s or more.
const MAX_RETRY_AFTER: u64 = 59;

pub struct Limits {
    webhooks: Arc<Semaphore>,
    max_webhooks: usize,
    /// By source name; a source without an entry is not rate limited.
    rates: HashMap<String, DefaultDirectRateLimiter>,
}

impl Limits {
    /// Built with each config version, so a reload starts fresh buckets and a
    /// fresh gate (requests in flight keep their permits on the old one).
    pub fn new(config: &Config) -> Limits {
        let rates = config
            .sources
            .iter()
            .filter_map(|source| {
                let rate = NonZeroU32::new(source.rate_limit_per_second)?;
                let burst = NonZeroU32::new(source.rate_limit_burst).unwrap_or(rate);
                Some((
                    source.name.clone(),
                    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
                ))
            })
            .collect();
        let max_webhooks = config.server.max_concurrent_webhooks;
        Limits { webhooks: Arc::new(Semaphore::new(max_webhooks)), max_webhooks, rates }
    }

    /// A place among the webhooks being handled, held until the answer.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.webhooks.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                format!(
                    "the host is already handling {} webhooks (server.max_concurrent_webhooks); nothing was stored, retry",
                    self.max_webhooks
                ),
            )
            .retry_after(OVERLOADED_RETRY_AFTER)
        })
    }

    /// Webhooks holding a place now (of this config version's gate).
    pub fn in_flight(&self) -> usize {
        self.max_webhooks - self.webhooks.available_permits()
    }

    /// One request of `source` against its rate limit.
    pub fn check_rate(&self, source: &str) -> Result<(), ApiError> {
        let Some(limiter) = self.rates.get(source) else { return Ok(()) };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).clamp(1, MAX_RETRY_AFTER);
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "source {source:?} is over its rate limit (rate_limit_per_second, rate_limit_burst); nothing was stored, retry after {seconds} s"
                ),
            )
            .retry_after(seconds as u32)
        })
    }
}
