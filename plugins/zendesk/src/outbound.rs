//! Acting back on Zendesk (plugin API 0.5.0): when a person accepts,
//! resolves or notes the incident in inbound, when its escalation runs out,
//! or when a maintenance window holds its pages, the ticket gets an
//! internal note, and for accept and resolve optionally a new status:
//!
//! ```text
//! PUT /api/v2/tickets/4711.json
//! {"ticket": {"comment": {"body": "Accepted in inbound by ada: on it\n\n[inbound-42-17]", "public": false}, "status": "open"}}
//! ```
//!
//! The ticket's trigger then posts the ticket back to inbound with that
//! note as its latest comment. The note ends with the change's marker, so
//! [`is_echo`] recognises it and the lifecycle changes nothing for it
//! (`crate::lifecycle`).

use inbound_sdk::Incident;
use inbound_sdk::outbound::{Change, ChangeKind, OutboundRequest, carries_marker};
use inbound_sdk::text::truncate_chars;
use serde_json::{Value, json};

/// The settings' names.
pub const ON_ACCEPT_STATUS: &str = "on_accept_status";
pub const ON_RESOLVE_STATUS: &str = "on_resolve_status";
pub const SYNC_NOTES: &str = "sync_notes";

/// The statuses an accept may set. Their echo leaves an accepted incident as
/// it is: Open and Pending change nothing for it, and On-hold is one of the
/// two whatever `on_hold` says. (New cannot be set again through the API;
/// Solved would resolve the incident.)
const ACCEPT_STATUSES: [&str; 3] = ["open", "pending", "hold"];
/// The status a resolve may set. An open, pending or on-hold ticket would
/// tell inbound it needs an incident again.
const RESOLVE_STATUSES: [&str; 1] = ["solved"];

/// A note is cut to this many characters: even written as six-byte JSON
/// escapes it stays inside the host's 64 KiB request body.
const NOTE_MAX_CHARS: usize = 8192;
/// Who made the change, as the comment author is cut in the lifecycle.
const BY_MAX_CHARS: usize = 64;

/// The source's outbound settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSettings {
    /// The ticket status an accept in inbound sets; `None` keeps it.
    pub on_accept_status: Option<&'static str>,
    /// The ticket status a resolve in inbound sets; `None` keeps it.
    pub on_resolve_status: Option<&'static str>,
    /// Whether notes written in inbound become internal notes on the ticket.
    pub sync_notes: bool,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings { on_accept_status: None, on_resolve_status: None, sync_notes: true }
    }
}

/// A refused outbound setting: which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub setting: &'static str,
    pub message: String,
}

impl OutboundSettings {
    /// Reads the outbound keys of the source's settings (a JSON object, `{}`
    /// when none). The other keys, and settings that are not a JSON object,
    /// are judged by `crate::status`.
    pub fn from_settings(settings: &str) -> Result<OutboundSettings, Refused> {
        let mut read = OutboundSettings::default();
        let Ok(Value::Object(table)) = serde_json::from_str::<Value>(settings.trim()) else {
            return Ok(read);
        };
        if let Some(value) = table.get(ON_ACCEPT_STATUS) {
            read.on_accept_status = Some(status(value, &ACCEPT_STATUSES).map_err(
                |found| Refused {
                    setting: ON_ACCEPT_STATUS,
                    message: format!(
                        "setting \"{ON_ACCEPT_STATUS}\" is {found}; expected \"open\", \"pending\" or \"hold\": \
                         the ticket's trigger sends the status back, and only these leave the accepted incident as it is"
                    ),
                },
            )?);
        }
        if let Some(value) = table.get(ON_RESOLVE_STATUS) {
            read.on_resolve_status =
                Some(status(value, &RESOLVE_STATUSES).map_err(|found| {
                    Refused {
                        setting: ON_RESOLVE_STATUS,
                        message: format!(
                            "setting \"{ON_RESOLVE_STATUS}\" is {found}; expected \"solved\", or leave it out to keep the ticket's status: \
                             a new, open, pending or on-hold ticket comes back through the trigger as one that needs an incident, \
                             so inbound would open a new incident for the ticket it just resolved (a loop)"
                        ),
                    }
                })?);
        }
        if let Some(value) = table.get(SYNC_NOTES) {
            read.sync_notes = value.as_bool().ok_or_else(|| Refused {
                setting: SYNC_NOTES,
                message: format!("setting \"{SYNC_NOTES}\" is {value}; expected true or false"),
            })?;
        }
        Ok(read)
    }
}

