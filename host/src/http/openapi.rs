//! `GET /api/v1/openapi.json`: the API described for tools. Hand-written
//! (`openapi.json` beside this file); a test holds it equal to [`super::routes`].

use axum::http::header;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
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

    #[test]
    fn token_routes_and_only_they_declare_bearer_security() {
        let document = documented();
        for (method, path, access, _) in routes() {
            let operation = &document["paths"][path][method.as_str().to_lowercase()];
            let secured = operation
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            assert_eq!(secured, access == Access::Token, "{method} {path}");
        }
    }
}
