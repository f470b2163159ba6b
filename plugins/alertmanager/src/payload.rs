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

pub fn parse(body: &[u8]) -> Result<Notification, Rejection> {
    let root = json::parse_lenient(body)?;
    if !root.is_object() {
        return Err(Rejection::new(
            "invalid-json",
            format!(
                "the body is {}; expected Alertmanager's webhook JSON object",
                json::kind(&root)
            ),
        ));
    }
    let version = json::str_field(&root, "", "version")?;
    if version != VERSION {
        return Err(Rejection::invalid_field(
            "version",
            format!("is {version:?}; this plugin reads Alertmanager webhook version \"{VERSION}\""),
        ));
    }
    let alerts = json::array_field(&root, "", "alerts")?;
    if alerts.is_empty() {
        return Err(Rejection::invalid_field("alerts", "is empty; expected at least one alert"));
    }
    let alerts = alerts
        .iter()
        .enumerate()
        .map(|(i, alert)| parse_alert(alert, &index("alerts", i)))
        .collect::<Result<_, _>>()?;
    Ok(Notification {
        external_url: non_empty(json::opt_str_field(&root, "", "externalURL")?),
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
    let status = match json::str_field(alert, at, "status")? {
        "firing" => AlertStatus::Firing,
        "resolved" => AlertStatus::Resolved,
        other => {
            return Err(Rejection::invalid_field(
                &path(at, "status"),
                format!("is {other:?}; expected \"firing\" or \"resolved\""),
            ));
        }
    };
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

/// Labels and annotations: string to string. Missing is empty.
fn string_map(alert: &Value, at: &str, field: &str) -> Result<BTreeMap<String, String>, Rejection> {
    let Some(map) = json::opt_object_field(alert, at, field)? else {
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
    fn missing_optional_fields_are_empty() {
        let alert =
            &parse(&body(r#"[{"status": "resolved", "fingerprint": "f", "generatorURL": ""}]"#))
                .unwrap()
                .alerts[0];
        assert!(alert.labels.is_empty() && alert.annotations.is_empty());
        assert_eq!(alert.generator_url, None);
    }
}
