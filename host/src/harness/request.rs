//! A request as a sender would post it: headers and a raw body.

use anyhow::Context;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    /// Names in lower case, as the host hands them to plugins.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl TestRequest {
    /// A raw body, with no headers.
    pub fn body(body: impl Into<Vec<u8>>) -> TestRequest {
        TestRequest { headers: Vec::new(), body: body.into() }
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json(value: &serde_json::Value) -> TestRequest {
        TestRequest::body(value.to_string()).header("content-type", "application/json")
    }

    /// A fixture file: the body exactly as the sender posts it (bytes are
    /// not re-encoded, so malformed fixtures stay malformed), sent as JSON.
    pub fn fixture(path: impl AsRef<Path>) -> anyhow::Result<TestRequest> {
        let path = path.as_ref();
        let body = std::fs::read(path)
            .with_context(|| format!("cannot read the fixture {}", path.display()))?;
        Ok(TestRequest::body(body).header("content-type", "application/json"))
    }

    /// Adds (or replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> TestRequest {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(known, _)| *known != name);
        self.headers.push((name, value.to_string()));
        self
    }
}

impl From<serde_json::Value> for TestRequest {
    fn from(value: serde_json::Value) -> Self {
        TestRequest::json(&value)
    }
}

impl From<&str> for TestRequest {
    fn from(body: &str) -> Self {
        TestRequest::body(body)
    }
}
