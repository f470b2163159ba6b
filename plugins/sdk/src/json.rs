//! JSON helpers for webhook bodies.
//!
//! Senders that build JSON from templates (Zendesk triggers among them) often
//! put raw newlines or tabs inside strings, which strict JSON forbids.
//! [`parse_lenient`] accepts those and nothing else that strict JSON rejects.
//!
//! The field readers ([`str_field`], [`array_field`], ...) return rejections
//! that name the field by its path (`alerts[2].status`) and say what was
//! expected and what came instead.

use crate::Rejection;
use serde_json::Value;

/// Parses `body` as JSON, accepting raw control characters (U+0000 to U+001F)
/// inside strings. Any other malformation is a rejection with code
/// `invalid-json` whose message gives the line and column.
pub fn parse_lenient(body: &[u8]) -> Result<Value, Rejection> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::new(
            "empty-body",
            "the request body is empty; expected a JSON object",
        ));
    }
    // serde_json reports bad UTF-8 as an "invalid unicode code point", which
    // sends the reader looking for a `\u` escape; say what it really is.
    if let Err(error) = std::str::from_utf8(body) {
        let (line, column) = position_of(body, error.valid_up_to());
        return Err(Rejection::new(
            "invalid-json",
            format!(
                "the request body is not valid UTF-8 (line {line}, column {column}); JSON must be sent as UTF-8"
            ),
        ));
    }
    let escaped = escape_control_characters_in_strings(body);
    serde_json::from_slice(&escaped).map_err(|error| {
        Rejection::new(
            "invalid-json",
            format!(
                "the request body is not valid JSON: {} (line {}, column {})",
                describe(&error),
                error.line(),
                error.column()
            ),
        )
    })
}

/// 1-based line and column (in characters) of byte `offset`, which must be at
/// the end of a valid UTF-8 prefix of `body`.
fn position_of(body: &[u8], offset: usize) -> (usize, usize) {
    let before = String::from_utf8_lossy(&body[..offset]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// serde_json's message ends with its own " at line X column Y"; keep only the
/// description so the position is stated once.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Rewrites raw control characters found inside string literals as JSON
/// escapes, leaving everything else byte for byte as it was. Error positions
/// match the original body up to the first rewritten character.
fn escape_control_characters_in_strings(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !body.iter().any(|&b| b < 0x20) {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            } else if byte < 0x20 {
                match byte {
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    other => out.extend_from_slice(format!("\\u{other:04x}").as_bytes()),
                }
                continue;
            }
        } else if byte == b'"' {
            in_string = true;
        }
        out.push(byte);
    }
    std::borrow::Cow::Owned(out)
}

/// Reads a field that senders may send as a JSON string or a number, as text.
/// `None` when the field is missing or null.
pub fn string_or_number(object: &Value, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Reads an optional string field; numbers and booleans are turned into text,
/// missing and null give an empty string.
pub fn text_field(object: &Value, field: &str) -> String {
    string_or_number(object, field).unwrap_or_default()
}

/// `at.field`, or `field` at the top level. Paths name fields the way a
/// person reading the payload finds them: `alerts[2].labels`.
pub fn path(at: &str, field: &str) -> String {
    if at.is_empty() { field.to_string() } else { format!("{at}.{field}") }
}

/// `at[index]`, for the elements of an array field.
pub fn index(at: &str, index: usize) -> String {
    format!("{at}[{index}]")
}

/// What kind of JSON value this is, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A present, non-null field, or a `missing-field` rejection.
fn required<'a>(
    object: &'a Value,
    at: &str,
    field: &str,
    expected: &str,
) -> Result<&'a Value, Rejection> {
    match object.get(field) {
        None | Some(Value::Null) => Err(Rejection::missing_field(&path(at, field), expected)),
        Some(value) => Ok(value),
    }
}

fn wrong_kind(at: &str, field: &str, value: &Value, expected: &str) -> Rejection {
    Rejection::invalid_field(&path(at, field), format!("is {}; expected {expected}", kind(value)))
}

/// A required string field.
pub fn str_field<'a>(object: &'a Value, at: &str, field: &str) -> Result<&'a str, Rejection> {
    let value = required(object, at, field, "a string")?;
    value.as_str().ok_or_else(|| wrong_kind(at, field, value, "a string"))
}

/// An optional string field: `None` when missing or null, a rejection when
/// it is some other kind of value.
pub fn opt_str_field<'a>(
    object: &'a Value,
    at: &str,
    field: &str,
) -> Result<Option<&'a str>, Rejection> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_kind(at, field, other, "a string")),
    }
}

/// A required array field.
pub fn array_field<'a>(
    object: &'a Value,
    at: &str,
    field: &str,
) -> Result<&'a Vec<Value>, Rejection> {
    let value = required(object, at, field, "an array")?;
    value.as_array().ok_or_else(|| wrong_kind(at, field, value, "an array"))
}

