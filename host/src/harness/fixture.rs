//! Fixture files: a test of a plugin written as data, run by `inbound plugin
//! test` on the prebuilt host. One TOML file is one test: the source's
//! settings, the requests in order, and what each must be answered. The
//! format is documented in `docs/plugin-guide.md`.
//!
//! Every check compares what the sender and the operator would see: the
//! HTTP status, the actions, the incidents as the API shows them, the
//! plugin's log. A field left out of a fixture is not compared, so a
//! fixture says only what it means to pin down.

use super::change::request_json;
use super::{ChangeRun, Harness, RunResult, TestChange, TestRequest};
use crate::plugin::{ApiVersion, SettingsRefused};
use crate::store::Action;
use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One fixture file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// What the test shows; printed when it fails.
    pub description: Option<String>,
    /// The source's `settings` table, as in `config.toml`.
    #[serde(default)]
    pub settings: toml::Table,
    /// Text the refusal of `settings` must contain: the fixture tests the
    /// plugin's judgement of its settings (the one `inbound serve` makes at
    /// start-up) and sends no request.
    pub settings_refused: Option<String>,
    /// The requests, sent in order to one source and one fresh database.
    #[serde(rename = "request", default)]
    pub requests: Vec<FixtureRequest>,
    /// Every incident of the source after the last request, oldest first:
    /// their number must match, and each listed field.
    pub incidents: Option<Vec<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureRequest {
    /// The body as text.
    pub body: Option<String>,
    /// The body from a file, relative to the fixture file, sent byte for byte.
    pub body_file: Option<PathBuf>,
    /// The body as a TOML table, sent as JSON.
    pub json: Option<toml::Table>,
    /// Request headers; `content-type: application/json` is added for
    /// `body_file` and `json` bodies unless given.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Instead of a webhook: a person's (or the host's) change to an
    /// incident, for a plugin that acts back on its sender (`on-change`);
    /// `expect.sent` lists the requests it must answer with.
    pub change: Option<TestChange>,
    /// The sender's 2xx answers to the requests, in order, played back
    /// for their `remember-as` (e.g. `'{"silenceID": "s1"}'`).
    #[serde(default)]
    pub answers: Vec<String>,
    #[serde(default)]
    pub expect: Expect,
}

/// What the answer must be. Only what is given is compared, except the
/// status: a request without `expect.status` must be accepted (202).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub status: Option<u16>,
    /// The actions, in order: `created`, `accepted`, `resolved`,
    /// `commented`, `unchanged`. `[]` means none.
    pub actions: Option<Vec<Action>>,
    /// The error code of a refused request (`invalid-field`, ...).
    pub error_code: Option<String>,
    /// Text the error message must contain.
    pub error_contains: Option<String>,
    /// Texts that must appear in the plugin's log lines, in this order.
    #[serde(default)]
    pub logs: Vec<String>,
    /// The incidents the request concerned, in the order of its actions.
    pub incidents: Option<Vec<toml::Table>>,
    /// For a `change`: the requests to the sender, in order; each listed
    /// field must match: `method`, `path`, `remember_as`, `body_contains`,
    /// `json` (every key given must be in the body, recursively). `[]`
    /// means it sends nothing.
    pub sent: Option<Vec<toml::Table>>,
    /// For a `change`: text its refusal must contain.
    pub refused_contains: Option<String>,
}

/// A fixture's result: empty `failures` is a pass.
pub struct FixtureOutcome {
    pub failures: Vec<String>,
}

