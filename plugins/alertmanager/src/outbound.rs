//! Acting back on Alertmanager (plugin API 0.5.0). An accept in inbound
//! silences the incident's alerts; a resolve in inbound expires that
//! silence:
//!
//! ```text
//! POST /api/v2/silences
//! {"comment":"Accepted in inbound incident 42 by ada [inbound-42-17]","createdBy":"inbound (ada)",
//!  "endsAt":"2024-05-02T10:00:00.000Z","matchers":[{"isEqual":true,"isRegex":false,"name":"alertname","value":"DiskFull"}],
//!  "startsAt":"2024-05-01T10:00:00.000Z"}
//! DELETE /api/v2/silence/<silenceID>
//! ```
//!
//! The silence matches the labels `handle` kept when it created the incident
//! (`crate::remember`); the host keeps Alertmanager's answer
//! (`{"silenceID": "..."}`) under `silence/<incident id>` for the resolve.
//! A silence fires no webhook, so nothing comes back to recognise.

use crate::host::Host;
use crate::remember;
use crate::settings::Settings;
use inbound_sdk::outbound::{Change, ChangeKind, OutboundRequest};
use inbound_sdk::text::truncate_chars;
use inbound_sdk::{Incident, IncidentStatus};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Who made the change, as shown in the silence: cut like a comment author.
const BY_MAX_CHARS: usize = 64;

/// The requests that tell Alertmanager about `change` to `incident` (as it
/// is now): the silence on an accept, its expiry on a resolve.
pub fn on_change(
    host: &mut impl Host,
    change: &Change,
    incident: &Incident,
    settings: &Settings,
) -> Result<Vec<OutboundRequest>, String> {
    match change.kind {
        ChangeKind::Accepted => {
            // Resolved in the meantime: a silence would only hide the
            // alert's next firing.
            if !settings.silence_on_accept || incident.status != IncidentStatus::Accepted {
                return Ok(Vec::new());
            }
            // A silence already created for it (a repeated call).
            if host.state_get(&remember::silence_key(incident.id)).is_some() {
                return Ok(Vec::new());
            }
            let labels = remember::labels(host, incident.id).ok_or_else(|| {
                format!(
                    "no silence for incident {}: the plugin did not keep the labels of its alerts \
                     (opened by a plugin version before 0.4.0, labels over {} bytes, or too many incidents opened by one notification)",
                    incident.id,
                    remember::MAX_LABELS_BYTES
                )
            })?;
            Ok(vec![silence(change, incident, &labels, settings.silence_hours)?])
        }
        ChangeKind::Resolved => {
            let Some(answer) = host.state_get(&remember::silence_key(incident.id)) else {
                return Ok(Vec::new());
            };
            let id = silence_id(&answer).ok_or_else(|| {
                format!(
                    "the silence of incident {} cannot be expired: Alertmanager's answer kept for it, {:?}, has no silenceID; expire it in Alertmanager",
                    incident.id,
                    truncate_chars(&String::from_utf8_lossy(&answer), 80)
                )
            })?;
            Ok(vec![OutboundRequest::delete(&format!("/api/v2/silence/{id}"))])
        }
        ChangeKind::Noted | ChangeKind::EscalationExhausted | ChangeKind::HeldForMaintenance => {
            Ok(Vec::new())
        }
    }
}

/// `POST /api/v2/silences` for `labels`, from the change's time for
/// `hours`; Alertmanager's answer is kept under `silence/<incident id>`.
fn silence(
    change: &Change,
    incident: &Incident,
    labels: &BTreeMap<String, String>,
    hours: u32,
) -> Result<OutboundRequest, String> {
    let ends = change.at.checked_add(u64::from(hours) * 3_600_000);
    let (Some(starts_at), Some(ends_at)) = (rfc3339(change.at), ends.and_then(rfc3339)) else {
        return Err(format!("the change's time {} ms is past the year 9999", change.at));
    };
    let by = truncate_chars(change.by.trim(), BY_MAX_CHARS);
    let matchers: Vec<Value> = labels
        .iter()
        .map(|(name, value)| {
            json!({ "isEqual": true, "isRegex": false, "name": name, "value": value })
        })
        .collect();
    // Keys in the order serde_json writes them (sorted).
    let body = json!({
        "comment": format!("Accepted in inbound incident {} by {by} [{}]", incident.id, change.marker),
        "createdBy": format!("inbound ({by})"),
        "endsAt": ends_at,
        "matchers": matchers,
        "startsAt": starts_at,
    });
    Ok(OutboundRequest::post_json("/api/v2/silences", &body)
        .remember_as(&remember::silence_key(incident.id)))
}

