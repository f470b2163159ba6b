//! How a received event is written into its incidents' logs: headers
//! without credentials, the body as text up to the configured cap.

use crate::store::{Action, Incident, IncidentId, LogKind, Session};

/// How received events are logged (`[storage]` in the config).
#[derive(Debug, Clone, Copy)]
pub struct EventLogOptions {
    /// How much of each body the log keeps.
    pub body_cap: usize,
    /// An event identical to its incident's last log entry is counted there.
    pub count_repeats: bool,
}

/// Logs the event once on every incident it concerned, with the action it
/// had on the first mention of that incident. Returns the bytes logged (an
/// upper bound: a repeat is counted, not stored again).
pub(super) fn record_event(
    session: &mut Session,
    outcomes: &[(Action, Incident)],
    headers: &[(String, String)],
    body: &[u8],
    options: EventLogOptions,
) -> usize {
    let cap = options.body_cap;
    let mut logged: Vec<IncidentId> = Vec::new();
    let per_entry = body.len().min(cap)
        + headers.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>();
    for (action, incident) in outcomes {
        if logged.contains(&incident.id) {
            continue;
        }
        logged.push(incident.id);
        let entry = event_received(*action, headers, body, cap);
        session.append_event(incident.id, entry, options.count_repeats);
    }
    logged.len() * per_entry
}

/// The log entry of one received event.
pub(super) fn event_received(
    action: Action,
    headers: &[(String, String)],
    body: &[u8],
    cap: usize,
) -> LogKind {
    let (logged_body, truncated) = cap_body(body, cap);
    LogKind::EventReceived {
        action,
        headers: headers.to_vec(),
        body: logged_body,
        body_bytes: body.len(),
        body_truncated: truncated,
        repeats: 0,
        last_repeat_at: None,
        shared_body: None,
    }
}

/// Credentials never reach storage or logs.
pub(super) fn loggable_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    const SECRET: [&str; 4] =
        ["authorization", "cookie", "proxy-authorization", "x-zendesk-webhook-signature"];
    headers.iter().filter(|(name, _)| !SECRET.contains(&name.as_str())).cloned().collect()
}

/// The body as text, cut to `cap` bytes on a character boundary.
fn cap_body(body: &[u8], cap: usize) -> (String, bool) {
    let text = String::from_utf8_lossy(body);
    if text.len() <= cap {
        return (text.into_owned(), false);
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_under_cap_is_kept_whole() {
        assert_eq!(cap_body(b"abc", 3), ("abc".to_string(), false));
    }

    #[test]
    fn body_over_cap_is_cut_on_a_character_boundary() {
        let (text, truncated) = cap_body("aøb".as_bytes(), 2);
        assert_eq!(text, "a");
        assert!(truncated);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        let (text, _) = cap_body(b"a\xffb", 100);
        assert_eq!(text, "a\u{fffd}b");
    }

    #[test]
    fn credentials_are_not_logged() {
        let headers = vec![
            ("authorization".to_string(), "Bearer x".to_string()),
            ("x-zendesk-webhook-signature".to_string(), "sig".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        assert_eq!(
            loggable_headers(&headers),
            vec![("content-type".to_string(), "application/json".to_string())]
        );
    }
}
