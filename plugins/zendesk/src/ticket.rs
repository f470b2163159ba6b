//! The webhook body: the JSON object the Zendesk trigger renders from the
//! setup guide's template, read into a [`Ticket`].

use inbound_sdk::Rejection;
use inbound_sdk::json::{parse_lenient, text_field};
use serde_json::Value;

/// One trigger delivery. Every field but `id` is optional and empty when
/// missing or null, because operators trim the template and Zendesk renders
/// unset placeholders as empty text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    /// The ticket number in canonical form (no sign, no leading zeros), so
    /// `42`, `"42"` and `" 042 "` are the same ticket and the same incident key.
    pub id: String,
    pub title: String,
    pub description: String,
    pub via: String,
    /// The status word as sent; what it means depends on the source's settings.
    pub status: String,
    pub priority: String,
    pub requester_name: String,
    pub group_name: String,
    pub assignee_name: String,
    pub account: String,
    pub link: String,
    pub latest_comment: String,
}

/// The id line of the guide's template, quoted in messages so the person who
/// set up the trigger can fix it by copying.
const ID_EXAMPLE: &str = r#""id": "{{ticket.id}}""#;

/// How much of a wrong value a message repeats: enough to recognise it,
/// not a whole pasted payload.
const ECHO_CHARS: usize = 80;

impl Ticket {
    /// Parses a request body. Raw newlines inside strings are accepted (see
    /// [`parse_lenient`]); unknown fields are ignored.
    pub fn parse(body: &[u8]) -> Result<Ticket, Rejection> {
        let value = parse_lenient(body)?;
        if !value.is_object() {
            return Err(Rejection::new(
                "invalid-body",
                format!(
                    "the request body must be a JSON object like the trigger body in the Zendesk setup guide; received {}",
                    inbound_sdk::json::kind(&value)
                ),
            ));
        }
        Ok(Ticket {
            id: ticket_id(&value)?,
            title: text_field(&value, "title"),
            description: text_field(&value, "description"),
            via: text_field(&value, "via"),
            status: text_field(&value, "status"),
            priority: text_field(&value, "priority"),
            requester_name: text_field(&value, "requester_name"),
            group_name: text_field(&value, "group_name"),
            assignee_name: text_field(&value, "assignee_name"),
            account: text_field(&value, "account"),
            link: text_field(&value, "link"),
            latest_comment: text_field(&value, "latest_comment"),
        })
    }
}

/// The `id` field as a canonical ticket number. Zendesk renders
/// `{{ticket.id}}` as digits; anything else means the template is wrong, and
/// guessing would file the event under the wrong incident.
fn ticket_id(body: &Value) -> Result<String, Rejection> {
    let received = match body.get("id") {
        None | Some(Value::Null) => return Err(id_missing("is missing")),
        Some(value) => value,
    };
    let text = match received {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        _ => return Err(not_a_ticket_number(received)),
    };
    if text.is_empty() {
        return Err(id_missing("is blank"));
    }
    // `u64::from_str` alone would also take "+7"; insist on plain digits.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_ticket_number(received));
    }
    text.parse::<u64>().map(|number| number.to_string()).map_err(|_| not_a_ticket_number(received))
}

fn id_missing(how: &str) -> Rejection {
    Rejection::new(
        "missing-field",
        format!("field \"id\" {how}; expected the Zendesk ticket number, e.g. {ID_EXAMPLE}"),
    )
}

fn not_a_ticket_number(received: &Value) -> Rejection {
    // Zendesk's "Test webhook" button and untriggered previews send the
    // template itself: say so rather than echo the placeholder back.
    if received.as_str().is_some_and(|text| text.contains("{{")) {
        return Rejection::new(
            "invalid-field",
            format!(
                "field \"id\" is {}: a placeholder Zendesk did not fill in; real trigger deliveries carry the ticket number (the Test button sends the template as written)",
                echo(received)
            ),
        );
    }
    Rejection::new(
        "invalid-field",
        format!(
            "field \"id\" must be a Zendesk ticket number (digits only, as a JSON string or number); received {}; expected e.g. {ID_EXAMPLE}",
            echo(received)
        ),
    )
}