/// The `silenceID` of Alertmanager's answer, if it is one Alertmanager
/// gives (a UUID: letters, digits and dashes), so the path stays a path.
fn silence_id(answer: &[u8]) -> Option<String> {
    let answer: Value = serde_json::from_slice(answer).ok()?;
    let id = answer.get("silenceID")?.as_str()?;
    let plain = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    plain.then(|| id.to_string())
}

/// `2024-05-01T10:00:00.000Z`: milliseconds since the Unix epoch as an
/// RFC 3339 UTC time; `None` past the year 9999.
pub fn rfc3339(ms: u64) -> Option<String> {
    const MAX_MS: u64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    if ms > MAX_MS {
        return None;
    }
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (day_secs / 3600, day_secs / 60 % 60, day_secs % 60);
    Some(format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z"))
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_host::FakeHost;
    use crate::remember::Budget;
    use inbound_sdk::outbound::Method;

    /// 2024-05-01T10:00:00.000Z
    const AT: u64 = 1_714_557_600_000;

    fn change(kind: ChangeKind) -> Change {
        Change { kind, by: "ada".into(), text: None, at: AT, marker: "inbound-42-17".into() }
    }

    fn incident(status: IncidentStatus) -> Incident {
        Incident {
            id: 42,
            key: "fp1".into(),
            status,
            summary: "DiskFull".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            created_at: 1,
            updated_at: 2,
        }
    }

    fn host_with_labels() -> FakeHost {
        let mut host = FakeHost::default();
        let labels = [("alertname", "DiskFull"), ("instance", "db1:9100")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        remember::remember_labels(&mut host, &mut Budget::after(1), 42, &labels).unwrap();
        host
    }

    fn on(host: &mut FakeHost, kind: ChangeKind, status: IncidentStatus) -> Vec<OutboundRequest> {
        on_change(host, &change(kind), &incident(status), &Settings::default()).unwrap()
    }

    #[test]
    fn an_accept_posts_a_silence_of_the_alert_s_labels_for_a_day() {
        let mut host = host_with_labels();
        let requests = on(&mut host, ChangeKind::Accepted, IncidentStatus::Accepted);
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!((request.method, request.path.as_str()), (Method::Post, "/api/v2/silences"));
        assert_eq!(request.headers, [("content-type".to_string(), "application/json".to_string())]);
        assert_eq!(request.remember_as.as_deref(), Some("silence/42"));
        assert_eq!(
            String::from_utf8(request.body.clone()).unwrap(),
            concat!(
                r#"{"comment":"Accepted in inbound incident 42 by ada [inbound-42-17]","createdBy":"inbound (ada)","#,
                r#""endsAt":"2024-05-02T10:00:00.000Z","matchers":["#,
                r#"{"isEqual":true,"isRegex":false,"name":"alertname","value":"DiskFull"},"#,
                r#"{"isEqual":true,"isRegex":false,"name":"instance","value":"db1:9100"}],"#,
                r#""startsAt":"2024-05-01T10:00:00.000Z"}"#
            )
        );
    }

    #[test]
    fn silence_hours_set_the_end() {
        let mut host = host_with_labels();
        let settings = Settings { silence_hours: 168, ..Settings::default() };
        let requests = on_change(
            &mut host,
            &change(ChangeKind::Accepted),
            &incident(IncidentStatus::Accepted),
            &settings,
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
        assert_eq!(body["endsAt"], "2024-05-08T10:00:00.000Z");
    }

    #[test]
    fn no_silence_when_turned_off_already_resolved_or_already_silenced() {
        let mut host = host_with_labels();
        assert!(on(&mut host, ChangeKind::Accepted, IncidentStatus::Resolved).is_empty());
        let off = Settings { silence_on_accept: false, ..Settings::default() };
        let accepted = incident(IncidentStatus::Accepted);
        assert!(
            on_change(&mut host, &change(ChangeKind::Accepted), &accepted, &off)
                .unwrap()
                .is_empty()
        );
        host.state.insert("silence/42".into(), br#"{"silenceID":"a"}"#.to_vec());
        assert!(on(&mut host, ChangeKind::Accepted, IncidentStatus::Accepted).is_empty());
    }

    #[test]
    fn an_accept_without_kept_labels_says_why_there_is_no_silence() {
        let mut host = FakeHost::default();
        let error = on_change(
            &mut host,
            &change(ChangeKind::Accepted),
            &incident(IncidentStatus::Accepted),
            &Settings::default(),
        )
        .unwrap_err();
        assert!(
            error.starts_with("no silence for incident 42: the plugin did not keep"),
            "{error}"
        );
    }

    #[test]
    fn other_changes_send_nothing() {
        let mut host = host_with_labels();
        host.state.insert("silence/42".into(), br#"{"silenceID":"a"}"#.to_vec());
        for kind in
            [ChangeKind::Noted, ChangeKind::EscalationExhausted, ChangeKind::HeldForMaintenance]
        {
            assert!(on(&mut host, kind, IncidentStatus::Accepted).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn a_resolve_expires_the_silence_alertmanager_named() {
        let mut host = FakeHost::default();
        assert!(
            on(&mut host, ChangeKind::Resolved, IncidentStatus::Resolved).is_empty(),
            "none made"
        );
        host.state.insert(
            "silence/42".into(),
            br#"{"silenceID":"6f1c7a62-2a1e-4e55-9d0a-3b3f0f6d1e2a"}"#.to_vec(),
        );
        let requests = on(&mut host, ChangeKind::Resolved, IncidentStatus::Resolved);
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(
            (request.method, request.path.as_str()),
            (Method::Delete, "/api/v2/silence/6f1c7a62-2a1e-4e55-9d0a-3b3f0f6d1e2a")
        );
        assert!(
            request.body.is_empty() && request.headers.is_empty() && request.remember_as.is_none()
        );
    }

    #[test]
    fn an_answer_without_a_plain_silence_id_is_an_error() {
        for answer in
            [&b"<html>"[..], br#"{"silenceID":"../alerts"}"#, br#"{"silenceID":""}"#, br#"{}"#]
        {
            let mut host = FakeHost::default();
            host.state.insert("silence/42".into(), answer.to_vec());
            let error = on_change(
                &mut host,
                &change(ChangeKind::Resolved),
                &incident(IncidentStatus::Resolved),
                &Settings::default(),
            )
            .unwrap_err();
            assert!(error.contains("has no silenceID"), "{error}");
        }
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(AT).unwrap(), "2024-05-01T10:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000).unwrap(), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_709_251_199_999).unwrap(), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339(4_107_542_400_000).unwrap(), "2100-03-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123).unwrap(), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(253_402_300_799_999).unwrap(), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(253_402_300_800_000), None);
        let error = on_change(
            &mut host_with_labels(),
            &Change { at: u64::MAX - 1, ..change(ChangeKind::Accepted) },
            &incident(IncidentStatus::Accepted),
            &Settings::default(),
        )
        .unwrap_err();
        assert!(error.contains("past the year 9999"), "{error}");
    }

    #[test]
    fn every_day_from_1970_to_9999_follows_the_one_before() {
        let leap = |year: u64| {
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
        };
        let length = |year: u64, month: u64| match month {
            2 if leap(year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut expected = (1970, 1, 1);
        for days in 0..=2_932_896 {
            assert_eq!(civil_from_days(days), expected, "day {days}");
            let (year, month, day) = expected;
            expected = if day < length(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
        assert_eq!(expected, (10000, 1, 1));
    }
}
