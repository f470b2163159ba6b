//! What a firing alert's incident says: summary, details, priority, links.

use crate::payload::Alert;
use inbound_sdk::text::truncate_chars;
use inbound_sdk::{NewIncident, Priority};

/// The host keeps 512 characters of a summary; cut here with an ellipsis
/// so a cut is visible.
pub const SUMMARY_MAX_CHARS: usize = 512;
/// The host keeps 16384 characters of details; comments and notes are cut
/// to the same.
pub const DETAILS_MAX_CHARS: usize = 16_384;

pub fn new_incident(alert: &Alert, external_url: Option<&str>) -> NewIncident {
    let mut new = NewIncident::new(
        alert.fingerprint.clone(),
        truncate_chars(&summary(alert), SUMMARY_MAX_CHARS),
    )
    .details(truncate_chars(&details(alert), DETAILS_MAX_CHARS));
    if let Some(priority) = alert.labels.get("severity").and_then(|severity| priority(severity)) {
        new = new.priority(priority);
    }
    // A URL the host would refuse is left out: refusing it would refuse the
    // whole notification.
    if let Some(url) = external_url.filter(|url| is_web_url(url)) {
        new = new.url(url);
    }
    if let Some(url) = alert.generator_url.as_ref().filter(|url| is_web_url(url)) {
        new = new.link("Alert source", url.clone());
    }
    for (name, label) in [("runbook_url", "Runbook"), ("dashboard_url", "Dashboard")] {
        if let Some(url) = alert.annotations.get(name).filter(|url| is_web_url(url)) {
            new = new.link(label, url.clone());
        }
    }
    new
}

pub fn is_web_url(url: &str) -> bool {
    inbound_sdk::web_url::check(url).is_ok()
}

/// `annotations.summary`, else the alert's name, else its fingerprint.
fn summary(alert: &Alert) -> String {
    [alert.annotations.get("summary"), alert.labels.get("alertname")]
        .into_iter()
        .flatten()
        .map(|text| text.trim())
        .find(|text| !text.is_empty())
        .map_or_else(|| format!("Alert {}", alert.fingerprint), str::to_string)
}

/// The description first (what a responder reads), then every label and
/// annotation, sorted by name, and when it started.
fn details(alert: &Alert) -> String {
    let mut text = String::new();
    if let Some(description) = alert.annotations.get("description").filter(|d| !d.trim().is_empty())
    {
        text.push_str(description.trim());
        text.push_str("\n\n");
    }
    for (title, map) in [("Labels", &alert.labels), ("Annotations", &alert.annotations)] {
        if map.is_empty() {
            continue;
        }
        text.push_str(title);
        text.push_str(":\n");
        for (name, value) in map {
            text.push_str(&format!("  {name}: {value}\n"));
        }
    }
    if !alert.starts_at.is_empty() {
        text.push_str(&format!("Started: {}\n", alert.starts_at));
    }
    text.trim_end().to_string()
}

/// The usual `severity` label values; anything else sets no priority.
pub fn priority(severity: &str) -> Option<Priority> {
    match severity.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "emergency" => Some(Priority::Urgent),
        "error" | "high" | "major" => Some(Priority::High),
        "warning" | "warn" | "medium" => Some(Priority::Normal),
        "info" | "low" | "minor" | "none" => Some(Priority::Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::AlertStatus;

    fn alert(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> Alert {
        let map = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        Alert {
            status: AlertStatus::Firing,
            fingerprint: "fp1".into(),
            labels: map(labels),
            annotations: map(annotations),
            starts_at: "2024-05-01T10:00:00Z".into(),
            ends_at: String::new(),
            generator_url: Some("http://prom:9090/graph?g0.expr=up".into()),
        }
    }

    #[test]
    fn summary_prefers_the_annotation_then_the_alert_name() {
        assert_eq!(
            summary(&alert(&[("alertname", "DiskFull")], &[("summary", "Disk 95% full")])),
            "Disk 95% full"
        );
        assert_eq!(summary(&alert(&[("alertname", "DiskFull")], &[("summary", " ")])), "DiskFull");
        assert_eq!(summary(&alert(&[], &[])), "Alert fp1");
    }

    #[test]
    fn details_hold_description_labels_and_annotations() {
        let text = details(&alert(
            &[("alertname", "DiskFull"), ("instance", "db1")],
            &[("description", "Only 5% left.")],
        ));
        assert_eq!(
            text,
            "Only 5% left.\n\nLabels:\n  alertname: DiskFull\n  instance: db1\nAnnotations:\n  description: Only 5% left.\nStarted: 2024-05-01T10:00:00Z"
        );
    }

    #[test]
    fn links_are_the_generator_runbook_and_dashboard() {
        let new = new_incident(
            &alert(
                &[],
                &[("runbook_url", "https://wiki/disk"), ("dashboard_url", "http://a\r\nb")],
            ),
            Some("http://am:9093"),
        );
        let links: Vec<(&str, &str)> =
            new.links.iter().map(|l| (l.label.as_str(), l.url.as_str())).collect();
        assert_eq!(
            links,
            [
                ("Alert source", "http://prom:9090/graph?g0.expr=up"),
                ("Runbook", "https://wiki/disk")
            ]
        );
        assert_eq!(new.url.as_deref(), Some("http://am:9093"));
    }

    #[test]
    fn severity_sets_priority() {
        assert_eq!(priority("critical"), Some(Priority::Urgent));
        assert_eq!(priority("Warning"), Some(Priority::Normal));
        assert_eq!(priority("info"), Some(Priority::Low));
        assert_eq!(priority("whatever"), None);
    }

    #[test]
    fn long_summaries_are_cut_on_characters() {
        let long = "ø".repeat(600);
        let new = new_incident(&alert(&[], &[("summary", long.as_str())]), None);
        assert_eq!(new.summary.chars().count(), SUMMARY_MAX_CHARS);
    }
}
