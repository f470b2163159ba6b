//! `GET /api/v1/openapi.json`: the API described for tools. Hand-written
//! (`openapi.json` beside this file); a test holds it equal to [`super::routes`].
//! Its `info.version` is this build's, whatever the file says.

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;
use std::sync::LazyLock;

pub const DOCUMENT: &str = include_str!("openapi.json");

/// The document as served: the file, versioned like the crate.
static SERVED: LazyLock<String> = LazyLock::new(|| {
    let mut document: Value = serde_json::from_str(DOCUMENT).expect("openapi.json is valid JSON");
    document["info"]["version"] = Value::from(env!("CARGO_PKG_VERSION"));
    serde_json::to_string_pretty(&document).expect("a JSON value serializes")
});

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], SERVED.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Access, routes};
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn documented() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is valid JSON")
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let served: BTreeSet<(String, String)> = routes()
            .iter()
            .map(|(method, path, ..)| (method.as_str().to_lowercase(), path.to_string()))
            .collect();
        let mut described = BTreeSet::new();
        for (path, operations) in documented()["paths"].as_object().unwrap() {
            for method in operations.as_object().unwrap().keys().filter(|key| *key != "parameters")
            {
                described.insert((method.clone(), path.clone()));
            }
        }
        assert_eq!(served, described);
    }

    /// docs/api.md's table of routes is for people; it must not drift.
    #[test]
    fn the_route_table_of_the_api_docs_names_every_route_and_no_other() {
        let docs = include_str!("../../../docs/api.md");
        let listed: BTreeSet<String> = docs
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once('`').map(|(route, _)| route.to_string()))
            .filter(|route| {
                ["GET /", "POST /", "PUT /", "DELETE /"].iter().any(|m| route.starts_with(m))
            })
            .collect();
        let served: BTreeSet<String> =
            routes().iter().map(|(method, path, ..)| format!("{method} {path}")).collect();
        assert_eq!(listed, served);
    }

    #[test]
    fn the_served_document_carries_this_builds_version() {
        let served: Value = serde_json::from_str(&SERVED).unwrap();
        assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(served["paths"], documented()["paths"], "only the version differs");
    }

    #[test]
    fn token_routes_and_only_they_declare_bearer_security_and_their_role() {
        let document = documented();
        for (method, path, access, _) in routes() {
            let operation = &document["paths"][path][method.as_str().to_lowercase()];
            let secured = operation
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            let role = operation["x-required-role"].as_str();
            match access {
                Access::Open => assert!(!secured && role.is_none(), "{method} {path}"),
                Access::Needs(needed) => {
                    assert!(secured, "{method} {path}");
                    assert_eq!(role, Some(needed.as_str()), "{method} {path}");
                }
            }
        }
    }
}
