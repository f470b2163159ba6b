//! Alertmanager's webhook body (`version: "4"`), read into alerts. Only what
//! the integration uses is read; unknown fields are ignored, as Alertmanager
//! adds fields within a version.

use inbound_sdk::Rejection;
use inbound_sdk::json::{self, index, path};
use serde_json::Value;
use std::collections::BTreeMap;

/// The webhook payload version this plugin reads.
const VERSION: &str = "4";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub status: AlertStatus,
    /// Alertmanager's stable hash of the alert's labels: the incident key.
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    pub ends_at: String,
    /// The rule evaluator's page for the alert (Prometheus graph), if any.
    pub generator_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Alertmanager's own address, for a link to its UI.
    pub external_url: Option<String>,
    pub alerts: Vec<Alert>,
}

/// What a notification says about its group as a whole; read only for
/// `incident_per = "group"`, so the per-alert mode refuses nothing new.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Alertmanager's key of the group (its route and group labels).
    pub key: String,
    /// `resolved` once every alert of the group is.
    pub status: AlertStatus,
    /// The `group_by` labels and their values.
    pub labels: BTreeMap<String, String>,
    /// Labels and annotations every alert of the notification has.
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    /// Alerts left out by the receiver's `max_alerts`.
    pub truncated: u64,
}

pub fn parse(body: &[u8]) -> Result<Notification, Rejection> {
    parse_root(&json::parse_lenient(body)?)
}

/// The notification and its group. Group fields Alertmanager always sends
/// (`groupKey`, `status`) are required.
pub fn parse_group(body: &[u8]) -> Result<(Notification, Group), Rejection> {
    let root = json::parse_lenient(body)?;
    let notification = parse_root(&root)?;
    let key = json::str_field(&root, "", "groupKey")?.trim();
    if key.is_empty() {
        return Err(Rejection::invalid_field(
            "groupKey",
            "is empty; expected Alertmanager's key of the alert group",
        ));
    }
    let truncated = match root.get("truncatedAlerts") {
        None | Some(Value::Null) => 0,
        Some(value) => value.as_u64().ok_or_else(|| {
            Rejection::invalid_field(
                "truncatedAlerts",
                format!("is {value}; expected a whole number of alerts left out"),
            )
        })?,
    };
    let group = Group {
        key: key.to_string(),
        status: status(&root, "")?,
        labels: string_map(&root, "", "groupLabels")?,
        common_labels: string_map(&root, "", "commonLabels")?,
        common_annotations: string_map(&root, "", "commonAnnotations")?,
        truncated,
    };
    Ok((notification, group))
}

fn parse_root(root: &Value) -> Result<Notification, Rejection> {
    if !root.is_object() {
        return Err(Rejection::new(
            "invalid-json",
            format!(
                "the body is {}; expected Alertmanager's webhook JSON object",
                json::kind(root)
            ),
        ));
    }
    let version = json::str_field(root, "", "version")?;
    if version != VERSION {
        return Err(Rejection::invalid_field(
            "version",
            format!("is {version:?}; this plugin reads Alertmanager webhook version \"{VERSION}\""),
        ));
    }
    let alerts = json::array_field(root, "", "alerts")?;
    if alerts.is_empty() {
        return Err(Rejection::invalid_field("alerts", "is empty; expected at least one alert"));
    }
    let alerts = alerts
        .iter()
        .enumerate()
        .map(|(i, alert)| parse_alert(alert, &index("alerts", i)))
        .collect::<Result<_, _>>()?;
    Ok(Notification {
        external_url: non_empty(json::opt_str_field(root, "", "externalURL")?),
        alerts,
    })
}

fn parse_alert(alert: &Value, at: &str) -> Result<Alert, Rejection> {
    if !alert.is_object() {
        return Err(Rejection::invalid_field(
            at,
            format!("is {}; expected an alert object", json::kind(alert)),
        ));
    }
    let status = status(alert, at)?;
    let fingerprint = json::str_field(alert, at, "fingerprint")?.trim();
    if fingerprint.is_empty() {
        return Err(Rejection::invalid_field(
            &path(at, "fingerprint"),
            "is empty; expected Alertmanager's alert fingerprint",
        ));
    }
    Ok(Alert {
        status,
        fingerprint: fingerprint.to_string(),
        labels: string_map(alert, at, "labels")?,
        annotations: string_map(alert, at, "annotations")?,
        starts_at: json::opt_str_field(alert, at, "startsAt")?.unwrap_or_default().to_string(),
        ends_at: json::opt_str_field(alert, at, "endsAt")?.unwrap_or_default().to_string(),
        generator_url: non_empty(json::opt_str_field(alert, at, "generatorURL")?),
    })
}

/// An alert's or the group's `status`.
fn status(object: &Value, at: &str) -> Result<AlertStatus, Rejection> {
    match json::str_field(object, at, "status")? {
        "firing" => Ok(AlertStatus::Firing),
        "resolved" => Ok(AlertStatus::Resolved),
        other => Err(Rejection::invalid_field(
            &path(at, "status"),
            format!("is {other:?}; expected \"firing\" or \"resolved\""),
        )),
    }
}

