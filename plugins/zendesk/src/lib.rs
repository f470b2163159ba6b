//! The Zendesk integration for inbound.
//!
//! A Zendesk trigger posts the ticket (the JSON body from the setup guide,
//! `docs/zendesk.md`) on every create and update. The ticket number is the
//! incident key; the ticket's status decides whether its incident is created,
//! accepted, resolved or left alone, and a new latest comment is added to the
//! incident's log.
//!
//! - [`ticket`]: the body -> a `Ticket`
//! - [`status`]: the status word and the source's settings -> Open/Pending/Solved
//! - [`lifecycle`]: the decision, against a small `Host` trait
//! - [`incident_text`]: summary, details, priority and link of a new incident
//! - [`outbound`]: what a change made in inbound writes on the ticket, and
//!   how its echo is recognised
//!
//! Built for `wasm32-wasip2`, the crate is the component the host loads.

mod fingerprint;
mod incident_text;
mod lifecycle;
mod outbound;
mod sdk_host;
mod seen_comments;
mod status;
mod ticket;

/// The in-memory [`Host`] of the unit tests; the fuzz targets use it too.
#[cfg(any(test, feature = "fake-host"))]
pub mod fake_host;

use inbound_sdk::about::{Setting, SettingKind, SettingsProblem};
use inbound_sdk::outbound::{Change, OutboundRequest};
use inbound_sdk::{Incident, Outcome, Plugin, Rejection, Request};
/// The host API the lifecycle needs; public so the lifecycle can also run
/// natively (the benchmark's no-WebAssembly baseline).
pub use lifecycle::Host;

pub struct Zendesk;

