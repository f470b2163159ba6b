//! What a new incident says about its ticket: summary, details, priority and
//! link. Text is copied as Zendesk rendered it (plain text); nothing is
//! HTML-escaped or unescaped, because the host and its clients treat every
//! field as plain text.

use crate::ticket::Ticket;
use inbound_sdk::text::truncate_chars;
use inbound_sdk::web_url;
use inbound_sdk::{NewIncident, Priority};

/// The host's limits (see `incident` in the WIT). Cutting here rather than
/// leaving it to the host keeps the cut on a character boundary with a `…`.
pub const SUMMARY_MAX_CHARS: usize = 512;
pub const DETAILS_MAX_CHARS: usize = 16_384;

/// The incident to open for `ticket`.
pub fn new_incident(ticket: &Ticket) -> NewIncident {
    let (url, link_note) = link(ticket);
    NewIncident {
        key: ticket.id.clone(),
        summary: summary(ticket),
        details: details(ticket, link_note),
        priority: priority(&ticket.priority),
        url,
        links: Vec::new(),
    }
}

/// The ticket's link when the host will take it as the incident's `url`.
/// A link it would refuse (`javascript:`, a CR/LF, no host) is left out and
/// the details say so: refusing the whole ticket for its link would lose the
/// incident.
fn link(ticket: &Ticket) -> (Option<String>, Option<String>) {
    let Some(link) = present(&ticket.link) else { return (None, None) };
    match web_url::check(link) {
        Ok(()) => (Some(link.to_string()), None),
        Err(reason) => {
            let shown = truncate_chars(link, LINK_SHOWN_MAX_CHARS);
            (None, Some(format!("Link left out: {shown:?} {reason}")))
        }
    }
}

/// How much of a refused link the details quote.
const LINK_SHOWN_MAX_CHARS: usize = 200;

/// The ticket's title; an untitled ticket still needs a recognisable line.
fn summary(ticket: &Ticket) -> String {
    match present(&ticket.title) {
        Some(title) => truncate_chars(title, SUMMARY_MAX_CHARS),
        None => format!("Zendesk ticket #{}", ticket.id),
    }
}

/// The description, then one line per ticket attribute that has a value, so
/// a responder sees who is involved without opening Zendesk, then `note`.
fn details(ticket: &Ticket, note: Option<String>) -> String {
    let attributes = [
        ("Requester", &ticket.requester_name),
        ("Group", &ticket.group_name),
        ("Assignee", &ticket.assignee_name),
        ("Via", &ticket.via),
        ("Account", &ticket.account),
        ("Zendesk priority", &ticket.priority),
    ];
    let lines: Vec<String> = attributes
        .iter()
        .filter_map(|(label, value)| present(value).map(|value| format!("{label}: {value}")))
        .chain(note)
        .collect();
    let mut details = ticket.description.trim().to_string();
    if !lines.is_empty() {
        if !details.is_empty() {
            details.push_str("\n\n");
        }
        details.push_str(&lines.join("\n"));
    }
    truncate_chars(&details, DETAILS_MAX_CHARS)
}

/// Zendesk's four priorities map one to one; "-" (no priority) and anything
/// unrecognised, such as a translated word, leave the incident without one.
pub fn priority(word: &str) -> Option<Priority> {
    match word.trim().to_lowercase().as_str() {
        "low" => Some(Priority::Low),
        "normal" => Some(Priority::Normal),
        "high" => Some(Priority::High),
        "urgent" => Some(Priority::Urgent),
        _ => None,
    }
}