/// An optional object field; missing or null is an empty object.
pub fn opt_object_field<'a>(
    object: &'a Value,
    at: &str,
    field: &str,
) -> Result<Option<&'a serde_json::Map<String, Value>>, Rejection> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(wrong_kind(at, field, other, "an object")),
    }
}

/// The source's `settings` (a JSON object from `config.toml`) as `T`. Errors
/// are `invalid-settings`, for the operator.
pub fn parse_settings<T: serde::de::DeserializeOwned>(settings: &str) -> Result<T, Rejection> {
    serde_json::from_str(settings).map_err(|error| Rejection::invalid_settings(describe(&error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_readers_name_the_path_and_the_kinds() {
        let value = parse_lenient(br#"{"a": "x", "n": 1, "list": [], "o": {"k": "v"}, "z": null}"#)
            .unwrap();
        assert_eq!(str_field(&value, "", "a").unwrap(), "x");
        let wrong = str_field(&value, "alerts[1]", "n").unwrap_err();
        assert_eq!(wrong.code, "invalid-field");
        assert_eq!(wrong.message, "the field `alerts[1].n` is a number; expected a string");
        let missing = str_field(&value, "", "z").unwrap_err();
        assert_eq!(
            (missing.code.as_str(), missing.message.as_str()),
            ("missing-field", "the field `z` is missing; expected a string")
        );
        assert_eq!(opt_str_field(&value, "", "absent").unwrap(), None);
        assert!(opt_str_field(&value, "", "list").is_err());
        assert!(array_field(&value, "", "list").unwrap().is_empty());
        assert_eq!(
            array_field(&value, "", "o").unwrap_err().message,
            "the field `o` is an object; expected an array"
        );
        assert_eq!(opt_object_field(&value, "", "o").unwrap().unwrap()["k"], "v");
        assert_eq!(index("alerts", 3), "alerts[3]");
    }

    #[test]
    fn settings_errors_are_for_the_operator() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Settings {
            limit: u32,
        }
        let error = parse_settings::<Settings>(r#"{"limit": "ten"}"#).unwrap_err();
        assert_eq!(error.code, "invalid-settings");
        assert!(error.message.contains("invalid type: string \"ten\""), "{}", error.message);
    }

    #[test]
    fn strict_json_parses() {
        let value = parse_lenient(br#"{"a": "b\nc", "n": 1}"#).unwrap();
        assert_eq!(value["a"], "b\nc");
        assert_eq!(value["n"], 1);
    }

    #[test]
    fn raw_newline_and_tab_inside_strings_are_accepted() {
        let value = parse_lenient(b"{\"a\": \"line one\nline two\tend\r\"}").unwrap();
        assert_eq!(value["a"], "line one\nline two\tend\r");
    }

    #[test]
    fn other_raw_control_characters_inside_strings_are_accepted() {
        let value = parse_lenient(b"{\"a\": \"bell\x07\x00\"}").unwrap();
        assert_eq!(value["a"], "bell\u{7}\u{0}");
    }

    #[test]
    fn escaped_quote_does_not_end_the_string() {
        let value = parse_lenient(b"{\"a\": \"say \\\"hi\\\"\nnow\"}").unwrap();
        assert_eq!(value["a"], "say \"hi\"\nnow");
    }

    #[test]
    fn whitespace_between_tokens_is_untouched() {
        let value = parse_lenient(b"{\n\t\"a\":\r\n \"b\"\n}\n").unwrap();
        assert_eq!(value["a"], "b");
    }

    #[test]
    fn malformed_json_names_the_position() {
        let error = parse_lenient(b"{\"a\": \"b\",\n \"c\" 1}").unwrap_err();
        assert_eq!(error.code, "invalid-json");
        assert!(error.message.contains("line 2, column 6"), "{}", error.message);
        assert!(error.message.contains("expected `:`"), "{}", error.message);
    }

    #[test]
    fn empty_body_is_its_own_error() {
        assert_eq!(parse_lenient(b"").unwrap_err().code, "empty-body");
        assert_eq!(parse_lenient(b"  \n").unwrap_err().code, "empty-body");
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let error = parse_lenient(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(error.code, "invalid-json");
        assert!(error.message.contains("UTF-8"), "{}", error.message);
        assert!(error.message.contains("line 1, column 8"), "{}", error.message);
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowing() {
        let body = "[".repeat(100_000);
        let error = parse_lenient(body.as_bytes()).unwrap_err();
        assert!(error.message.contains("recursion limit"), "{}", error.message);
    }

    #[test]
    fn ids_as_string_or_number() {
        let value = parse_lenient(br#"{"a": "12", "b": 13, "c": null}"#).unwrap();
        assert_eq!(string_or_number(&value, "a").as_deref(), Some("12"));
        assert_eq!(string_or_number(&value, "b").as_deref(), Some("13"));
        assert_eq!(string_or_number(&value, "c"), None);
        assert_eq!(string_or_number(&value, "missing"), None);
    }
}
