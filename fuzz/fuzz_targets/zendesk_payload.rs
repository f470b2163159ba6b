//! The Zendesk plugin's mapping, run natively against its in-memory host:
//! a sequence of arbitrary bodies for one source never panics, a rejected
//! body changes nothing, and a ticket never has two open incidents.
//!
//! Input: one byte choosing the source's settings, then bodies separated by
//! 0x1E (ASCII record separator), at most 8.

#![no_main]

use inbound_sdk::IncidentStatus;
use inbound_zendesk::fake_host::FakeHost;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

/// Settings a source might have: none, translations, On-hold as Pending,
/// and invalid ones (which must reject every body).
const SETTINGS: [&str; 5] = [
    "{}",
    r#"{"status_aliases": {"løst": "solved", "åpen": "open", "venter": "pending"}}"#,
    r#"{"on_hold": "pending"}"#,
    r#"{"on_hold": "later"}"#,
    r#"{"status_aliases": 7}"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let settings = SETTINGS[choice as usize % SETTINGS.len()];
    let mut host = FakeHost::default();
    for body in rest.split(|&b| b == 0x1E).take(8) {
        let writes_before = host.writes().len();
        let incidents_before = format!("{:?}", host.incidents);
        match inbound_zendesk::handle(&mut host, body, settings) {
            Ok(outcome) => {
                assert!(
                    host.incidents.iter().any(|incident| incident.id == outcome.incident),
                    "the outcome names incident {} which does not exist",
                    outcome.incident
                );
            }
            Err(rejection) => {
                assert_eq!(host.writes().len(), writes_before, "rejected ({}) after writing", rejection.code);
                assert_eq!(format!("{:?}", host.incidents), incidents_before);
                assert!(!rejection.code.is_empty() && !rejection.message.is_empty());
            }
        }
        let mut open = HashSet::new();
        for incident in host.incidents.iter().filter(|incident| incident.status != IncidentStatus::Resolved) {
            assert!(open.insert(incident.key.clone()), "two open incidents for ticket {}", incident.key);
        }
    }
});
