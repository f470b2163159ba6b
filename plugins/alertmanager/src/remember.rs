//! What the plugin keeps in the source's state for each open incident, so
//! that `crate::outbound` can act on Alertmanager later:
//!
//! - `labels/<incident id>`: the labels a silence for the incident matches,
//!   as a JSON object, written when `handle` creates the incident (the alert's
//!   labels; for `incident_per = "group"` the group's).
//! - `silence/<incident id>`: Alertmanager's answer to the silence an accept
//!   created, `{"silenceID": "..."}`, written by the host (`remember-as`).
//!
//! Both are forgotten when the alert resolves through the webhook, or when
//! the same key opens a new incident (the old one was resolved in inbound
//! while its alert kept firing).
//!
//! Every state write or delete is one of the call's 256 changes, which the
//! incidents need more: a call keeps one change for each alert's create or
//! resolve, and spends only the rest here ([`Budget`]). What does not fit is
//! not remembered; the incident then gets no silence, and says why.

use crate::host::Host;
use serde_json::Value;
use std::collections::BTreeMap;

/// The host's limit on the changes of one call (not configurable).
pub const CHANGES_PER_CALL: usize = 256;

/// A label set larger than this is not kept: real ones are a few hundred
/// bytes, and the source's state is shared by all its open incidents.
pub const MAX_LABELS_BYTES: usize = 4096;

pub fn labels_key(incident: u64) -> String {
    format!("labels/{incident}")
}

pub fn silence_key(incident: u64) -> String {
    format!("silence/{incident}")
}

/// The state changes one call may still make.
#[derive(Debug)]
pub struct Budget(usize);

impl Budget {
    /// What is left of the call's changes once `incident_changes` (at most
    /// one per alert of the notification) are set aside.
    pub fn after(incident_changes: usize) -> Budget {
        Budget(CHANGES_PER_CALL.saturating_sub(incident_changes))
    }

    fn spend(&mut self) -> bool {
        let left = self.0 > 0;
        self.0 = self.0.saturating_sub(1);
        left
    }
}

/// Why a label set was not remembered.
#[derive(Debug, PartialEq, Eq)]
pub enum NotRemembered {
    /// No label with a value: a silence needs at least one matcher.
    NoLabels,
    TooLarge(usize),
    NoBudget,
    Refused(String),
}

impl std::fmt::Display for NotRemembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRemembered::NoLabels => f.write_str("it has no labels to match"),
            NotRemembered::TooLarge(bytes) => {
                write!(f, "its labels are {bytes} bytes, over {MAX_LABELS_BYTES}")
            }
            NotRemembered::NoBudget => f.write_str(
                "the notification opened too many incidents to remember all their labels in one call",
            ),
            NotRemembered::Refused(why) => write!(f, "inbound refused to store them: {why}"),
        }
    }
}

/// Keeps `labels` (those with a value) as what incident `id`'s silence will
/// match.
pub fn remember_labels(
    host: &mut impl Host,
    budget: &mut Budget,
    id: u64,
    labels: &BTreeMap<String, String>,
) -> Result<(), NotRemembered> {
    // As a `Value`, whose reading and writing the plugin has anyway: a
    // typed map would add its own (de)serializer to the component.
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
        .collect();
    if labels.is_empty() {
        return Err(NotRemembered::NoLabels);
    }
    let json = serde_json::to_vec(&Value::Object(labels)).unwrap_or_default();
    if json.len() > MAX_LABELS_BYTES {
        return Err(NotRemembered::TooLarge(json.len()));
    }
    if !budget.spend() {
        return Err(NotRemembered::NoBudget);
    }
    host.state_set(&labels_key(id), &json)
        .map_err(|error| NotRemembered::Refused(inbound_sdk::error::describe_api_error(&error)))
}

/// The labels kept for incident `id`, if any.
pub fn labels(host: &mut impl Host, id: u64) -> Option<BTreeMap<String, String>> {
    let Ok(Value::Object(kept)) =
        serde_json::from_slice::<Value>(&host.state_get(&labels_key(id))?)
    else {
        return None;
    };
    let labels: BTreeMap<String, String> = kept
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_str()?.to_string())))
        .collect();
    (!labels.is_empty()).then_some(labels)
}

/// Forgets what was kept for incident `id`; a key that is not there costs
/// nothing. False when the budget ran out first.
pub fn forget(host: &mut impl Host, budget: &mut Budget, id: u64) -> bool {
    for key in [labels_key(id), silence_key(id)] {
        if host.state_get(&key).is_some() {
            if !budget.spend() {
                return false;
            }
            host.state_delete(&key);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_host::FakeHost;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn labels_with_a_value_are_kept_as_a_small_json_object() {
        let mut host = FakeHost::default();
        let mut budget = Budget::after(1);
        let kept = map(&[("instance", "db1"), ("alertname", "DiskFull"), ("empty", "")]);
        remember_labels(&mut host, &mut budget, 7, &kept).unwrap();
        assert_eq!(host.state["labels/7"], br#"{"alertname":"DiskFull","instance":"db1"}"#);
        assert_eq!(
            labels(&mut host, 7),
            Some(map(&[("alertname", "DiskFull"), ("instance", "db1")]))
        );
        assert_eq!(labels(&mut host, 8), None);
    }

    #[test]
    fn what_cannot_be_silenced_or_stored_is_not_kept() {
        let mut host = FakeHost::default();
        let mut budget = Budget::after(0);
        assert_eq!(
            remember_labels(&mut host, &mut budget, 1, &map(&[("a", "")])),
            Err(NotRemembered::NoLabels)
        );
        let huge = map(&[("a", &"x".repeat(MAX_LABELS_BYTES))]);
        assert!(matches!(
            remember_labels(&mut host, &mut budget, 1, &huge),
            Err(NotRemembered::TooLarge(_))
        ));
        let mut spent = Budget::after(CHANGES_PER_CALL);
        assert_eq!(
            remember_labels(&mut host, &mut spent, 1, &map(&[("a", "b")])),
            Err(NotRemembered::NoBudget)
        );
        host.max_changes = 0;
        assert!(matches!(
            remember_labels(&mut host, &mut budget, 1, &map(&[("a", "b")])),
            Err(NotRemembered::Refused(_))
        ));
        assert!(host.state.is_empty());
    }

    #[test]
    fn forgetting_deletes_only_what_is_there() {
        let mut host = FakeHost::default();
        host.state.insert("labels/3".into(), b"{}".to_vec());
        host.state.insert("silence/3".into(), b"{}".to_vec());
        host.state.insert("labels/4".into(), b"{}".to_vec());
        let mut budget = Budget::after(CHANGES_PER_CALL - 2);
        assert!(forget(&mut host, &mut budget, 3));
        assert!(forget(&mut host, &mut budget, 5), "nothing to delete costs nothing");
        assert!(!forget(&mut host, &mut budget, 4), "the budget is spent");
        assert_eq!(host.state.keys().collect::<Vec<_>>(), ["labels/4"]);
    }
}
