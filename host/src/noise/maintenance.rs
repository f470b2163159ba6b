//! Maintenance windows: from `[[maintenance]]` and made at run time (kept
//! as keyed records, so every host sharing a database sees them). While a
//! window covers an incident, its due levels page nobody.

use crate::config::Config;
use crate::config::noise::{AfterWindow, MaintenanceConfig};
use crate::store::{Incident, Keyed, Millis, RecordKind, Store};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub name: String,
    pub from: Millis,
    /// Excluded: the window is over at this instant.
    pub until: Millis,
    /// The sources it covers; all when empty.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The priorities it covers; all when empty.
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub after: AfterWindow,
    /// `config` for a `[[maintenance]]` window; who made it otherwise
    /// (`person ada`, `token deploys`).
    pub created_by: String,
    #[serde(default)]
    pub created_at: Millis,
}

/// `created_by` of the windows from the config file.
pub const FROM_CONFIG: &str = "config";

impl Window {
    pub fn from_config(window: &MaintenanceConfig) -> Window {
        Window {
            name: window.name.clone(),
            from: window.from_ms,
            until: window.until_ms,
            sources: window.sources.clone(),
            priorities: window.priorities.clone(),
            after: window.after,
            created_by: FROM_CONFIG.into(),
            created_at: 0,
        }
    }

    pub fn is_from_config(&self) -> bool {
        self.created_by == FROM_CONFIG
    }

    pub fn is_active(&self, now: Millis) -> bool {
        self.from <= now && now < self.until
    }

    /// True when the window holds `incident`'s levels at `now`.
    pub fn covers(&self, incident: &Incident, now: Millis) -> bool {
        self.is_active(now)
            && (self.sources.is_empty() || self.sources.contains(&incident.source))
            && (self.priorities.is_empty()
                || incident.priority.is_some_and(|priority| {
                    self.priorities.iter().any(|p| *p == priority_name(priority))
                }))
    }

    /// `active`, `upcoming` or `ended` at `now`.
    pub fn state(&self, now: Millis) -> &'static str {
        if now < self.from {
            "upcoming"
        } else if now < self.until {
            "active"
        } else {
            "ended"
        }
    }
}

pub fn priority_name(priority: crate::store::Priority) -> &'static str {
    match priority {
        crate::store::Priority::Low => "low",
        crate::store::Priority::Normal => "normal",
        crate::store::Priority::High => "high",
        crate::store::Priority::Urgent => "urgent",
    }
}

/// The windows made at run time, as stored.
pub fn stored(store: &Store) -> Result<Vec<Keyed<Window>>, crate::store::Error> {
    let rows = store.records(RecordKind::Maintenance)?;
    Ok(Keyed::decode_all(RecordKind::Maintenance, rows))
}

/// Every window: the config's, then those made at run time, by start.
pub fn all(config: &Config, store: &Store) -> Result<Vec<Window>, crate::store::Error> {
    let mut windows: Vec<Window> = config.maintenance.iter().map(Window::from_config).collect();
    windows.extend(stored(store)?.into_iter().map(|keyed| keyed.value));
    windows.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.name.cmp(&b.name)));
    Ok(windows)
}

/// The first window holding `incident` at `now`, if any.
pub fn holding<'w>(windows: &'w [Window], incident: &Incident, now: Millis) -> Option<&'w Window> {
    windows.iter().find(|window| window.covers(incident, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Priority, Status};

    fn incident(source: &str, priority: Option<Priority>) -> Incident {
        Incident {
            id: 1,
            source: source.into(),
            key: "k".into(),
            status: Status::Pending,
            summary: String::new(),
            details: String::new(),
            priority,
            url: None,
            links: vec![],
            escalation_policy: "p".into(),
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    fn window(sources: &[&str], priorities: &[&str]) -> Window {
        Window {
            name: "deploy".into(),
            from: 100,
            until: 200,
            sources: sources.iter().map(|s| s.to_string()).collect(),
            priorities: priorities.iter().map(|s| s.to_string()).collect(),
            after: AfterWindow::Escalate,
            created_by: "person ada".into(),
            created_at: 50,
        }
    }

    #[test]
    fn a_window_covers_its_sources_and_priorities_while_it_lasts() {
        let all = window(&[], &[]);
        let support_low = window(&["support"], &["low"]);
        let low = incident("support", Some(Priority::Low));
        let high = incident("support", Some(Priority::High));
        let other = incident("billing", Some(Priority::Low));
        assert!(all.covers(&high, 100) && all.covers(&other, 199));
        assert!(!all.covers(&high, 99) && !all.covers(&high, 200), "from included, until excluded");
        assert!(support_low.covers(&low, 150));
        assert!(!support_low.covers(&high, 150), "another priority");
        assert!(!support_low.covers(&other, 150), "another source");
        assert!(!support_low.covers(&incident("support", None), 150), "no priority is not low");
        assert_eq!(
            (all.state(99), all.state(100), all.state(200)),
            ("upcoming", "active", "ended")
        );
    }
}
