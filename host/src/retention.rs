//! `[storage.retention]` in the background: at start-up and every
//! [`SWEEP_EVERY`], expired resolved incidents and failed deliveries are
//! deleted a chunk at a time, each chunk one change set through the writer,
//! so webhooks keep committing between chunks. The policy is read from the
//! live config at each sweep, so a reload changes it.

use crate::app::AppState;
use crate::config::RetentionConfig;
use crate::store::{CommitError, Millis, RetentionCutoffs, Store, Write, now_millis};
use crate::telemetry;
use std::sync::Arc;
use std::time::Duration;

pub const SWEEP_EVERY: Duration = Duration::from_secs(600);
const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub incidents: u64,
    pub failed_deliveries: u64,
}

/// Sweeps now, then every [`SWEEP_EVERY`], until aborted.
pub async fn run(app: Arc<AppState>) {
    loop {
        let retention = app.live.load().config.storage.retention.clone();
        match sweep(&app.store, &retention, now_millis()).await {
            Ok(swept) if swept != Swept::default() => tracing::info!(
                incidents = swept.incidents,
                failed_deliveries = swept.failed_deliveries,
                "retention: deleted expired resolved incidents and failed deliveries"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!("retention sweep stopped, next one in 10 minutes: {error}")
            }
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// The moments before which `retention` expires things, at `now`.
pub fn cutoffs(retention: &RetentionConfig, now: Millis) -> RetentionCutoffs {
    let before = |days: u32| (days > 0).then(|| now.saturating_sub(u64::from(days) * DAY_MILLIS));
    RetentionCutoffs {
        resolved_before: before(retention.resolved_incidents_days),
        failed_before: before(retention.failed_deliveries_days),
        audit_before: before(retention.audit_days),
        sessions_before: Some(now),
    }
}

/// Deletes everything `retention` expires at `now`, a chunk per commit.
pub async fn sweep(
    store: &Arc<Store>,
    retention: &RetentionConfig,
    now: Millis,
) -> Result<Swept, String> {
    let cutoffs = cutoffs(retention, now);
    let mut swept = Swept::default();
    loop {
        let reader = store.clone();
        let changes = tokio::task::spawn_blocking(move || reader.expired(cutoffs))
            .await
            .map_err(|error| error.to_string())?
            .map_err(|error| error.to_string())?;
        if changes.is_empty() {
            return Ok(swept);
        }
        let (mut incidents, mut failures) = (0, 0);
        for write in &changes.writes {
            match write {
                Write::DeleteIncident { .. } => incidents += 1,
                Write::DeleteFailure(_) => failures += 1,
                _ => {}
            }
        }
        match store.commit(changes).await {
            Ok(()) => {
                swept.incidents += incidents;
                swept.failed_deliveries += failures;
                telemetry::retention_deleted(incidents, failures);
            }
            // An incident of the chunk changed meanwhile: read the chunk again.
            Err(CommitError::Conflict) => {}
            Err(error) => return Err(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keeps_forever_and_n_days_cuts_at_now_minus_n_days() {
        let now = 100 * DAY_MILLIS;
        let retention = RetentionConfig {
            resolved_incidents_days: 30,
            failed_deliveries_days: 0,
            audit_days: 0,
        };
        assert_eq!(
            cutoffs(&retention, now),
            RetentionCutoffs {
                resolved_before: Some(70 * DAY_MILLIS),
                failed_before: None,
                audit_before: None,
                sessions_before: Some(now),
            }
        );
        let now = 1000 * DAY_MILLIS;
        let defaults = cutoffs(&RetentionConfig::default(), now);
        assert_eq!((defaults.resolved_before, defaults.failed_before), (None, None));
        assert_eq!(defaults.audit_before, Some(635 * DAY_MILLIS));
    }
}