/// A field's text when it says something: Zendesk renders an unset
/// attribute as empty or as "-".
pub fn present(text: &str) -> Option<&str> {
    match text.trim() {
        "" | "-" => None,
        trimmed => Some(trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_ticket() -> Ticket {
        Ticket {
            id: "4711".into(),
            title: "Printer on fire".into(),
            description: "The printer on floor 3 is on fire.".into(),
            via: "Web form".into(),
            status: "Open".into(),
            priority: "Urgent".into(),
            requester_name: "Ada Lovelace".into(),
            group_name: "Facilities".into(),
            assignee_name: "Grace Hopper".into(),
            account: "Example Corp".into(),
            link: "https://example.zendesk.com/agent/tickets/4711".into(),
            latest_comment: String::new(),
        }
    }

    #[test]
    fn full_ticket_maps_every_field() {
        let incident = new_incident(&full_ticket());
        assert_eq!(incident.key, "4711");
        assert_eq!(incident.summary, "Printer on fire");
        assert_eq!(
            incident.details,
            "The printer on floor 3 is on fire.\n\n\
             Requester: Ada Lovelace\n\
             Group: Facilities\n\
             Assignee: Grace Hopper\n\
             Via: Web form\n\
             Account: Example Corp\n\
             Zendesk priority: Urgent"
        );
        assert_eq!(incident.priority, Some(Priority::Urgent));
        assert_eq!(incident.url.as_deref(), Some("https://example.zendesk.com/agent/tickets/4711"));
    }

    #[test]
    fn a_link_the_host_would_refuse_is_left_out_and_said_so_in_the_details() {
        for link in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<b>x</b>",
            "https://",
            "http://a\r\nForged: line",
        ] {
            let incident = new_incident(&Ticket { link: link.into(), ..full_ticket() });
            assert_eq!(incident.url, None, "{link:?}");
            let note = incident.details.lines().last().unwrap();
            assert!(note.starts_with("Link left out: \""), "{link:?}: {note}");
            assert!(!incident.details.contains("\r"), "{link:?}: {}", incident.details);
            assert!(!incident.details.contains("\nForged"), "{link:?}: {}", incident.details);
        }
    }

    #[test]
    fn an_upper_case_https_link_is_kept() {
        let incident = new_incident(&Ticket {
            link: "HTTPS://EXAMPLE.ZENDESK.COM/t/1".into(),
            ..full_ticket()
        });
        assert_eq!(incident.url.as_deref(), Some("HTTPS://EXAMPLE.ZENDESK.COM/t/1"));
        assert!(!incident.details.contains("Link left out"));
    }

    #[test]
    fn bare_ticket_gets_a_numbered_summary_and_nothing_else() {
        let incident =
            new_incident(&Ticket { id: "12".into(), title: "  ".into(), ..Ticket::default() });
        assert_eq!(incident.summary, "Zendesk ticket #12");
        assert_eq!(incident.details, "");
        assert_eq!(incident.priority, None);
        assert_eq!(incident.url, None);
    }

    #[test]
    fn empty_and_dash_attributes_are_left_out() {
        let ticket = Ticket {
            group_name: "".into(),
            assignee_name: " ".into(),
            priority: "-".into(),
            ..full_ticket()
        };
        let details = new_incident(&ticket).details;
        assert!(!details.contains("Group:"), "{details}");
        assert!(!details.contains("Assignee:"), "{details}");
        assert!(!details.contains("priority"), "{details}");
        assert!(details.contains("Requester: Ada Lovelace"), "{details}");
    }

    #[test]
    fn details_without_description_start_with_the_attributes() {
        let ticket = Ticket { description: String::new(), ..full_ticket() };
        assert!(new_incident(&ticket).details.starts_with("Requester: Ada Lovelace\n"));
    }

    #[test]
    fn priorities_in_any_case() {
        let cases = [
            ("low", Some(Priority::Low)),
            ("Normal", Some(Priority::Normal)),
            ("HIGH", Some(Priority::High)),
            (" urgent ", Some(Priority::Urgent)),
            ("-", None),
            ("", None),
            ("Dringend", None),
        ];
        for (word, expected) in cases {
            assert_eq!(priority(word), expected, "{word:?}");
        }
    }

    #[test]
    fn unknown_priority_still_shows_in_details() {
        let ticket = Ticket { priority: "Dringend".into(), ..full_ticket() };
        assert!(new_incident(&ticket).details.ends_with("Zendesk priority: Dringend"));
    }

    #[test]
    fn long_multibyte_title_is_cut_on_a_character_boundary() {
        let ticket = Ticket { title: "ø🚨".repeat(400), ..full_ticket() };
        let summary = new_incident(&ticket).summary;
        assert_eq!(summary.chars().count(), SUMMARY_MAX_CHARS);
        assert!(summary.starts_with("ø🚨ø🚨"));
        assert!(summary.ends_with('…'));
    }

    #[test]
    fn long_multibyte_details_are_cut_on_a_character_boundary() {
        let ticket = Ticket { description: "æ".repeat(20_000), ..full_ticket() };
        let details = new_incident(&ticket).details;
        assert_eq!(details.chars().count(), DETAILS_MAX_CHARS);
        assert!(details.ends_with('…'));
    }

    #[test]
    fn html_looking_text_is_kept_verbatim() {
        let ticket = Ticket {
            title: "<b>a</b> &amp; b".into(),
            description: "x &lt; y".into(),
            ..full_ticket()
        };
        let incident = new_incident(&ticket);
        assert_eq!(incident.summary, "<b>a</b> &amp; b");
        assert!(incident.details.starts_with("x &lt; y\n\n"));
    }
}
