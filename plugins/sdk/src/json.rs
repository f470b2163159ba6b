//! JSON helpers for webhook bodies.
//!
//! Senders that build JSON from templates (Zendesk triggers among them) often
//! put raw newlines or tabs inside strings, which strict JSON forbids.
//! [`parse_lenient`] accepts those and nothing else that strict JSON rejects.
//!
//! The field readers ([`str_field`], [`number_field`], [`array_field`], ...)
//! return rejections that name the field by its path (`alerts[2].status`)
//! and say what was expected and what came instead. They read a [`Value`] or
//! a [`Map`] (see [`Fields`]); a null field is a missing one. The Python and
//! JavaScript SDKs have the same readers with the same semantics, proven by
//! the shared cases in `tests/sdk/readers.json`; the table is in
//! `docs/plugin-guide.md`, "Reading the request".
//!
//! [`Value`] and [`Map`] are serde_json's, re-exported so a plugin can name
//! them without depending on serde_json itself.

use crate::Rejection;
use serde_json::Number;
pub use serde_json::{Map, Value};

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

/// What the field readers read the fields of: a [`Value`] (an object; any
/// other kind of value is rejected, naming its path) or the [`Map`] that
/// [`opt_object_field`] returns, so a nested object is read with the same
/// readers. References to either work too.
pub trait Fields: sealed::Sealed {
    /// The object's fields, or the value itself when it is not an object.
    fn fields(&self) -> Result<&Map<String, Value>, &Value>;
}

impl Fields for Value {
    fn fields(&self) -> Result<&Map<String, Value>, &Value> {
        self.as_object().ok_or(self)
    }
}

impl Fields for Map<String, Value> {
    fn fields(&self) -> Result<&Map<String, Value>, &Value> {
        Ok(self)
    }
}

impl<T: Fields + ?Sized> Fields for &T {
    fn fields(&self) -> Result<&Map<String, Value>, &Value> {
        (**self).fields()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Value {}
    impl Sealed for super::Map<String, super::Value> {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
}

/// Reads a field that senders may send as a JSON string or a number, as text:
/// a string as it is, `true` or `false`, an integer as its digits (`12`), any
/// other number as JavaScript writes it (`3.0` is `3`, `1e21` is `1e+21`).
/// `None` when the field is missing or null, an array or an object, or when
/// `object` is not an object.
pub fn string_or_number(object: &impl Fields, field: &str) -> Option<String> {
    match object.fields().ok()?.get(field)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number_text(number)),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Reads an optional string field; numbers and booleans are turned into text
/// ([`string_or_number`]), anything else gives an empty string.
pub fn text_field(object: &impl Fields, field: &str) -> String {
    string_or_number(object, field).unwrap_or_default()
}

/// An integer as its digits; any other number as JavaScript's `String(n)`
/// writes it, so that the three SDKs agree.
fn number_text(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    js_number_text(number.as_f64().unwrap_or_default())
}

/// ECMAScript's Number::toString: the shortest digits that read back as `x`,
/// plainly written from 1e-7 up to 1e21, with an exponent outside.
fn js_number_text(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    // `{:e}` writes the shortest digits that round-trip: `1.5e-7`, `1e21`.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits = mantissa.replace('.', "");
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().unwrap_or(0) + 1;
    let text = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat(-n as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let mantissa =
            if k == 1 { digits.clone() } else { format!("{}.{}", &digits[..1], &digits[1..]) };
        format!("{mantissa}e{sign}{}", (n - 1).abs())
    };
    if x < 0.0 { format!("-{text}") } else { text }
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

/// The field, `None` when missing or null; a rejection naming `at` (or
/// `(body)`) when `object` is not an object.
fn optional<'a>(
    object: &'a impl Fields,
    at: &str,
    field: &str,
) -> Result<Option<&'a Value>, Rejection> {
    match object.fields() {
        Ok(map) => Ok(map.get(field).filter(|value| !value.is_null())),
        Err(other) => Err(Rejection::invalid_field(
            if at.is_empty() { "(body)" } else { at },
            format!("is {}; expected an object", kind(other)),
        )),
    }
}

/// A present, non-null field, or a `missing-field` rejection.
fn required<'a>(
    object: &'a impl Fields,
    at: &str,
    field: &str,
    expected: &str,
) -> Result<&'a Value, Rejection> {
    optional(object, at, field)?.ok_or_else(|| Rejection::missing_field(&path(at, field), expected))
}

fn wrong_kind(at: &str, field: &str, value: &Value, expected: &str) -> Rejection {
    Rejection::invalid_field(&path(at, field), format!("is {}; expected {expected}", kind(value)))
}

