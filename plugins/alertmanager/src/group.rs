//! What a group's incident says (`incident_per = "group"`): its key,
//! summary, details listing every alert, priority and links (on creation,
//! and again on every update of the open incident), and its resolution note.
//!
//! Alertmanager sends the whole group each time (every alert still firing
//! and those resolved since the last notification), so everything here is
//! rebuilt from one notification.

use crate::incident::{DETAILS_MAX_CHARS, SUMMARY_MAX_CHARS, is_web_url, priority};
use crate::payload::{Alert, AlertStatus, Group, Notification};
use inbound_sdk::text::truncate_chars;
use inbound_sdk::{NewIncident, Priority};
use std::collections::BTreeMap;

/// The host's longest incident key.
const KEY_MAX_BYTES: usize = 256;

/// The group's incident key: Alertmanager's `groupKey`, or for a key too
/// long to store, its start and a hash of the whole.
pub fn incident_key(group: &Group) -> String {
    if group.key.len() <= KEY_MAX_BYTES {
        return group.key.clone();
    }
    let hash = format!("#{}", fnv1a(&group.key));
    let mut cut = KEY_MAX_BYTES - hash.len();
    while !group.key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hash}", &group.key[..cut])
}

/// Where plugin versions before API 0.4.0 remembered which alerts of the
/// open incident's group were firing; cleared when the group resolves.
pub fn state_key(incident_key: &str) -> String {
    format!("group-firing/{}", fnv1a(incident_key))
}

pub fn new_incident(notification: &Notification, group: &Group, key: String) -> NewIncident {
    let summary = format!("{}: {}", name(group), counts(notification));
    let mut details = String::new();
    if let Some(description) = group.common_annotations.get("description") {
        let description = description.trim();
        if !description.is_empty() {
            details.push_str(description);
            details.push_str("\n\n");
        }
    }
    details.push_str(&alert_list(notification, group));
    let mut new = NewIncident::new(key, truncate_chars(&summary, SUMMARY_MAX_CHARS))
        .details(truncate_chars(&details, DETAILS_MAX_CHARS));
    if let Some(priority) = highest_priority(notification) {
        new = new.priority(priority);
    }
    if let Some(url) = notification.external_url.as_ref().filter(|url| is_web_url(url)) {
        new = new.url(url.clone());
    }
    if let Some(url) = common_generator_url(notification).filter(|url| is_web_url(url)) {
        new = new.link("Alert source", url);
    }
    for (name, label) in [("runbook_url", "Runbook"), ("dashboard_url", "Dashboard")] {
        if let Some(url) = group.common_annotations.get(name).filter(|url| is_web_url(url)) {
            new = new.link(label, url.clone());
        }
    }
    new
}

/// The resolution note: the group's last alerts.
pub fn resolved_note(notification: &Notification, group: &Group) -> String {
    truncate_chars(
        &format!(
            "resolved in Alertmanager: every alert of the group\n\n{}",
            alert_list(notification, group)
        ),
        DETAILS_MAX_CHARS,
    )
}

/// `DiskFull{cluster="eu1"}`: the common alert name and the other group
/// labels, as Prometheus writes a series; `{instance="db1"}` without a
/// common name.
fn name(group: &Group) -> String {
    let alertname =
        group.common_labels.get("alertname").map(|name| name.trim()).filter(|n| !n.is_empty());
    let others: Vec<(&String, &String)> = group
        .labels
        .iter()
        .filter(|(label, _)| alertname.is_none() || label.as_str() != "alertname")
        .collect();
    match (alertname, others.is_empty()) {
        (Some(name), true) => name.to_string(),
        (name, false) => format!("{}{{{}}}", name.unwrap_or_default(), labels(others)),
        (None, true) => "Alert group".to_string(),
    }
}

/// How many fire, the labels all share, then one entry per alert: its own
/// labels, status, times and summary annotation.
fn alert_list(notification: &Notification, group: &Group) -> String {
    let mut text = format!("{}.", counts(notification));
    if group.truncated > 0 {
        text.push_str(&format!(
            " {} more not listed (the receiver's max_alerts).",
            group.truncated
        ));
    }
    if !group.common_labels.is_empty() {
        text.push_str(&format!("\nCommon labels: {}", labels(group.common_labels.iter())));
    }
    text.push('\n');
    for alert in &notification.alerts {
        text.push_str(&format!("\n- {}", entry(alert, &group.common_labels)));
        if let Some(summary) = alert.annotations.get("summary").map(|s| s.trim())
            && !summary.is_empty()
        {
            text.push_str(&format!("\n  {summary}"));
        }
    }
    text
}

/// `2 of 3 alerts firing`.
pub fn counts(notification: &Notification) -> String {
    let total = notification.alerts.len();
    format!("{} of {total} {} firing", firing(notification).count(), plural(total))
}

/// `firing: instance="db1:9100" (since T0)`, or `resolved: ... (T0 to T1)`.
fn entry(alert: &Alert, common: &BTreeMap<String, String>) -> String {
    let own =
        labels(alert.labels.iter().filter(|(label, value)| common.get(*label) != Some(value)));
    let (status, when) = match alert.status {
        AlertStatus::Firing => ("firing", format!("since {}", alert.starts_at)),
        AlertStatus::Resolved => ("resolved", format!("{} to {}", alert.starts_at, alert.ends_at)),
    };
    let own = if own.is_empty() { String::new() } else { format!(" {own}") };
    format!("{status}:{own} ({when})")
}

