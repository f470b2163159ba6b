//! The sources a webhook can address, each with everything its requests are
//! checked against: its key, signing secret and rate limit. One lookup by
//! key per webhook finds all of it.

use super::limits::RateLimit;
use super::signature::Signing;
use crate::ingest::Source;
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A configured source as a webhook meets it.
pub struct WebhookSource {
    pub source: Arc<Source>,
    /// Set when the source requires Zendesk signatures.
    pub signing: Option<Signing>,
    /// Set when the source has a rate limit.
    pub rate: Option<RateLimit>,
}

/// Why no source answers to a webhook URL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnknownSource {
    #[error("no source uses the integration {0:?}")]
    Integration(String),
    #[error("no {0} source has this key; copy the webhook URL from `inbound check`")]
    Key(String),
}

/// Every source, by integration.
#[derive(Default)]
pub struct WebhookSources {
    by_integration: HashMap<String, Vec<Arc<WebhookSource>>>,
}

impl WebhookSources {
    pub fn add(&mut self, source: WebhookSource) {
        let integration = source.source.integration.clone();
        self.by_integration.entry(integration).or_default().push(Arc::new(source));
    }

    /// The source of `integration` whose key is `key`. Every candidate key is
    /// compared in constant time, so timing reveals nothing about how much
    /// of a key matched.
    pub fn find(&self, integration: &str, key: &str) -> Result<Arc<WebhookSource>, UnknownSource> {
        let candidates = self
            .by_integration
            .get(integration)
            .ok_or_else(|| UnknownSource::Integration(integration.to_string()))?;
        let mut found = None;
        for candidate in candidates {
            if bool::from(candidate.source.key.as_bytes().ct_eq(key.as_bytes())) {
                found = Some(candidate.clone());
            }
        }
        found.ok_or_else(|| UnknownSource::Key(integration.to_string()))
    }

    /// The source named `name`, e.g. to replay one of its failed deliveries.
    pub fn by_name(&self, name: &str) -> Option<Arc<Source>> {
        self.by_integration
            .values()
            .flatten()
            .find(|candidate| candidate.source.name == name)
            .map(|candidate| candidate.source.clone())
    }

    /// Every source.
    pub fn all(&self) -> impl Iterator<Item = Arc<Source>> + '_ {
        self.by_integration.values().flatten().map(|candidate| candidate.source.clone())
    }

    /// The integrations at least one source uses.
    pub fn integrations(&self) -> impl Iterator<Item = &str> {
        self.by_integration.keys().map(String::as_str)
    }
}