/// The allowed word `value` names (any case, surrounding space ignored), or
/// `value` as JSON for the message.
fn status(value: &Value, allowed: &[&'static str]) -> Result<&'static str, String> {
    let word = value.as_str().map(|word| word.trim().to_lowercase());
    allowed
        .iter()
        .copied()
        .find(|allowed| word.as_deref() == Some(*allowed))
        .ok_or_else(|| value.to_string())
}

/// Whether the ticket's latest comment is one inbound wrote: the echo of a
/// request from [`on_change`].
pub fn is_echo(latest_comment: &str) -> bool {
    carries_marker(latest_comment)
}

/// The requests that tell Zendesk about `change`: at most one, the ticket
/// update.
pub fn on_change(
    change: &Change,
    incident: &Incident,
    settings: &str,
) -> Result<Vec<OutboundRequest>, String> {
    let settings = OutboundSettings::from_settings(settings).map_err(|refused| refused.message)?;
    let ticket = ticket_number(incident)?;
    if !carries_marker(&change.marker) {
        // Without a marker the trigger's echo could not be told from an
        // agent's comment; sending nothing is safer than a loop.
        return Err(format!(
            "the change's marker {:?} is not one this plugin recognises (inbound-<incident>-<n>), so Zendesk's echo of the note could not be told apart; nothing sent",
            change.marker
        ));
    }
    let by = truncate_chars(change.by.trim(), BY_MAX_CHARS);
    let text = change
        .text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| truncate_chars(text, NOTE_MAX_CHARS));
    let (note, status) = match change.kind {
        ChangeKind::Accepted => {
            (with_note(format!("Accepted in inbound by {by}"), text), settings.on_accept_status)
        }
        ChangeKind::Resolved => {
            (with_note(format!("Resolved in inbound by {by}"), text), settings.on_resolve_status)
        }
        ChangeKind::Noted => match text {
            Some(text) if settings.sync_notes => {
                (format!("Note from {by} in inbound: {text}"), None)
            }
            _ => return Ok(Vec::new()),
        },
        ChangeKind::EscalationExhausted => (
            "Every escalation level in inbound fired and nobody accepted the incident.".to_string(),
            None,
        ),
        ChangeKind::HeldForMaintenance => (
            match text {
                Some(window) => {
                    format!("inbound holds the incident's pages for maintenance window {window}.")
                }
                None => "inbound holds the incident's pages for a maintenance window.".to_string(),
            },
            None,
        ),
    };
    Ok(vec![ticket_update(&ticket, &format!("{note}\n\n[{}]", change.marker), status)])
}

/// `Accepted in inbound by ada: <note>`, or `Accepted in inbound by ada.`
fn with_note(what: String, note: Option<String>) -> String {
    match note {
        Some(note) => format!("{what}: {note}"),
        None => format!("{what}."),
    }
}

/// The ticket number: the incident key, which the lifecycle made from the
/// ticket's `id` (digits, no leading zeros).
fn ticket_number(incident: &Incident) -> Result<String, String> {
    let key = incident.key.trim();
    if !key.is_empty() && key.len() <= 20 && key.bytes().all(|byte| byte.is_ascii_digit()) {
        return Ok(key.to_string());
    }
    Err(format!(
        "incident {}'s key {:?} is not a Zendesk ticket number, so there is no ticket to update",
        incident.id,
        truncate_chars(&incident.key, 80)
    ))
}

/// An internal note on the ticket, and its new status if any. Keys are
/// written in the order serde_json writes them (sorted).
fn ticket_update(ticket: &str, body: &str, status: Option<&str>) -> OutboundRequest {
    let mut update = json!({ "comment": { "body": body, "public": false } });
    if let Some(status) = status {
        update["status"] = json!(status);
    }
    OutboundRequest::put_json(
        &format!("/api/v2/tickets/{ticket}.json"),
        &json!({ "ticket": update }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbound_sdk::IncidentStatus;
    use inbound_sdk::outbound::Method;

    pub fn change(kind: ChangeKind, text: Option<&str>) -> Change {
        Change {
            kind,
            by: "ada".into(),
            text: text.map(str::to_string),
            at: 1_700_000_000_000,
            marker: "inbound-42-17".into(),
        }
    }

    pub fn incident(key: &str) -> Incident {
        Incident {
            id: 42,
            key: key.into(),
            status: IncidentStatus::Accepted,
            summary: "Printer on fire".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            created_at: 1,
            updated_at: 2,
        }
    }

    /// The one request's method, path and body as text.
    fn sent(change: &Change, settings: &str) -> (Method, String, String) {
        let requests = on_change(change, &incident("4711"), settings).unwrap();
        assert_eq!(requests.len(), 1, "{requests:?}");
        let request = &requests[0];
        assert_eq!(request.headers, [("content-type".to_string(), "application/json".to_string())]);
        assert!(request.remember_as.is_none());
        (request.method, request.path.clone(), String::from_utf8(request.body.clone()).unwrap())
    }

    fn body(change: &Change, settings: &str) -> String {
        sent(change, settings).2
    }

    #[test]
    fn an_accept_with_a_note_and_a_status_is_one_ticket_update() {
        let (method, path, body) = sent(
            &change(ChangeKind::Accepted, Some("looking at it")),
            r#"{"on_accept_status": "pending"}"#,
        );
        assert_eq!((method, path.as_str()), (Method::Put, "/api/v2/tickets/4711.json"));
        assert_eq!(
            body,
            r#"{"ticket":{"comment":{"body":"Accepted in inbound by ada: looking at it\n\n[inbound-42-17]","public":false},"status":"pending"}}"#
        );
    }

    #[test]
    fn without_a_status_setting_the_status_is_left_alone() {
        assert_eq!(
            body(&change(ChangeKind::Accepted, None), "{}"),
            r#"{"ticket":{"comment":{"body":"Accepted in inbound by ada.\n\n[inbound-42-17]","public":false}}}"#
        );
        assert_eq!(
            body(&change(ChangeKind::Resolved, Some("  ")), ""),
            r#"{"ticket":{"comment":{"body":"Resolved in inbound by ada.\n\n[inbound-42-17]","public":false}}}"#
        );
    }

    #[test]
    fn a_resolve_may_solve_the_ticket() {
        assert_eq!(
            body(
                &change(ChangeKind::Resolved, Some("replaced the toner")),
                r#"{"on_resolve_status": "Solved", "on_accept_status": "open"}"#
            ),
            r#"{"ticket":{"comment":{"body":"Resolved in inbound by ada: replaced the toner\n\n[inbound-42-17]","public":false},"status":"solved"}}"#
        );
    }

    #[test]
    fn notes_escalation_and_maintenance_are_internal_notes_without_a_status() {
        let settings = r#"{"on_accept_status": "open", "on_resolve_status": "solved"}"#;
        let cases = [
            (
                ChangeKind::Noted,
                Some("called the vendor"),
                "Note from ada in inbound: called the vendor",
            ),
            (
                ChangeKind::EscalationExhausted,
                None,
                "Every escalation level in inbound fired and nobody accepted the incident.",
            ),
            (
                ChangeKind::HeldForMaintenance,
                Some("Printer swap"),
                "inbound holds the incident's pages for maintenance window Printer swap.",
            ),
            (
                ChangeKind::HeldForMaintenance,
                None,
                "inbound holds the incident's pages for a maintenance window.",
            ),
        ];
        for (kind, text, note) in cases {
            let expected = json!({"ticket": {"comment": {"body": format!("{note}\n\n[inbound-42-17]"), "public": false}}});
            assert_eq!(body(&change(kind, text), settings), expected.to_string(), "{kind:?}");
        }
    }

    #[test]
    fn every_note_ends_with_its_marker_on_a_line_of_its_own() {
        for kind in [
            ChangeKind::Accepted,
            ChangeKind::Resolved,
            ChangeKind::Noted,
            ChangeKind::EscalationExhausted,
            ChangeKind::HeldForMaintenance,
        ] {
            let sent: Value = serde_json::from_str(&body(&change(kind, Some("x")), "{}")).unwrap();
            let note = sent["ticket"]["comment"]["body"].as_str().unwrap();
            assert!(note.ends_with("\n\n[inbound-42-17]"), "{kind:?}: {note}");
            assert!(carries_marker(note), "{kind:?}");
            assert_eq!(sent["ticket"]["comment"]["public"], false);
        }
    }

    #[test]
    fn notes_can_be_turned_off_and_empty_notes_are_not_sent() {
        let off = r#"{"sync_notes": false}"#;
        let incident = incident("4711");
        assert!(
            on_change(&change(ChangeKind::Noted, Some("x")), &incident, off).unwrap().is_empty()
        );
        assert!(
            on_change(&change(ChangeKind::Noted, Some(" ")), &incident, "{}").unwrap().is_empty()
        );
        assert!(on_change(&change(ChangeKind::Noted, None), &incident, "{}").unwrap().is_empty());
        assert_eq!(
            on_change(&change(ChangeKind::Accepted, None), &incident, off).unwrap().len(),
            1
        );
    }

    #[test]
    fn long_notes_are_cut_to_fit_the_request() {
        let long = "\u{1}".repeat(NOTE_MAX_CHARS * 2);
        let request =
            &on_change(&change(ChangeKind::Noted, Some(&long)), &incident("1"), "{}").unwrap()[0];
        assert!(request.body.len() <= 64 << 10, "{} bytes", request.body.len());
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        assert!(
            sent["ticket"]["comment"]["body"].as_str().unwrap().ends_with("…\n\n[inbound-42-17]")
        );
    }

    #[test]
    fn only_a_ticket_number_is_updated() {
        for key in ["", "abc", "12a", "-1", "1 2", "123456789012345678901"] {
            let error =
                on_change(&change(ChangeKind::Accepted, None), &incident(key), "{}").unwrap_err();
            assert!(error.contains("is not a Zendesk ticket number"), "{key:?}: {error}");
            assert!(error.contains("incident 42"), "{error}");
        }
    }

    #[test]
    fn a_change_without_a_recognisable_marker_sends_nothing() {
        let mut odd = change(ChangeKind::Accepted, None);
        odd.marker = "42".into();
        let error = on_change(&odd, &incident("4711"), "{}").unwrap_err();
        assert!(error.contains("nothing sent"), "{error}");
    }

    #[test]
    fn statuses_that_would_loop_are_refused_and_say_why() {
        let refused = |settings: &str| OutboundSettings::from_settings(settings).unwrap_err();
        for word in ["solved", "closed", "new", "later"] {
            let error = refused(&format!(r#"{{"on_accept_status": "{word}"}}"#));
            assert_eq!(error.setting, ON_ACCEPT_STATUS);
            assert!(error.message.contains(&format!("\"{word}\"")), "{}", error.message);
            assert!(
                error.message.contains("leave the accepted incident as it is"),
                "{}",
                error.message
            );
        }
        for word in ["open", "new", "pending", "hold", "closed"] {
            let error = refused(&format!(r#"{{"on_resolve_status": "{word}"}}"#));
            assert_eq!(error.setting, ON_RESOLVE_STATUS);
            assert!(error.message.contains("expected \"solved\""), "{}", error.message);
            assert!(error.message.contains("a loop"), "{}", error.message);
        }
        assert_eq!(refused(r#"{"on_accept_status": 1}"#).setting, ON_ACCEPT_STATUS);
        let error = refused(r#"{"sync_notes": "no"}"#);
        assert_eq!(error.setting, SYNC_NOTES);
        assert!(error.message.contains("expected true or false"), "{}", error.message);
    }

    #[test]
    fn allowed_statuses_are_read_in_any_case() {
        let read = OutboundSettings::from_settings(
            r#"{"on_accept_status": " Hold ", "on_resolve_status": "SOLVED", "sync_notes": false, "on_hold": "pending"}"#,
        )
        .unwrap();
        assert_eq!(
            read,
            OutboundSettings {
                on_accept_status: Some("hold"),
                on_resolve_status: Some("solved"),
                sync_notes: false
            }
        );
        for word in ACCEPT_STATUSES {
            let settings = format!(r#"{{"on_accept_status": "{word}"}}"#);
            assert_eq!(
                OutboundSettings::from_settings(&settings).unwrap().on_accept_status,
                Some(word)
            );
        }
        assert_eq!(OutboundSettings::from_settings("").unwrap(), OutboundSettings::default());
        assert_eq!(OutboundSettings::from_settings("[]").unwrap(), OutboundSettings::default());
    }

    #[test]
    fn a_wrong_setting_is_the_change_s_error() {
        let error = on_change(
            &change(ChangeKind::Resolved, None),
            &incident("4711"),
            r#"{"on_resolve_status": "open"}"#,
        )
        .unwrap_err();
        assert!(error.contains("on_resolve_status"), "{error}");
    }
}