fn labels<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    pairs
        .into_iter()
        .map(|(label, value)| format!("{label}=\"{value}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn firing(notification: &Notification) -> impl Iterator<Item = &Alert> {
    notification.alerts.iter().filter(|alert| alert.status == AlertStatus::Firing)
}

/// The highest priority among the firing alerts' `severity` labels.
fn highest_priority(notification: &Notification) -> Option<Priority> {
    let rank = |priority: &Priority| match priority {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    };
    firing(notification)
        .filter_map(|alert| alert.labels.get("severity").and_then(|s| priority(s)))
        .max_by_key(rank)
}

/// The alerts' rule page, when they all have the same.
fn common_generator_url(notification: &Notification) -> Option<String> {
    let first = notification.alerts.first()?.generator_url.as_ref()?;
    notification
        .alerts
        .iter()
        .all(|alert| alert.generator_url.as_ref() == Some(first))
        .then(|| first.clone())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "alert" } else { "alerts" }
}

/// FNV-1a, 64 bits, as 16 hex digits: to shorten, never for security.
fn fnv1a(text: &str) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash =
        text.bytes().fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME));
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn alert(fingerprint: &str, instance: &str, severity: &str, status: AlertStatus) -> Alert {
        Alert {
            status,
            fingerprint: fingerprint.into(),
            labels: map(&[
                ("alertname", "DiskFull"),
                ("instance", instance),
                ("severity", severity),
            ]),
            annotations: map(&[("summary", &format!("Disk full on {instance}"))]),
            starts_at: "t0".into(),
            ends_at: if status == AlertStatus::Resolved { "t1".into() } else { String::new() },
            generator_url: Some("http://prom/graph?g0.expr=disk".into()),
        }
    }

    fn group(labels: &[(&str, &str)], common: &[(&str, &str)]) -> Group {
        Group {
            key: "{}:{alertname=\"DiskFull\"}".into(),
            status: AlertStatus::Firing,
            labels: map(labels),
            common_labels: map(common),
            common_annotations: map(&[("runbook_url", "https://runbooks/disk")]),
            truncated: 0,
        }
    }

    fn notification(alerts: Vec<Alert>) -> Notification {
        Notification { external_url: Some("http://am:9093".into()), alerts }
    }

    #[test]
    fn the_name_is_the_common_alert_name_and_the_other_group_labels() {
        let common = [("alertname", "DiskFull")];
        assert_eq!(name(&group(&[("alertname", "DiskFull")], &common)), "DiskFull");
        assert_eq!(
            name(&group(&[("alertname", "DiskFull"), ("cluster", "eu1")], &common)),
            "DiskFull{cluster=\"eu1\"}"
        );
        assert_eq!(name(&group(&[("instance", "db1")], &[])), "{instance=\"db1\"}");
        assert_eq!(name(&group(&[], &[])), "Alert group");
    }

    #[test]
    fn the_incident_lists_every_alert_and_takes_the_highest_firing_severity() {
        use AlertStatus::*;
        let alerts = notification(vec![
            alert("a", "db1", "warning", Firing),
            alert("b", "db2", "critical", Resolved),
            alert("c", "db3", "high", Firing),
        ]);
        let group = group(&[("alertname", "DiskFull")], &[("alertname", "DiskFull")]);
        let new = new_incident(&alerts, &group, incident_key(&group));
        assert_eq!(new.key, "{}:{alertname=\"DiskFull\"}");
        assert_eq!(new.summary, "DiskFull: 2 of 3 alerts firing");
        assert_eq!(
            new.details,
            "2 of 3 alerts firing.\nCommon labels: alertname=\"DiskFull\"\n\n\
             - firing: instance=\"db1\", severity=\"warning\" (since t0)\n  Disk full on db1\n\
             - resolved: instance=\"db2\", severity=\"critical\" (t0 to t1)\n  Disk full on db2\n\
             - firing: instance=\"db3\", severity=\"high\" (since t0)\n  Disk full on db3"
        );
        assert_eq!(new.priority, Some(Priority::High), "the resolved critical one does not count");
        let links: Vec<(&str, &str)> =
            new.links.iter().map(|l| (l.label.as_str(), l.url.as_str())).collect();
        assert_eq!(
            links,
            [
                ("Alert source", "http://prom/graph?g0.expr=disk"),
                ("Runbook", "https://runbooks/disk")
            ]
        );
    }

    #[test]
    fn a_key_too_long_to_store_keeps_its_start_and_a_hash() {
        let mut long = group(&[], &[]);
        long.key = format!("{{}}:{{instance=\"{}\"}}", "ø".repeat(300));
        let key = incident_key(&long);
        assert!(key.len() <= KEY_MAX_BYTES && key.starts_with("{}:{instance=\"øø"), "{key}");
        let mut other = long.clone();
        other.key.push('x');
        assert_ne!(incident_key(&other), key);
    }

    #[test]
    fn truncated_alerts_are_counted() {
        let mut group = group(&[], &[]);
        group.truncated = 7;
        let alerts = notification(vec![alert("a", "db1", "", AlertStatus::Firing)]);
        let text = new_incident(&alerts, &group, incident_key(&group)).details;
        assert!(text.starts_with("1 of 1 alert firing. 7 more not listed"), "{text}");
    }
}
