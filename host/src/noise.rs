//! What keeps the pager quiet: maintenance windows and urgency. The
//! escalation engine asks [`decide`] before a due level fires; nothing here
//! drops an incident or an event, it only decides whether a level pages now.
//!
//! ```text
//! level due ─▶ a window covers the incident?   ─▶ wait until it ends (or look again sooner)
//!           ─▶ a window with after = "quiet" held it and ended? ─▶ never page
//!           ─▶ low urgency outside working hours? ─▶ wait for them (never without them)
//!           ─▶ page
//! ```

pub mod maintenance;

use crate::config::Config;
use crate::config::noise::AfterWindow;
use crate::store::{Held, Incident, Millis};
pub use maintenance::Window;

/// How urgent an incident is, by its source's `low_urgency` priorities.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    High,
    Low,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::High => "high",
            Urgency::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Option<Urgency> {
        match text {
            "high" => Some(Urgency::High),
            "low" => Some(Urgency::Low),
            _ => None,
        }
    }
}

pub fn urgency(config: &Config, incident: &Incident) -> Urgency {
    let low = incident.priority.is_some_and(|priority| {
        let name = maintenance::priority_name(priority);
        config
            .sources
            .iter()
            .find(|source| source.name == incident.source)
            .is_some_and(|source| source.low_urgency.iter().any(|p| p == name))
    });
    if low { Urgency::Low } else { Urgency::High }
}

/// A page of incidents of one urgency, newest first: pages of the store's
/// listing read until `query.limit` match or [`URGENCY_SCAN_PAGES`] were
/// read; the cursor then continues the scan where it stopped.
pub fn list_by_urgency(
    store: &crate::store::Store,
    config: &Config,
    mut query: crate::store::ListQuery,
    wanted: Urgency,
) -> Result<crate::store::Page<Incident>, crate::store::Error> {
    let limit = query.limit.max(1);
    let mut found = Vec::new();
    for _ in 0..URGENCY_SCAN_PAGES {
        let page = store.list(&query)?;
        let last = page.items.last().map(|incident| incident.id);
        for incident in page.items {
            if urgency(config, &incident) == wanted {
                found.push(incident);
                if found.len() == limit {
                    let more = page.next.is_some() || last != found.last().map(|i| i.id);
                    let next = found.last().map(|i| i.id).filter(|_| more);
                    return Ok(crate::store::Page { items: found, next });
                }
            }
        }
        match page.next {
            Some(before) => query.before = Some(before),
            None => return Ok(crate::store::Page { items: found, next: None }),
        }
    }
    Ok(crate::store::Page { items: found, next: query.before })
}

/// Store pages one urgency listing reads at most before it answers.
pub const URGENCY_SCAN_PAGES: usize = 10;

/// What a due level does now.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Page,
    /// Pages nobody now; the escalation is looked at again at `recheck_at`
    /// (a window may end early, a config reload may change the hours).
    Wait {
        held: Held,
        recheck_at: Millis,
        pages_at: Option<Millis>,
    },
    /// Pages nobody, ever: the escalation ends.
    Never {
        reason: String,
    },
}

/// How often a held escalation is looked at again, unscaled: a window
/// ended early pages within this long.
pub const RECHECK_MILLIS: Millis = 60_000;
/// The same for low urgency outside working hours, which only a config
/// reload or a priority change could end early.
pub const RECHECK_LOW_URGENCY_MILLIS: Millis = 15 * 60_000;

/// Whether the level due now for `incident` pages; `previous` is why its
/// escalation was held until now, if it was. `scale` turns the recheck
/// intervals into this host's time (`[notifications] time_scale`).
pub fn decide(
    config: &Config,
    windows: &[Window],
    incident: &Incident,
    previous: Option<&Held>,
    now: Millis,
    scale: impl Fn(Millis) -> Millis,
) -> Decision {
    if let Some(window) = maintenance::holding(windows, incident, now) {
        return Decision::Wait {
            held: Held {
                reason: format!("maintenance {}", window.name),
                window: Some(window.name.clone()),
                then_quiet: window.after == AfterWindow::Quiet,
            },
            recheck_at: window.until.min(now + scale(RECHECK_MILLIS)),
            pages_at: (window.after == AfterWindow::Escalate).then_some(window.until),
        };
    }
    if let Some(Held { window: Some(window), then_quiet: true, .. }) = previous {
        return Decision::Never {
            reason: format!("maintenance {window} ended, and it says after = \"quiet\""),
        };
    }
    if urgency(config, incident) == Urgency::High {
        return Decision::Page;
    }
    let hours = config
        .escalation_policy(&incident.escalation_policy)
        .and_then(|p| p.working_hours.as_ref());
    let Some(hours) = hours else {
        return Decision::Never {
            reason: "low urgency, and the escalation policy has no working_hours".into(),
        };
    };
    let at = jiff::Timestamp::from_millisecond(now as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    if hours.contains(at) {
        return Decision::Page;
    }
    match hours.next_start(at) {
        Some(start) => {
            let start = start.as_millisecond().max(0) as Millis;
            Decision::Wait {
                held: Held {
                    reason: "low urgency: outside working hours".into(),
                    window: None,
                    then_quiet: false,
                },
                recheck_at: start.min(now + scale(RECHECK_LOW_URGENCY_MILLIS)),
                pages_at: Some(start),
            }
        }
        None => Decision::Never { reason: "low urgency, and working_hours name no day".into() },
    }
}