impl Fixture {
    pub fn load(path: &Path) -> anyhow::Result<Fixture> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the fixture {}", path.display()))?;
        let fixture: Fixture = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid fixture", path.display()))?;
        match (&fixture.settings_refused, fixture.requests.is_empty()) {
            (None, true) => anyhow::bail!(
                "{} has no [[request]]: a fixture sends at least one, or tests settings with settings_refused",
                path.display()
            ),
            (Some(_), false) => anyhow::bail!(
                "{} has settings_refused and [[request]]: a fixture whose settings are refused sends nothing; split it in two",
                path.display()
            ),
            _ => Ok(fixture),
        }
    }

    /// Runs the fixture on `harness` (which must have an empty database).
    /// `dir` is the fixture file's folder, for `body_file`.
    pub fn run(&self, harness: Harness, dir: &Path) -> anyhow::Result<FixtureOutcome> {
        let settings = serde_json::to_value(&self.settings).context("settings as JSON")?;
        let api_version = harness.api_version();
        let judged = harness.with_settings(settings);
        let harness = match (&self.settings_refused, judged) {
            (None, judged) => judged?,
            (Some(expected), Err(refusal)) => {
                let failure = match refusal.downcast_ref::<SettingsRefused>() {
                    Some(SettingsRefused::Problems(_)) => {
                        let text = format!("{refusal:#}");
                        (!text.contains(expected.as_str())).then(|| {
                            format!(
                                "the settings were refused, but not with {expected:?}:\n  {text}"
                            )
                        })
                    }
                    Some(SettingsRefused::PluginFailed(error)) => Some(format!(
                        "the plugin failed while judging the settings (a refusal was expected): {error}"
                    )),
                    None => return Err(refusal),
                };
                return Ok(FixtureOutcome { failures: failure.into_iter().collect() });
            }
            (Some(expected), Ok(_)) if api_version < ApiVersion::V0_3_0 => {
                return Ok(FixtureOutcome {
                    failures: vec![format!(
                        "expected the settings to be refused with {expected:?}, but the plugin is built against inbound:plugin@{api_version}, before `about`: the host cannot ask it to judge settings"
                    )],
                });
            }
            (Some(expected), Ok(_)) => {
                return Ok(FixtureOutcome {
                    failures: vec![format!(
                        "expected the settings to be refused with {expected:?}; the plugin accepted them"
                    )],
                });
            }
        };
        let mut failures = Vec::new();
        for (index, request) in self.requests.iter().enumerate() {
            if let Some(change) = &request.change {
                let run = harness.change(change)?;
                if let Ok(requests) = &run.requests {
                    for (sent, answer) in requests.iter().zip(&request.answers) {
                        harness.answer(sent, answer.as_bytes())?;
                    }
                }
                let problems = request.expect.compare_change(&run);
                if !problems.is_empty() {
                    failures.push(format!(
                        "request {} (change {:?}):\n{}\n  what the plugin sends:\n{}",
                        index + 1,
                        change.kind,
                        problems.join("\n"),
                        indent(&run.to_string(), "    ")
                    ));
                }
                continue;
            }
            let run = harness.send(request.to_test_request(dir)?);
            let problems = request.expect.compare(&run);
            if !problems.is_empty() {
                failures.push(format!(
                    "request {} ({}):\n{}\n  what the plugin did:\n{}",
                    index + 1,
                    request.label(),
                    problems.join("\n"),
                    indent(&run.to_string(), "    ")
                ));
            }
        }
        if let Some(expected) = &self.incidents {
            let actual: Vec<Value> =
                harness.incidents().iter().map(crate::http::incident_view).collect();
            let problems = compare_incidents("incidents after the last request", expected, &actual);
            if !problems.is_empty() {
                failures.push(problems.join("\n"));
            }
        }
        Ok(FixtureOutcome { failures })
    }
}

impl FixtureRequest {
    fn to_test_request(&self, dir: &Path) -> anyhow::Result<TestRequest> {
        let mut request = match (&self.body, &self.body_file, &self.json) {
            (Some(body), None, None) => TestRequest::body(body.as_bytes()),
            (None, Some(file), None) => TestRequest::fixture(dir.join(file))?,
            (None, None, Some(json)) => TestRequest::json(&serde_json::to_value(json)?),
            (None, None, None) => TestRequest::body(Vec::new()),
            _ => anyhow::bail!("a [[request]] has one of body, body_file and json, not several"),
        };
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        Ok(request)
    }

    fn label(&self) -> String {
        match (&self.body_file, &self.json) {
            (Some(file), _) => file.display().to_string(),
            (None, Some(_)) => "inline json".into(),
            (None, None) => "inline body".into(),
        }
    }
}

impl Expect {
    /// Each difference between this expectation and what the plugin sends
    /// for a change.
    pub fn compare_change(&self, run: &ChangeRun) -> Vec<String> {
        let mut problems = Vec::new();
        match (&run.requests, &self.refused_contains) {
            (Err(error), Some(text)) if !error.contains(text.as_str()) => {
                problems.push(format!("  refusal: expected it to contain {text:?}, got {error:?}"))
            }
            (Err(_), Some(_)) => {}
            (Err(error), None) => problems.push(format!("  refused: {error}")),
            (Ok(_), Some(text)) => {
                problems.push(format!("  expected a refusal containing {text:?}; it answered"))
            }
            (Ok(requests), None) => {
                if let Some(expected) = &self.sent {
                    let actual: Vec<Value> = requests.iter().map(request_json).collect();
                    problems.extend(compare_sent(expected, &actual));
                }
            }
        }
        problems
    }