/// A value as the sender wrote it (JSON), cut to a readable length.
fn echo(value: &Value) -> String {
    inbound_sdk::text::truncate_chars(&value.to_string(), ECHO_CHARS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unrendered_placeholder_is_named_as_such() {
        let error =
            super::Ticket::parse(br#"{"id": "{{ticket.id}}", "status": "Open"}"#).unwrap_err();
        assert_eq!(error.code, "invalid-field");
        assert!(error.message.contains("placeholder Zendesk did not fill in"), "{}", error.message);
    }

    use super::*;

    /// The setup guide's trigger body with its placeholders rendered the way
    /// Zendesk renders them.
    const GUIDE_BODY: &str = r#"{
  "id": "4711",
  "title": "Printer on fire",
  "description": "The printer on floor 3 is on fire.",
  "via": "Web form",
  "status": "Open",
  "priority": "Urgent",
  "requester_name": "Ada Lovelace",
  "group_name": "Facilities",
  "assignee_name": "Grace Hopper",
  "account": "Example Corp",
  "link": "https://example.zendesk.com/agent/tickets/4711",
  "latest_comment": "The printer on floor 3 is on fire."
}"#;

    fn parse(body: &str) -> Result<Ticket, Rejection> {
        Ticket::parse(body.as_bytes())
    }

    fn rejection(body: &str) -> Rejection {
        parse(body).expect_err("should be rejected")
    }

    #[test]
    fn guide_body_reads_every_field() {
        let ticket = parse(GUIDE_BODY).unwrap();
        assert_eq!(
            ticket,
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
                latest_comment: "The printer on floor 3 is on fire.".into(),
            }
        );
    }

    #[test]
    fn id_as_json_number() {
        assert_eq!(parse(r#"{"id": 4711}"#).unwrap().id, "4711");
    }

    #[test]
    fn id_as_string_is_trimmed_and_canonical() {
        assert_eq!(parse(r#"{"id": " 4711\n"}"#).unwrap().id, "4711");
        assert_eq!(parse(r#"{"id": "004711"}"#).unwrap().id, "4711");
    }

    #[test]
    fn only_id_is_required() {
        let ticket = parse(r#"{"id": "1"}"#).unwrap();
        assert_eq!(ticket, Ticket { id: "1".into(), ..Ticket::default() });
    }

    #[test]
    fn null_fields_are_empty_and_unknown_fields_ignored() {
        let ticket =
            parse(r#"{"id": "1", "title": null, "tags": ["a"], "extra": {"x": 1}}"#).unwrap();
        assert_eq!(ticket.title, "");
    }

    #[test]
    fn raw_newline_inside_a_string_is_accepted() {
        let ticket = parse("{\"id\": \"1\", \"description\": \"line one\nline two\"}").unwrap();
        assert_eq!(ticket.description, "line one\nline two");
    }

    #[test]
    fn text_is_kept_as_sent_never_html_unescaped() {
        let ticket = parse(r#"{"id": "1", "title": "a &amp; <b>b</b>"}"#).unwrap();
        assert_eq!(ticket.title, "a &amp; <b>b</b>");
    }

    #[test]
    fn missing_id() {
        let error = rejection(r#"{"title": "x"}"#);
        assert_eq!(error.code, "missing-field");
        assert!(error.message.contains("\"id\" is missing"), "{}", error.message);
        assert!(error.message.contains("{{ticket.id}}"), "{}", error.message);
    }

    #[test]
    fn null_id_is_missing() {
        assert_eq!(rejection(r#"{"id": null}"#).code, "missing-field");
    }

    #[test]
    fn blank_id() {
        let error = rejection(r#"{"id": "  "}"#);
        assert_eq!(error.code, "missing-field");
        assert!(error.message.contains("\"id\" is blank"), "{}", error.message);
    }

    #[test]
    fn non_numeric_id_names_what_was_received() {
        let error = rejection(r#"{"id": "abc"}"#);
        assert_eq!(error.code, "invalid-field");
        assert!(error.message.contains("received \"abc\""), "{}", error.message);
        assert!(error.message.contains("digits only"), "{}", error.message);
    }

    #[test]
    fn unrendered_placeholder_id_is_invalid() {
        let error = rejection(r#"{"id": "{{ticket.id}}"}"#);
        assert_eq!(error.code, "invalid-field");
    }

    #[test]
    fn signed_fractional_negative_and_huge_ids_are_invalid() {
        for id in [r#""+7""#, r#""-7""#, "-7", "7.5", r#""7 8""#, r#""99999999999999999999999""#] {
            let error = rejection(&format!(r#"{{"id": {id}}}"#));
            assert_eq!(error.code, "invalid-field", "{id}: {}", error.message);
        }
    }

    #[test]
    fn id_of_the_wrong_json_type_is_invalid() {
        for id in ["true", "[1]", r#"{"n": 1}"#] {
            let error = rejection(&format!(r#"{{"id": {id}}}"#));
            assert_eq!(error.code, "invalid-field", "{id}");
        }
    }

    #[test]
    fn very_long_wrong_id_is_echoed_cut() {
        let error = rejection(&format!(r#"{{"id": "{}"}}"#, "x".repeat(10_000)));
        assert!(error.message.chars().count() < 400, "{}", error.message);
    }

    #[test]
    fn body_that_is_not_an_object() {
        for (body, kind) in
            [("[]", "an array"), ("\"4711\"", "a string"), ("4711", "a number"), ("null", "null")]
        {
            let error = rejection(body);
            assert_eq!(error.code, "invalid-body");
            assert!(error.message.contains(kind), "{}", error.message);
        }
    }

    #[test]
    fn malformed_json_gives_the_position() {
        let error = rejection("{\"id\": \"1\",\n \"title\" \"x\"}");
        assert_eq!(error.code, "invalid-json");
        assert!(error.message.contains("line 2"), "{}", error.message);
    }

    #[test]
    fn empty_body() {
        assert_eq!(rejection("").code, "empty-body");
    }
}