/// Labels and annotations: string to string. Missing is empty.
fn string_map(
    object: &Value,
    at: &str,
    field: &str,
) -> Result<BTreeMap<String, String>, Rejection> {
    let Some(map) = json::opt_object_field(object, at, field)? else {
        return Ok(BTreeMap::new());
    };
    let at = path(at, field);
    map.iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name.clone(), text.clone())),
            other => Err(Rejection::invalid_field(
                &path(&at, name),
                format!("is {}; expected a string", json::kind(other)),
            )),
        })
        .collect()
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|text| !text.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(alerts: &str) -> Vec<u8> {
        format!(r#"{{"version": "4", "status": "firing", "externalURL": "http://am:9093", "alerts": {alerts}}}"#)
            .into_bytes()
    }

    const ALERT: &str = r#"{"status": "firing", "fingerprint": "abc", "labels": {"alertname": "X"}, "annotations": {}, "startsAt": "t0", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph"}"#;

    #[test]
    fn a_full_alert_is_read() {
        let notification = parse(&body(&format!("[{ALERT}]"))).unwrap();
        assert_eq!(notification.external_url.as_deref(), Some("http://am:9093"));
        let alert = &notification.alerts[0];
        assert_eq!((alert.status, alert.fingerprint.as_str()), (AlertStatus::Firing, "abc"));
        assert_eq!(alert.labels["alertname"], "X");
        assert_eq!(alert.generator_url.as_deref(), Some("http://prom/graph"));
    }

    #[test]
    fn errors_name_the_alert_and_field() {
        let cases = [
            (
                r#"[{"status": "pending", "fingerprint": "a"}]"#,
                "`alerts[0].status` is \"pending\"; expected \"firing\" or \"resolved\"",
            ),
            (r#"[{"status": "firing"}]"#, "`alerts[0].fingerprint` is missing"),
            (r#"[{"status": "firing", "fingerprint": " "}]"#, "`alerts[0].fingerprint` is empty"),
            (
                r#"[{"status": "firing", "fingerprint": "a"}, {"status": "firing", "fingerprint": "b", "labels": {"n": 1}}]"#,
                "`alerts[1].labels.n` is a number; expected a string",
            ),
            (r#"[3]"#, "`alerts[0]` is a number; expected an alert object"),
            (r#"[]"#, "`alerts` is empty"),
        ];
        for (alerts, expected) in cases {
            let error = parse(&body(alerts)).unwrap_err();
            assert!(error.message.contains(expected), "{alerts}: {}", error.message);
        }
    }

    #[test]
    fn other_payload_versions_are_refused() {
        let error = parse(br#"{"version": "3", "alerts": []}"#).unwrap_err();
        assert_eq!(error.code, "invalid-field");
        assert!(error.message.contains("version \"4\""), "{}", error.message);
        assert_eq!(parse(b"[]").unwrap_err().code, "invalid-json");
    }

    #[test]
    fn a_group_is_read_only_when_asked_and_its_key_and_status_are_required() {
        let group = |fields: &str| {
            let body = format!(
                r#"{{"version": "4", {fields} "alerts": [{ALERT}], "groupLabels": {{"alertname": "X"}}}}"#
            );
            parse_group(body.as_bytes())
        };
        let (_, read) = group(
            r#""status": "resolved", "groupKey": "{}:{alertname=\"X\"}", "truncatedAlerts": 2,"#,
        )
        .unwrap();
        assert_eq!(
            (read.key.as_str(), read.status),
            ("{}:{alertname=\"X\"}", AlertStatus::Resolved)
        );
        assert_eq!((read.labels["alertname"].as_str(), read.truncated), ("X", 2));
        assert!(read.common_labels.is_empty() && read.common_annotations.is_empty());
        for (fields, expected) in [
            (r#""status": "firing","#, "the field `groupKey` is missing"),
            (r#""status": "firing", "groupKey": " ","#, "the field `groupKey` is empty"),
            (r#""groupKey": "k","#, "the field `status` is missing"),
            (
                r#""status": "firing", "groupKey": "k", "truncatedAlerts": -1,"#,
                "`truncatedAlerts` is -1",
            ),
        ] {
            let error = group(fields).unwrap_err();
            assert!(error.message.contains(expected), "{fields}: {}", error.message);
        }
        // The per-alert mode reads none of it.
        assert!(parse(format!(r#"{{"version": "4", "alerts": [{ALERT}]}}"#).as_bytes()).is_ok());
    }

    #[test]
    fn missing_optional_fields_are_empty() {
        let alert =
            &parse(&body(r#"[{"status": "resolved", "fingerprint": "f", "generatorURL": ""}]"#))
                .unwrap()
                .alerts[0];
        assert!(alert.labels.is_empty() && alert.annotations.is_empty());
        assert_eq!(alert.generator_url, None);
    }
}