    /// Each difference between this expectation and `run`, as
    /// "  what: expected X, got Y" lines.
    pub fn compare(&self, run: &RunResult) -> Vec<String> {
        let mut problems = Vec::new();
        let status = self.status.unwrap_or(202);
        if run.status != status {
            let why = run.error_message().map(|m| format!(" ({m})")).unwrap_or_default();
            problems.push(format!("  status: expected {status}, got {}{why}", run.status));
        }
        if let Some(actions) = &self.actions
            && run.actions() != *actions
        {
            problems.push(format!(
                "  actions: expected {}, got {}",
                words(actions),
                words(&run.actions())
            ));
        }
        if let Some(code) = &self.error_code
            && run.error_code() != Some(code.as_str())
        {
            problems.push(format!(
                "  error_code: expected {code:?}, got {}",
                run.error_code().map_or("none".into(), |c| format!("{c:?}"))
            ));
        }
        if let Some(text) = &self.error_contains
            && !run.error_message().is_some_and(|message| message.contains(text.as_str()))
        {
            problems.push(format!(
                "  error message: expected it to contain {text:?}, got {}",
                run.error_message().map_or("none".into(), |m| format!("{m:?}"))
            ));
        }
        problems.extend(missing_logs(&self.logs, run));
        if let Some(expected) = &self.incidents {
            let actual: Vec<Value> =
                run.incidents().into_iter().map(crate::http::incident_view).collect();
            problems.extend(compare_incidents("incidents", expected, &actual));
        }
        problems
    }
}

/// The expected log texts not found, in order, among the log lines.
fn missing_logs(expected: &[String], run: &RunResult) -> Vec<String> {
    let mut lines = run.logs.iter();
    expected
        .iter()
        .filter(|text| !lines.any(|line| line.message.contains(text.as_str())))
        .map(|text| format!("  logs: expected a line containing {text:?} (in this order)"))
        .collect()
}

/// Compares each listed field of each expected incident with the API's
/// view of the actual one (`details_contains` checks part of the details).
fn compare_incidents(what: &str, expected: &[toml::Table], actual: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    if expected.len() != actual.len() {
        problems.push(format!("  {what}: expected {}, got {}", expected.len(), actual.len()));
    }
    for (index, (want, got)) in expected.iter().zip(actual).enumerate() {
        for (field, value) in want {
            let want_value = serde_json::to_value(value).unwrap_or(Value::Null);
            let (field, matches) = match field.as_str() {
                "details_contains" => (
                    "details",
                    got["details"]
                        .as_str()
                        .is_some_and(|d| d.contains(value.as_str().unwrap_or(""))),
                ),
                field => (field, got.get(field).is_some_and(|g| *g == want_value)),
            };
            if !matches {
                let got_value = got.get(field).map_or("nothing".into(), Value::to_string);
                problems.push(format!(
                    "  {what}[{index}].{field}: expected {want_value}, got {got_value}"
                ));
            }
        }
    }
    problems
}

/// Compares the requests a change sends with the expected ones.
fn compare_sent(expected: &[toml::Table], actual: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    if expected.len() != actual.len() {
        problems.push(format!(
            "  sent: expected {} requests, got {}",
            expected.len(),
            actual.len()
        ));
    }
    for (index, (want, got)) in expected.iter().zip(actual).enumerate() {
        for (field, value) in want {
            let want_value = serde_json::to_value(value).unwrap_or(Value::Null);
            let matches = match field.as_str() {
                "body_contains" => got["body"]
                    .as_str()
                    .is_some_and(|body| body.contains(value.as_str().unwrap_or(""))),
                "json" => contains_json(&got["json"], &want_value),
                field => got.get(field).is_some_and(|g| *g == want_value),
            };
            if !matches {
                let shown = if field == "body_contains" { "body" } else { field.as_str() };
                let got_value = got.get(shown).map_or("nothing".into(), Value::to_string);
                problems.push(format!(
                    "  sent[{index}].{field}: expected {want_value}, got {got_value}"
                ));
            }
        }
    }
    problems
}

