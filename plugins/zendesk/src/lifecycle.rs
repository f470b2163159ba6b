//! The decision: what one ticket event does to the ticket's incident.
//!
//! The incident key is the ticket number, so the host keeps at most one open
//! incident per ticket. Every event is safe to deliver twice: Zendesk retries
//! and duplicates deliveries, and a repeated event finds the work done and
//! answers `unchanged`.
//!
//! | status          | open incident | then                                            |
//! |-----------------|---------------|-------------------------------------------------|
//! | New, Open       | none          | create (pending)                                |
//! | New, Open       | yes           | unchanged                                       |
//! | Pending         | none          | create (pending; the guide says "is created")   |
//! | Pending         | pending       | accept                                          |
//! | Pending         | accepted      | unchanged                                       |
//! | Solved, Closed  | yes           | resolve                                         |
//! | Solved, Closed  | none, had one | unchanged (Zendesk closes solved tickets later) |
//! | Solved, Closed  | never had one | reject `no-incident`                            |
//!
//! On-hold is Open unless the source's `on_hold` setting says Pending. A
//! resolved incident is never reopened: an Open or Pending event after it
//! creates a new one.
//!
//! An event whose latest comment carries a marker is inbound's own note
//! coming back through the trigger (`crate::outbound`). Its comment is never
//! logged, and only Solved and Closed act on it:
//!
//! | status             | open incident | then                                |
//! |--------------------|---------------|-------------------------------------|
//! | New, Open, Pending | yes           | unchanged (a pending one stays so)  |
//! | New, Open, Pending | none, had one | unchanged (no new incident)         |
//! | New, Open, Pending | never had one | create, as without a marker         |
//! | Solved, Closed     | any           | as without a marker                 |
//!
//! inbound's own requests only ever set a status its incident already has
//! (open, pending or on-hold after an accept, solved after a resolve), so
//! the echo changes nothing; a Solved ticket still resolves, because Zendesk
//! says so even when an agent solved it without a comment after the note.
//! Creating from an echo would loop: resolve in inbound, note on the still
//! open ticket, echo, new incident. The price: an agent who reopens or sets
//! Pending without a comment right after inbound's note is heard at the
//! ticket's next update.

use crate::fingerprint::fingerprint;
use crate::incident_text::{DETAILS_MAX_CHARS, new_incident, present};
use crate::outbound;
use crate::seen_comments::SeenComments;
use crate::status::TicketStatus;
use crate::ticket::Ticket;
use inbound_sdk::text::truncate_chars;
use inbound_sdk::{
    Action, ApiError, Incident, IncidentId, IncidentStatus, NewIncident, Outcome, Rejection,
};