/// Reads an optional field with `read`, which gives `None` for a value of
/// the wrong kind.
fn opt_field<'a, T>(
    object: &'a impl Fields,
    at: &str,
    field: &str,
    expected: &str,
    read: impl FnOnce(&'a Value) -> Option<T>,
) -> Result<Option<T>, Rejection> {
    match optional(object, at, field)? {
        None => Ok(None),
        Some(value) => read(value).map(Some).ok_or_else(|| wrong_kind(at, field, value, expected)),
    }
}

/// A required string field.
pub fn str_field<'a>(object: &'a impl Fields, at: &str, field: &str) -> Result<&'a str, Rejection> {
    let value = required(object, at, field, "a string")?;
    value.as_str().ok_or_else(|| wrong_kind(at, field, value, "a string"))
}

/// An optional string field: `None` when missing or null, a rejection when
/// it is some other kind of value.
pub fn opt_str_field<'a>(
    object: &'a impl Fields,
    at: &str,
    field: &str,
) -> Result<Option<&'a str>, Rejection> {
    opt_field(object, at, field, "a string", Value::as_str)
}

/// A required array field.
pub fn array_field<'a>(
    object: &'a impl Fields,
    at: &str,
    field: &str,
) -> Result<&'a Vec<Value>, Rejection> {
    let value = required(object, at, field, "an array")?;
    value.as_array().ok_or_else(|| wrong_kind(at, field, value, "an array"))
}

/// An optional object field: `None` when missing or null. The readers take
/// the map it gives as they take a [`Value`] (see [`Fields`]).
pub fn opt_object_field<'a>(
    object: &'a impl Fields,
    at: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, Rejection> {
    opt_field(object, at, field, "an object", Value::as_object)
}

/// A required number field, integer or not.
pub fn number_field(object: &impl Fields, at: &str, field: &str) -> Result<f64, Rejection> {
    let value = required(object, at, field, "a number")?;
    value.as_f64().ok_or_else(|| wrong_kind(at, field, value, "a number"))
}

/// An optional number field: `None` when missing or null.
pub fn opt_number_field(
    object: &impl Fields,
    at: &str,
    field: &str,
) -> Result<Option<f64>, Rejection> {
    opt_field(object, at, field, "a number", Value::as_f64)
}

/// The largest integer every SDK reads exactly: 2^53 - 1. JavaScript's
/// `JSON.parse` rounds larger ones, so all three SDKs refuse them.
pub const MAX_EXACT_INTEGER: i64 = (1 << 53) - 1;

/// A required integer field: a number without a fraction (`3.0` and `3e2`
/// count), from -(2^53 - 1) to 2^53 - 1 ([`MAX_EXACT_INTEGER`]).
pub fn integer_field(object: &impl Fields, at: &str, field: &str) -> Result<i64, Rejection> {
    integer(required(object, at, field, "an integer")?, at, field)
}

/// An optional integer field: `None` when missing or null.
pub fn opt_integer_field(
    object: &impl Fields,
    at: &str,
    field: &str,
) -> Result<Option<i64>, Rejection> {
    optional(object, at, field)?.map(|value| integer(value, at, field)).transpose()
}

fn integer(value: &Value, at: &str, field: &str) -> Result<i64, Rejection> {
    let Value::Number(number) = value else {
        return Err(wrong_kind(at, field, value, "an integer"));
    };
    let beyond = || {
        Rejection::invalid_field(
            &path(at, field),
            format!("is {}, beyond ±{MAX_EXACT_INTEGER}; expected an integer", number_text(number)),
        )
    };
    if let Some(integer) = number.as_i64() {
        return if integer.unsigned_abs() <= MAX_EXACT_INTEGER as u64 {
            Ok(integer)
        } else {
            Err(beyond())
        };
    }
    if number.is_u64() {
        return Err(beyond());
    }
    let float = number.as_f64().unwrap_or(f64::NAN);
    if float.fract() != 0.0 {
        return Err(Rejection::invalid_field(
            &path(at, field),
            format!("is {}, which has a fraction; expected an integer", number_text(number)),
        ));
    }
    if float.abs() > MAX_EXACT_INTEGER as f64 {
        return Err(beyond());
    }
    // -0.0 is 0.
    Ok(float as i64)
}

/// A required boolean field: `true` or `false`, nothing else.
pub fn bool_field(object: &impl Fields, at: &str, field: &str) -> Result<bool, Rejection> {
    let value = required(object, at, field, "a boolean")?;
    value.as_bool().ok_or_else(|| wrong_kind(at, field, value, "a boolean"))
}