/// Whether `actual` has every key of `wanted` with the same value, objects
/// compared the same way, recursively; anything else compared whole.
fn contains_json(actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::Object(actual), Value::Object(wanted)) => wanted
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|got| contains_json(got, value))),
        _ => actual == wanted,
    }
}

fn words(actions: &[Action]) -> String {
    let words: Vec<String> = actions
        .iter()
        .map(|action| serde_json::to_value(action).unwrap_or_default().to_string())
        .collect();
    format!("[{}]", words.join(", "))
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|line| format!("{prefix}{line}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::LogLine;
    use serde_json::json;
    use std::time::Duration;

    fn run(status: u16, logs: &[&str]) -> RunResult {
        RunResult {
            status,
            answer: json!({"error": {"code": "invalid-field", "message": "the field `id` is missing"}}),
            outcomes: Vec::new(),
            logs: logs
                .iter()
                .map(|m| LogLine { level: "info".into(), message: m.to_string() })
                .collect(),
            logs_dropped: 0,
            time: Duration::ZERO,
            memory_bytes: 0,
        }
    }

    #[test]
    fn sent_requests_match_by_the_fields_given_and_json_by_subset() {
        let actual = vec![json!({
            "method": "PUT",
            "path": "/api/v2/tickets/7.json",
            "body": r#"{"ticket":{"comment":{"body":"Accepted by ada","public":false},"status":"open"}}"#,
            "json": {"ticket": {"comment": {"body": "Accepted by ada", "public": false}, "status": "open"}},
        })];
        let want: Vec<toml::Table> = vec![
            toml::from_str(
                r#"
            method = "PUT"
            body_contains = "by ada"
            json = { ticket = { comment = { public = false } } }
            "#,
            )
            .unwrap(),
        ];
        assert!(compare_sent(&want, &actual).is_empty(), "{:?}", compare_sent(&want, &actual));
        let wrong: Vec<toml::Table> =
            vec![toml::from_str(r#"json = { ticket = { comment = { public = true } } }"#).unwrap()];
        assert_eq!(compare_sent(&wrong, &actual).len(), 1);
        assert_eq!(compare_sent(&[], &actual), ["  sent: expected 0 requests, got 1"]);
    }

    #[test]
    fn the_format_reads_requests_and_expectations() {
        let fixture: Fixture = toml::from_str(
            r#"
            settings = { team = "db" }
            [[request]]
            body_file = "firing.json"
            [request.expect]
            actions = ["created"]
            [[request.expect.incidents]]
            key = "k"
            [[request]]
            json = { id = "k", status = "resolved" }
            expect = { status = 202, actions = ["resolved"] }
            "#,
        )
        .unwrap();
        assert_eq!(fixture.requests.len(), 2);
        assert_eq!(fixture.requests[0].expect.actions, Some(vec![Action::Created]));
        assert_eq!(fixture.requests[1].expect.actions, Some(vec![Action::Resolved]));
        assert!(toml::from_str::<Fixture>("[[request]]\nexpect = { stauts = 202 }").is_err());
    }

    #[test]
    fn a_different_status_code_and_message_are_named() {
        let expect = Expect {
            status: Some(202),
            error_code: Some("invalid-json".into()),
            error_contains: Some("`status`".into()),
            ..Expect::default()
        };
        let problems = expect.compare(&run(400, &[]));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("expected 202, got 400 (the field `id` is missing)"));
        assert!(problems[1].contains("expected \"invalid-json\", got \"invalid-field\""));
    }

    #[test]
    fn logs_must_appear_in_order() {
        let expect = Expect {
            status: Some(400),
            logs: vec!["first".into(), "second".into()],
            ..Expect::default()
        };
        assert!(expect.compare(&run(400, &["the first", "the second"])).is_empty());
        assert_eq!(expect.compare(&run(400, &["the second", "the first"])).len(), 1);
    }

    #[test]
    fn incident_fields_left_out_are_not_compared() {
        let want: toml::Table = toml::from_str("key = \"k\"\ndetails_contains = \"disk\"").unwrap();
        let got = json!({"key": "k", "summary": "anything", "details": "the disk is full"});
        assert!(compare_incidents("incidents", std::slice::from_ref(&want), &[got]).is_empty());
        let other = json!({"key": "j", "details": "cpu"});
        let problems = compare_incidents("incidents", &[want], &[other]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("incidents[0].key: expected \"k\", got \"j\"")),
            "{problems:?}"
        );
    }
}