impl Plugin for Zendesk {
    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
        handle(&mut sdk_host::SdkHost, &request.body, &request.settings)
            .map(|outcome| vec![outcome])
    }

    fn settings() -> Option<Vec<Setting>> {
        Some(vec![
            Setting::new(
                status::STATUS_ALIASES,
                SettingKind::TextMap,
                "Status words in the requester's language mapped to Zendesk's, e.g. { \"løst\" = \"solved\" }.",
            ),
            Setting::new(
                status::ON_HOLD,
                SettingKind::Text,
                "What an On-hold ticket means: \"open\" (the default) or \"pending\" (acknowledged).",
            ),
            Setting::new(
                outbound::ON_ACCEPT_STATUS,
                SettingKind::Text,
                "The ticket status an accept in inbound sets: \"open\", \"pending\" or \"hold\"; unset (the default) keeps it.",
            ),
            Setting::new(
                outbound::ON_RESOLVE_STATUS,
                SettingKind::Text,
                "\"solved\": a resolve in inbound solves the ticket; unset (the default) keeps its status.",
            ),
            Setting::new(
                outbound::SYNC_NOTES,
                SettingKind::Boolean,
                "Whether notes written in inbound become internal notes on the ticket (default true).",
            ),
        ])
    }

    fn validate_settings(settings: &str) -> Result<(), Vec<SettingsProblem>> {
        let mut problems = Vec::new();
        if let Err(refused) = status::StatusWords::from_settings(settings) {
            let named = [status::STATUS_ALIASES, status::ON_HOLD]
                .into_iter()
                .find(|setting| refused.message.contains(&format!("\"{setting}\"")));
            problems.push(match named {
                Some(setting) => SettingsProblem::of(setting, refused.message),
                None => SettingsProblem::general(refused.message),
            });
        }
        if let Err(refused) = outbound::OutboundSettings::from_settings(settings) {
            problems.push(SettingsProblem::of(refused.setting, refused.message));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    fn on_change(
        change: &Change,
        incident: &Incident,
        settings: &str,
    ) -> Result<Vec<OutboundRequest>, String> {
        outbound::on_change(change, incident, settings)
    }
}

/// Everything is checked before the first host call that changes anything,
/// so a rejected request leaves no trace.
/// Settings come first: `inbound check` judges them with an empty body.
pub fn handle(host: &mut impl Host, body: &[u8], settings: &str) -> Result<Outcome, Rejection> {
    let words = status::StatusWords::from_settings(settings)?;
    outbound::OutboundSettings::from_settings(settings)
        .map_err(|refused| Rejection::new("invalid-settings", refused.message))?;
    let ticket = ticket::Ticket::parse(body)?;
    let status = words.classify(&ticket.status)?;
    lifecycle::apply(host, &ticket, status)
}

inbound_sdk::register_plugin!(Zendesk);

#[cfg(test)]
mod tests {
    use super::*;
    use fake_host::FakeHost;
    use inbound_sdk::{Action, IncidentStatus, Priority};

    /// The setup guide's trigger body with `status` and `latest_comment`
    /// left to fill in, the other placeholders rendered as Zendesk would.
    fn guide_body(status: &str, latest_comment: &str) -> Vec<u8> {
        format!(
            r#"{{
  "id": "35436",
  "title": "VPN down for the Oslo office",
  "description": "Nobody in Oslo can connect.",
  "via": "Mail",
  "status": "{status}",
  "priority": "High",
  "requester_name": "Kari Nordmann",
  "group_name": "IT",
  "assignee_name": "Ola Nordmann",
  "account": "Example AS",
  "link": "https://example.zendesk.com/agent/tickets/35436",
  "latest_comment": "{latest_comment}"
}}"#
        )
        .into_bytes()
    }

    fn send(host: &mut FakeHost, status: &str, settings: &str) -> Result<Outcome, Rejection> {
        handle(host, &guide_body(status, ""), settings)
    }

    #[test]
    fn guide_body_creates_an_incident_from_every_field() {
        let mut host = FakeHost::default();
        let outcome =
            handle(&mut host, &guide_body("New", "Nobody in Oslo can connect."), "{}").unwrap();
        assert_eq!((outcome.action, outcome.incident), (Action::Created, 1));
        let incident = host.incident(1);
        assert_eq!(incident.key, "35436");
        assert_eq!(incident.summary, "VPN down for the Oslo office");
        assert!(
            incident
                .details
                .starts_with("Nobody in Oslo can connect.\n\nRequester: Kari Nordmann\n")
        );
        assert_eq!(incident.priority, Some(Priority::High));
        assert_eq!(
            incident.url.as_deref(),
            Some("https://example.zendesk.com/agent/tickets/35436")
        );
        assert!(host.comments().is_empty(), "the first comment is the description");
    }

    #[test]
    fn raw_newline_in_the_comment_is_accepted() {
        let mut host = FakeHost::default();
        handle(&mut host, &guide_body("Open", "line one\nline two"), "{}").unwrap();
        assert_eq!(host.comments()[0].2, "line one\nline two");
    }

    #[test]
    fn full_ticket_life_in_norwegian() {
        let settings = r#"{"status_aliases": {"ny": "new", "åpen": "open", "venter": "pending", "løst": "solved", "lukket": "closed"}}"#;
        let mut host = FakeHost::default();
        let mut step = |status: &str| send(&mut host, status, settings).map(|o| o.action).unwrap();
        assert_eq!(step("Ny"), Action::Created);
        assert_eq!(step("Åpen"), Action::Unchanged);
        assert_eq!(step("Venter"), Action::Accepted);
        assert_eq!(step("Løst"), Action::Resolved);
        assert_eq!(step("Lukket"), Action::Unchanged);
    }

    #[test]
    fn on_hold_setting_decides_what_hold_means() {
        let mut host = FakeHost::default();
        send(&mut host, "Open", "{}").unwrap();
        assert_eq!(send(&mut host, "On-hold", "{}").unwrap().action, Action::Unchanged);
        assert_eq!(
            send(&mut host, "On-hold", r#"{"on_hold": "pending"}"#).unwrap().action,
            Action::Accepted
        );
        assert_eq!(host.incident(1).status, IncidentStatus::Accepted);
    }

    #[test]
    fn on_hold_ticket_without_incident_creates_one() {
        let mut host = FakeHost::default();
        assert_eq!(send(&mut host, "hold", "{}").unwrap().action, Action::Created);
    }

    #[test]
    fn unknown_status_is_rejected_before_touching_the_host() {
        let mut host = FakeHost::default();
        let error = send(&mut host, "Escalated", "{}").unwrap_err();
        assert_eq!(error.code, "invalid-status");
        assert!(host.calls.is_empty());
    }

    #[test]
    fn invalid_settings_are_rejected_before_touching_the_host() {
        let mut host = FakeHost::default();
        let error = send(&mut host, "Open", r#"{"on_hold": "later"}"#).unwrap_err();
        assert_eq!(error.code, "invalid-settings");
        assert!(host.calls.is_empty());
    }

    #[test]
    fn invalid_settings_are_named_even_with_an_empty_body() {
        // How `inbound check` asks the plugin about a source's settings.
        let mut host = FakeHost::default();
        let error = handle(&mut host, b"", r#"{"onhold": "pending"}"#).unwrap_err();
        assert_eq!(error.code, "invalid-settings");
        assert!(error.message.contains("\"onhold\""), "{}", error.message);
        assert_eq!(handle(&mut host, b"", "{}").unwrap_err().code, "empty-body");
    }

    #[test]
    fn outbound_settings_are_declared_after_the_older_ones_and_judged() {
        // The host lists them in this order when it refuses an unknown key.
        let declared: Vec<String> =
            Zendesk::settings().unwrap().into_iter().map(|setting| setting.name).collect();
        assert_eq!(
            declared,
            ["status_aliases", "on_hold", "on_accept_status", "on_resolve_status", "sync_notes"]
        );
        let problems = Zendesk::validate_settings(
            r#"{"on_hold": "later", "on_resolve_status": "open", "sync_notes": true}"#,
        )
        .unwrap_err();
        let named: Vec<Option<&str>> =
            problems.iter().map(|problem| problem.setting.as_deref()).collect();
        assert_eq!(named, [Some("on_hold"), Some("on_resolve_status")]);
        assert!(problems[1].message.contains("a loop"), "{}", problems[1].message);
        assert!(
            Zendesk::validate_settings(
                r#"{"on_accept_status": "pending", "on_resolve_status": "solved", "sync_notes": false}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn wrong_outbound_settings_refuse_the_webhook_too() {
        let mut host = FakeHost::default();
        let error = send(&mut host, "Open", r#"{"on_accept_status": "solved"}"#).unwrap_err();
        assert_eq!(error.code, "invalid-settings");
        assert!(error.message.contains("\"on_accept_status\""), "{}", error.message);
        assert!(host.calls.is_empty());
    }

    #[test]
    fn the_trigger_s_echo_of_an_accept_changes_nothing() {
        let mut host = FakeHost::default();
        send(&mut host, "Open", "{}").unwrap();
        host.accept_by_hand(1);
        let note = "Accepted in inbound by ada: on it\\n\\n[inbound-1-1]";
        let outcome = handle(&mut host, &guide_body("Pending", note), "{}").unwrap();
        assert_eq!((outcome.action, outcome.incident), (Action::Unchanged, 1));
        assert!(host.comments().is_empty());
        let outcome = handle(&mut host, &guide_body("Open", "Thanks, Ada"), "{}").unwrap();
        assert_eq!(outcome.action, Action::Commented);
        assert_eq!(host.comments()[0].2, "Thanks, Ada");
    }

    #[test]
    fn invalid_body_is_rejected_before_touching_the_host() {
        let mut host = FakeHost::default();
        assert_eq!(
            handle(&mut host, br#"{"status": "Open"}"#, "{}").unwrap_err().code,
            "missing-field"
        );
        assert_eq!(handle(&mut host, b"{\"id\": 1,}", "{}").unwrap_err().code, "invalid-json");
        assert!(host.calls.is_empty());
    }

    #[test]
    fn duplicate_deliveries_are_harmless() {
        let mut host = FakeHost::default();
        for status in ["Open", "Open", "Pending", "Pending", "Solved", "Solved", "Closed"] {
            send(&mut host, status, "{}").unwrap();
        }
        assert_eq!(host.incidents.len(), 1);
        assert_eq!(host.incident(1).status, IncidentStatus::Resolved);
    }
}