/// An optional boolean field: `None` when missing or null.
pub fn opt_bool_field(
    object: &impl Fields,
    at: &str,
    field: &str,
) -> Result<Option<bool>, Rejection> {
    opt_field(object, at, field, "a boolean", Value::as_bool)
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

    /// The readers' cases shared with the Python and JavaScript SDKs'
    /// tests: the three SDKs read the same JSON the same way.
    const SHARED_CASES: &str = include_str!("../../../tests/sdk/readers.json");

    /// What `call` gives for `field` of `input`: the value read as JSON
    /// (`null` for `None`), or the rejection's message.
    fn call(name: &str, input: &Value, at: &str, field: &str) -> Result<Value, String> {
        fn json<T: Into<Value>>(read: Result<T, Rejection>) -> Result<Value, String> {
            read.map(Into::into).map_err(|rejection| rejection.message)
        }
        let object = |map: Option<&Map<String, Value>>| map.cloned().map(Value::Object);
        match name {
            "str_field" => json(str_field(input, at, field)),
            "opt_str_field" => json(opt_str_field(input, at, field)),
            "list_field" => json(array_field(input, at, field).cloned()),
            "opt_object_field" => json(opt_object_field(input, at, field).map(object)),
            "number_field" => json(number_field(input, at, field)),
            "opt_number_field" => json(opt_number_field(input, at, field)),
            "integer_field" => json(integer_field(input, at, field)),
            "opt_integer_field" => json(opt_integer_field(input, at, field)),
            "bool_field" => json(bool_field(input, at, field)),
            "opt_bool_field" => json(opt_bool_field(input, at, field)),
            "string_or_number" => Ok(string_or_number(input, field).into()),
            "text_field" => Ok(text_field(input, field).into()),
            "header" => {
                let request = crate::Request {
                    source: String::new(),
                    headers: serde_json::from_value(input["headers"].clone()).unwrap(),
                    body: Vec::new(),
                    settings: String::new(),
                };
                Ok(request.header(field).into())
            }
            other => panic!("no reader called {other}"),
        }
    }

    /// Numbers are equal when their values are (`1` and `1.0`).
    fn same(got: &Value, expected: &Value) -> bool {
        match (got, expected) {
            (Value::Number(got), Value::Number(expected)) => got.as_f64() == expected.as_f64(),
            _ => got == expected,
        }
    }

    #[test]
    fn readers_agree_with_the_shared_cases() {
        let cases: Vec<Value> = serde_json::from_str(SHARED_CASES).unwrap();
        assert!(cases.len() > 100, "{} cases", cases.len());
        for case in &cases {
            let name = case["call"].as_str().unwrap();
            let (at, field) = (case["at"].as_str().unwrap_or(""), case["field"].as_str().unwrap());
            let got = call(name, &case["input"], at, field);
            let expect = &case["expect"];
            match (expect.get("error").and_then(Value::as_str), got) {
                (Some(part), Err(message)) => assert!(message.contains(part), "{case}: {message}"),
                (Some(_), Ok(value)) => panic!("{case}: read {value}"),
                (None, Ok(value)) => assert!(same(&value, expect), "{case}: read {value}"),
                (None, Err(message)) => panic!("{case}: {message}"),
            }
        }
    }

    #[test]
    fn integers_are_i64_and_numbers_f64() {
        let value =
            parse_lenient(br#"{"monitor": {"id": 7}, "heartbeat": {"ping": 12.5}}"#).unwrap();
        let monitor = opt_object_field(&value, "", "monitor").unwrap().unwrap();
        let id: i64 = integer_field(monitor, "monitor", "id").unwrap();
        assert_eq!(id, 7);
        let heartbeat = &value["heartbeat"];
        let ping: Option<f64> = opt_number_field(heartbeat, "heartbeat", "ping").unwrap();
        assert_eq!(ping, Some(12.5));
    }

    #[test]
    fn a_nested_map_is_read_like_a_value() {
        let value = parse_lenient(br#"{"monitor": {"name": "db", "id": 3}}"#).unwrap();
        let monitor: &Map<String, Value> =
            opt_object_field(&value, "", "monitor").unwrap().unwrap();
        assert_eq!(str_field(monitor, "monitor", "name").unwrap(), "db");
        assert_eq!(text_field(monitor, "id"), "3");
        assert_eq!(string_or_number(&monitor, "name").as_deref(), Some("db"));
        let missing = str_field(monitor, "monitor", "url").unwrap_err();
        assert_eq!(missing.message, "the field `monitor.url` is missing; expected a string");
    }

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        for (x, text) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (123.456, "123.456"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(js_number_text(x), text, "{x:e}");
        }
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