/// The part of the host API the decision needs. The wasm build implements it
/// with the real imports (`crate::sdk_host`); tests use an in-memory fake,
/// because the import stubs panic when called outside a component.
pub trait Host {
    /// The open (pending or accepted) incident for `key`.
    fn find_open(&mut self, key: &str) -> Option<Incident>;
    /// The most recently created incident for `key`, whatever its status.
    fn find_latest(&mut self, key: &str) -> Option<Incident>;
    fn create(&mut self, new: &NewIncident) -> Result<Incident, ApiError>;
    fn accept(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError>;
    fn resolve(&mut self, id: IncidentId, note: &str) -> Result<Incident, ApiError>;
    fn comment(
        &mut self,
        id: IncidentId,
        author: Option<&str>,
        text: &str,
    ) -> Result<Incident, ApiError>;
    fn state_get(&mut self, key: &str) -> Option<Vec<u8>>;
    fn state_set(&mut self, key: &str, value: &[u8]) -> Result<(), ApiError>;
    fn state_delete(&mut self, key: &str);
}

/// Applies one ticket event and says what happened to which incident.
pub fn apply(
    host: &mut impl Host,
    ticket: &Ticket,
    status: TicketStatus,
) -> Result<Outcome, Rejection> {
    let key = ticket.id.as_str();
    let outcome = |action, incident: &Incident| Outcome { action, incident: incident.id };
    let echo = outbound::is_echo(&ticket.latest_comment);
    match (status, host.find_open(key)) {
        (TicketStatus::Solved, Some(incident)) => {
            // The comment first, so the incident's log reads in the order
            // things happened in Zendesk: the closing remark, then resolved.
            add_latest_comment(host, ticket, &incident, false)?;
            host.resolve(incident.id, &status_note(ticket))?;
            // Only open incidents take comments, so the fingerprints are not
            // needed any more; forgetting them keeps the state as small as
            // the set of open tickets.
            host.state_delete(&comment_state_key(key));
            Ok(outcome(Action::Resolved, &incident))
        }
        (TicketStatus::Solved, None) => match host.find_latest(key) {
            // Zendesk sends Closed days after Solved, and may repeat Solved;
            // the work is done, and a 400 would count as a failed delivery.
            Some(resolved) => Ok(outcome(Action::Unchanged, &resolved)),
            None => Err(Rejection::new(
                "no-incident",
                format!(
                    "Zendesk ticket #{key} has status {:?} and no incident: a Solved or Closed ticket does not create an incident",
                    ticket.status.trim()
                ),
            )),
        },
        // No open incident: either the first event for the ticket or the
        // ticket came back after its incident was resolved. Both make a new
        // incident; resolved incidents are never reopened.
        (TicketStatus::Open | TicketStatus::Pending, None) => {
            if echo && let Some(latest) = host.find_latest(key) {
                return Ok(outcome(Action::Unchanged, &latest));
            }
            let incident = host.create(&new_incident(ticket))?;
            add_latest_comment(host, ticket, &incident, true)?;
            Ok(outcome(Action::Created, &incident))
        }
        (TicketStatus::Pending, Some(incident))
            if incident.status == IncidentStatus::Pending && !echo =>
        {
            add_latest_comment(host, ticket, &incident, false)?;
            host.accept(incident.id, &status_note(ticket))?;
            Ok(outcome(Action::Accepted, &incident))
        }
        (TicketStatus::Open | TicketStatus::Pending, Some(incident)) => {
            let action = match add_latest_comment(host, ticket, &incident, false)? {
                true => Action::Commented,
                false => Action::Unchanged,
            };
            Ok(outcome(action, &incident))
        }
    }
}

/// A comment is logged like the details are kept: at most this many
/// characters, well inside the host's text limit, so a pasted log file in a
/// comment cannot turn the whole event into a limit error.
const COMMENT_MAX_CHARS: usize = DETAILS_MAX_CHARS;
/// Four bytes a character at most: inside the host's 256-byte author limit.
const AUTHOR_MAX_CHARS: usize = 64;

/// Adds the ticket's latest comment to `incident` unless it was seen before;
/// true when a comment was added. Zendesk sends the whole ticket on every
/// update, and may redeliver an old update after newer ones, so only the
/// fingerprints of the comments already logged, kept in state, tell a new
/// comment from an old one.
fn add_latest_comment(
    host: &mut impl Host,
    ticket: &Ticket,
    incident: &Incident,
    just_created: bool,
) -> Result<bool, ApiError> {
    let comment = ticket.latest_comment.trim();
    // inbound's own note, echoed by the trigger: already in the incident's log.
    if comment.is_empty() || outbound::is_echo(comment) {
        return Ok(false);
    }
    let state_key = comment_state_key(&ticket.id);
    let this_comment = fingerprint(comment);
    let mut seen = SeenComments::from_state(host.state_get(&state_key).as_deref());
    if seen.contains(&this_comment) {
        return Ok(false);
    }
    seen.remember(this_comment);
    host.state_set(&state_key, &seen.to_state())?;
    // A new ticket's first comment is its description, already in the
    // incident's details.
    if just_created && comment == ticket.description.trim() {
        return Ok(false);
    }
    let author = comment_author(ticket).map(|name| truncate_chars(name, AUTHOR_MAX_CHARS));
    host.comment(incident.id, author.as_deref(), &truncate_chars(comment, COMMENT_MAX_CHARS))?;
    Ok(true)
}

/// The payload does not say who wrote the latest comment; the assignee is the
/// likeliest author of an update, the requester of an unassigned ticket.
fn comment_author(ticket: &Ticket) -> Option<&str> {
    present(&ticket.assignee_name).or_else(|| present(&ticket.requester_name))
}

/// Where the fingerprints of a ticket's comments already logged are kept.
pub fn comment_state_key(ticket_id: &str) -> String {
    format!("latest-comment/{ticket_id}")
}

/// Recorded with an accept or resolve so the incident log says why it changed.
fn status_note(ticket: &Ticket) -> String {
    format!("Zendesk ticket #{} is {}", ticket.id, ticket.status.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_host::{Call, FakeHost};
    use TicketStatus::{Open, Pending, Solved};
    use inbound_sdk::outbound::{Change, ChangeKind};

    const ID: &str = "4711";
    const DESCRIPTION: &str = "The printer is on fire.";

    fn ticket(status: &str, latest_comment: &str) -> Ticket {
        Ticket {
            id: ID.into(),
            title: "Printer on fire".into(),
            description: DESCRIPTION.into(),
            status: status.into(),
            requester_name: "Ada".into(),
            assignee_name: "Grace".into(),
            latest_comment: latest_comment.into(),
            ..Ticket::default()
        }
    }

    /// Sends an event without a comment.
    fn send(host: &mut FakeHost, status: TicketStatus) -> Result<Outcome, Rejection> {
        send_commented(host, status, "")
    }

    fn send_commented(
        host: &mut FakeHost,
        status: TicketStatus,
        comment: &str,
    ) -> Result<Outcome, Rejection> {
        let word = match status {
            Open => "Open",
            Pending => "Pending",
            Solved => "Solved",
        };
        apply(host, &ticket(word, comment), status)
    }

    fn ok(result: Result<Outcome, Rejection>) -> (Action, IncidentId) {
        let outcome = result.expect("event should be handled");
        (outcome.action, outcome.incident)
    }

    // Guide, "when I create a ticket with status ...".

    #[test]
    fn created_new_or_open_ticket_creates_a_pending_incident() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send(&mut host, Open)), (Action::Created, 1));
        let incident = host.incident(1);
        assert_eq!(incident.key, ID);
        assert_eq!(incident.status, IncidentStatus::Pending);
        assert_eq!(incident.summary, "Printer on fire");
    }

    #[test]
    fn created_pending_ticket_creates_a_pending_incident() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send(&mut host, Pending)), (Action::Created, 1));
        assert_eq!(host.incident(1).status, IncidentStatus::Pending);
    }

    #[test]
    fn created_solved_ticket_is_rejected_and_changes_nothing() {
        let mut host = FakeHost::default();
        let error = send(&mut host, Solved).unwrap_err();
        assert_eq!(error.code, "no-incident");
        assert!(error.message.contains("#4711"), "{}", error.message);
        assert!(error.message.contains("does not create an incident"), "{}", error.message);
        assert!(host.writes().is_empty(), "{:?}", host.calls);
    }

    // Guide, "when I update a ticket with status ... and the incident ...".

    #[test]
    fn updated_open_ticket_without_incident_creates_one() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send(&mut host, Open)).0, Action::Created);
    }

    #[test]
    fn updated_solved_ticket_that_never_had_an_incident_is_rejected() {
        let mut host = FakeHost::default();
        host.other_ticket_incident("999");
        assert_eq!(send(&mut host, Solved).unwrap_err().code, "no-incident");
    }

    #[test]
    fn updated_pending_ticket_without_incident_creates_a_pending_one() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send(&mut host, Pending)), (Action::Created, 1));
        assert_eq!(host.incident(1).status, IncidentStatus::Pending, "created, not accepted");
    }

    #[test]
    fn updated_open_ticket_with_open_incident_is_unchanged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send(&mut host, Open)), (Action::Unchanged, 1));
        assert_eq!(host.incidents.len(), 1);
    }

    #[test]
    fn updated_open_ticket_with_accepted_incident_is_unchanged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Pending).unwrap();
        assert_eq!(ok(send(&mut host, Open)), (Action::Unchanged, 1));
        assert_eq!(host.incident(1).status, IncidentStatus::Accepted);
    }

    #[test]
    fn updated_solved_ticket_resolves_the_open_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send(&mut host, Solved)), (Action::Resolved, 1));
        assert_eq!(host.incident(1).status, IncidentStatus::Resolved);
        assert!(host.calls.contains(&Call::Resolve(1, "Zendesk ticket #4711 is Solved".into())));
    }

    #[test]
    fn updated_solved_ticket_resolves_an_accepted_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Pending).unwrap();
        assert_eq!(ok(send(&mut host, Solved)), (Action::Resolved, 1));
        assert_eq!(host.incident(1).status, IncidentStatus::Resolved);
    }

    #[test]
    fn updated_solved_ticket_whose_incident_is_resolved_is_unchanged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Solved).unwrap();
        let writes_before = host.writes().len();
        assert_eq!(ok(send(&mut host, Solved)), (Action::Unchanged, 1));
        assert_eq!(host.writes().len(), writes_before);
    }

    #[test]
    fn closed_days_after_solved_is_unchanged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Solved).unwrap();
        let closed = ticket("Closed", "");
        assert_eq!(ok(apply(&mut host, &closed, Solved)), (Action::Unchanged, 1));
    }

    #[test]
    fn solved_ticket_whose_incident_a_responder_resolved_is_unchanged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        host.resolve_by_hand(1);
        assert_eq!(ok(send(&mut host, Solved)), (Action::Unchanged, 1));
    }

    #[test]
    fn updated_pending_ticket_accepts_the_pending_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send(&mut host, Pending)), (Action::Accepted, 1));
        assert_eq!(host.incident(1).status, IncidentStatus::Accepted);
        assert!(host.calls.contains(&Call::Accept(1, "Zendesk ticket #4711 is Pending".into())));
    }

    #[test]
    fn updated_pending_ticket_with_accepted_incident_is_unchanged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Pending).unwrap();
        let writes_before = host.writes().len();
        assert_eq!(ok(send(&mut host, Pending)), (Action::Unchanged, 1));
        assert_eq!(host.writes().len(), writes_before);
    }

    #[test]
    fn incident_created_by_pending_is_accepted_by_the_next_pending_update() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send(&mut host, Pending)), (Action::Created, 1));
        assert_eq!(ok(send(&mut host, Pending)), (Action::Accepted, 1));
    }

    // Reopening.

    #[test]
    fn reopened_ticket_gets_a_new_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Solved).unwrap();
        assert_eq!(ok(send(&mut host, Open)), (Action::Created, 2));
        assert_eq!(host.incident(1).status, IncidentStatus::Resolved, "never reopened");
        assert_eq!(host.incident(2).status, IncidentStatus::Pending);
        assert_eq!(host.incident(2).key, ID);
    }

    #[test]
    fn ticket_set_back_to_pending_after_solved_gets_a_new_pending_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Solved).unwrap();
        assert_eq!(ok(send(&mut host, Pending)), (Action::Created, 2));
        assert_eq!(host.incident(2).status, IncidentStatus::Pending);
    }

    #[test]
    fn solved_again_after_reopening_resolves_the_new_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Solved).unwrap();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send(&mut host, Solved)), (Action::Resolved, 2));
    }

    #[test]
    fn tickets_do_not_share_incidents() {
        let mut host = FakeHost::default();
        host.other_ticket_incident("4712");
        assert_eq!(ok(send(&mut host, Open)), (Action::Created, 2));
    }

    // Latest comment.

    #[test]
    fn first_comment_equal_to_description_is_not_added_but_remembered() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send_commented(&mut host, Open, DESCRIPTION)).0, Action::Created);
        assert!(host.comments().is_empty());
        assert_eq!(ok(send_commented(&mut host, Open, DESCRIPTION)).0, Action::Unchanged);
        assert!(host.comments().is_empty());
    }

    #[test]
    fn comment_other_than_description_on_creation_is_added() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send_commented(&mut host, Open, "Still burning")).0, Action::Created);
        assert_eq!(host.comments(), [(1, Some("Grace".to_string()), "Still burning".to_string())]);
    }

    #[test]
    fn new_comment_alone_is_commented_and_added_once() {
        let mut host = FakeHost::default();
        send_commented(&mut host, Open, DESCRIPTION).unwrap();
        assert_eq!(
            ok(send_commented(&mut host, Open, "Fire brigade called")),
            (Action::Commented, 1)
        );
        assert_eq!(
            ok(send_commented(&mut host, Open, "Fire brigade called")),
            (Action::Unchanged, 1)
        );
        assert_eq!(host.comments().len(), 1);
    }

    #[test]
    fn each_different_comment_is_added() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send_commented(&mut host, Open, "one").unwrap();
        send_commented(&mut host, Open, "two").unwrap();
        send_commented(&mut host, Open, "two").unwrap();
        let texts: Vec<String> = host.comments().into_iter().map(|(_, _, text)| text).collect();
        assert_eq!(texts, ["one", "two"]);
    }

    #[test]
    fn an_old_comment_redelivered_out_of_order_is_not_added_again() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send_commented(&mut host, Open, "first")).0, Action::Commented);
        assert_eq!(ok(send_commented(&mut host, Open, "second")).0, Action::Commented);
        assert_eq!(ok(send_commented(&mut host, Open, "first")).0, Action::Unchanged);
        assert_eq!(ok(send_commented(&mut host, Pending, "second")).0, Action::Accepted);
        let texts: Vec<String> = host.comments().into_iter().map(|(_, _, text)| text).collect();
        assert_eq!(texts, ["first", "second"]);
    }

    #[test]
    fn a_comment_seen_by_an_older_version_is_not_added_again() {
        // Older versions kept one fingerprint, the last comment's.
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        host.state.insert(comment_state_key(ID), fingerprint("first").into_bytes());
        assert_eq!(ok(send_commented(&mut host, Open, "first")).0, Action::Unchanged);
        assert_eq!(ok(send_commented(&mut host, Open, "second")).0, Action::Commented);
        assert_eq!(ok(send_commented(&mut host, Open, "first")).0, Action::Unchanged);
        assert_eq!(host.comments().len(), 1);
    }

    #[test]
    fn new_comment_with_accept_keeps_the_accepted_action() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(
            ok(send_commented(&mut host, Pending, "Waiting for you")),
            (Action::Accepted, 1)
        );
        assert_eq!(host.comments().len(), 1);
    }

    #[test]
    fn new_comment_on_accepted_incident_is_commented() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Pending).unwrap();
        assert_eq!(ok(send_commented(&mut host, Pending, "Any news?")), (Action::Commented, 1));
    }

    #[test]
    fn closing_comment_is_added_before_resolving() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send_commented(&mut host, Solved, "Fire is out")), (Action::Resolved, 1));
        let order: Vec<&Call> = host
            .calls
            .iter()
            .filter(|call| matches!(call, Call::Comment(..) | Call::Resolve(..)))
            .collect();
        assert_eq!(
            order,
            [
                &Call::Comment(1, Some("Grace".into()), "Fire is out".into()),
                &Call::Resolve(1, "Zendesk ticket #4711 is Solved".into())
            ]
        );
    }

    #[test]
    fn resolving_forgets_the_comment_fingerprint() {
        let mut host = FakeHost::default();
        send_commented(&mut host, Open, "one").unwrap();
        assert!(host.state.contains_key(&comment_state_key(ID)));
        send_commented(&mut host, Solved, "two").unwrap();
        assert!(!host.state.contains_key(&comment_state_key(ID)));
    }

    #[test]
    fn comment_on_an_already_resolved_incident_is_not_added() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        send(&mut host, Solved).unwrap();
        assert_eq!(ok(send_commented(&mut host, Solved, "Thanks!")), (Action::Unchanged, 1));
        assert!(host.comments().is_empty());
        assert!(host.state.is_empty());
    }

    #[test]
    fn reopened_ticket_latest_comment_goes_to_the_new_incident() {
        let mut host = FakeHost::default();
        send_commented(&mut host, Open, "one").unwrap();
        send_commented(&mut host, Solved, "Fire is out").unwrap();
        assert_eq!(ok(send_commented(&mut host, Open, "It is back")), (Action::Created, 2));
        assert_eq!(
            host.comments().last().unwrap(),
            &(2, Some("Grace".to_string()), "It is back".to_string())
        );
    }

    #[test]
    fn blank_comment_is_ignored() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        assert_eq!(ok(send_commented(&mut host, Open, " \n ")), (Action::Unchanged, 1));
        assert!(host.state.is_empty());
    }

    #[test]
    fn comment_author_is_the_assignee_else_the_requester_else_nobody() {
        let mut host = FakeHost::default();
        let mut unassigned = ticket("Open", "first");
        unassigned.assignee_name = " ".into();
        apply(&mut host, &unassigned, Open).unwrap();
        let mut anonymous = ticket("Open", "second");
        anonymous.assignee_name = String::new();
        anonymous.requester_name = "-".into();
        apply(&mut host, &anonymous, Open).unwrap();
        let authors: Vec<Option<String>> =
            host.comments().into_iter().map(|(_, author, _)| author).collect();
        assert_eq!(authors, [Some("Ada".to_string()), None]);
    }

    #[test]
    fn long_multibyte_comment_and_author_are_cut_on_character_boundaries() {
        let mut host = FakeHost::default();
        let mut long = ticket("Open", &"ø".repeat(COMMENT_MAX_CHARS + 10));
        long.assignee_name = "🚨".repeat(100);
        apply(&mut host, &long, Open).unwrap();
        let (_, author, text) = host.comments().remove(0);
        assert_eq!(text.chars().count(), COMMENT_MAX_CHARS);
        assert!(text.ends_with('…'));
        let author = author.unwrap();
        assert_eq!(author.chars().count(), AUTHOR_MAX_CHARS);
        assert!(author.len() <= 256);
    }

    // Echoes of inbound's own notes (crate::outbound).

    /// The note `on_change` writes on the ticket for `kind` by ada.
    fn inbound_note(host: &FakeHost, kind: ChangeKind, n: u32) -> String {
        let change = Change {
            kind,
            by: "ada".into(),
            text: Some("on it".into()),
            at: 0,
            marker: format!("inbound-1-{n}"),
        };
        let requests = outbound::on_change(&change, host.incident(1), "{}").unwrap();
        let sent: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
        sent["ticket"]["comment"]["body"].as_str().unwrap().to_string()
    }

    #[test]
    fn an_accept_s_echo_changes_nothing_and_logs_no_comment() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        host.accept_by_hand(1);
        let note = inbound_note(&host, ChangeKind::Accepted, 1);
        // Without on_accept_status the ticket stays Open; with it, Pending.
        for status in [Open, Pending, Open] {
            let writes_before = host.writes().len();
            assert_eq!(ok(send_commented(&mut host, status, &note)), (Action::Unchanged, 1));
            assert_eq!(host.writes().len(), writes_before, "{:?}", host.calls);
        }
        assert!(host.comments().is_empty());
        assert_eq!(host.incident(1).status, IncidentStatus::Accepted);
    }

    #[test]
    fn an_agent_comment_without_a_marker_is_still_logged() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        host.accept_by_hand(1);
        let note = inbound_note(&host, ChangeKind::Accepted, 1);
        send_commented(&mut host, Open, &note).unwrap();
        assert_eq!(
            ok(send_commented(&mut host, Open, "Saw the note from inbound, thanks")),
            (Action::Commented, 1)
        );
        assert_eq!(
            host.comments(),
            [(1, Some("Grace".to_string()), "Saw the note from inbound, thanks".to_string())]
        );
        // Mentioning an incident is not a marker.
        assert_eq!(
            ok(send_commented(&mut host, Open, "see inbound-1 please")).0,
            Action::Commented
        );
    }

    #[test]
    fn a_resolve_s_echo_opens_no_new_incident() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        host.resolve_by_hand(1);
        let note = inbound_note(&host, ChangeKind::Resolved, 2);
        let writes_before = host.writes().len();
        // The ticket still Open (no on_resolve_status), or Solved.
        for status in [Open, Pending, Solved] {
            assert_eq!(ok(send_commented(&mut host, status, &note)), (Action::Unchanged, 1));
        }
        assert_eq!(host.incidents.len(), 1);
        assert_eq!(host.writes().len(), writes_before, "{:?}", host.calls);
        // The requester answers: a real update, a new incident.
        assert_eq!(
            ok(send_commented(&mut host, Open, "It is burning again")),
            (Action::Created, 2)
        );
    }

    #[test]
    fn a_note_s_echo_does_not_accept_a_pending_incident() {
        let mut host = FakeHost::default();
        assert_eq!(ok(send(&mut host, Pending)).0, Action::Created);
        for kind in [ChangeKind::Noted, ChangeKind::EscalationExhausted] {
            let note = inbound_note(&host, kind, 3);
            assert_eq!(ok(send_commented(&mut host, Pending, &note)), (Action::Unchanged, 1));
        }
        assert_eq!(host.incident(1).status, IncidentStatus::Pending);
        assert!(host.comments().is_empty());
        // The ticket's next real update accepts, as the table says.
        assert_eq!(ok(send_commented(&mut host, Pending, "Waiting for you")).0, Action::Accepted);
    }

    #[test]
    fn a_solved_ticket_resolves_even_when_inbound_wrote_its_latest_comment() {
        let mut host = FakeHost::default();
        send(&mut host, Open).unwrap();
        host.accept_by_hand(1);
        let note = inbound_note(&host, ChangeKind::Accepted, 4);
        assert_eq!(ok(send_commented(&mut host, Solved, &note)), (Action::Resolved, 1));
        assert!(host.comments().is_empty());
    }

    #[test]
    fn an_echo_for_a_ticket_without_incidents_creates_one_without_the_comment() {
        let mut host = FakeHost::default();
        let note = "Note from ada in inbound: hi\n\n[inbound-9-1]";
        assert_eq!(ok(send_commented(&mut host, Open, note)), (Action::Created, 1));
        assert!(host.comments().is_empty());
        assert!(!host.state.contains_key(&comment_state_key(ID)));
    }

    #[test]
    fn host_error_becomes_a_rejection() {
        let mut host = FakeHost { fail_state_set: true, ..FakeHost::default() };
        let error = send_commented(&mut host, Open, "x").unwrap_err();
        assert_eq!(error.code, "host-api-error");
        assert!(error.message.contains("state size"), "{}", error.message);
    }
}
