//! `GET /api/v1/openapi.json`: the API described for tools, generated.
//!
//! Each handler states its operation (`#[utoipa::path]`: summary,
//! parameters, bodies, answers); the answer types state their schemas
//! (`#[derive(ToSchema)]` in [`super::answers`]). Who may call a route is
//! not repeated there: [`access_from_routes`] writes each operation's
//! `security`, `x-required-role` and refusals from [`super::routes`], the
//! one place access is decided. The version is the crate's.

use super::{Access, answers, routes};
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "inbound",
        description = "Webhooks in, incidents out. Human documentation: docs/api.md."
    ),
    paths(
        super::events::receive,
        super::incidents::list,
        super::incidents::show,
        super::incidents::log,
        super::incidents::accept,
        super::incidents::resolve,
        super::incidents::note,
        super::failed::list,
        super::failed::show,
        super::failed::replay,
        super::notifications::list,
        super::notifications::show,
        super::notifications::retry,
        super::notifications::confirm,
        super::notifications::act,
        super::maintenance::list,
        super::maintenance::start,
        super::maintenance::end,
        super::heartbeats::list,
        super::heartbeats::ping,
        super::replies::receive,
        super::oncall::oncall,
        super::oncall::take,
        super::oncall::cancel,
        super::calendar::schedule,
        super::calendar::person,
        super::admin::reload,
        super::backup::download,
        super::people::list,
        super::people::set_password,
        super::people::test_contacts,
        super::people::audit,
        super::sources::shadow,
        super::sources::replay,
        document,
        super::metrics::render,
        super::health::healthz,
        super::health::readyz,
    ),
    components(schemas(answers::ErrorAnswer)),
    modifiers(&AccessFromRoutes)
)]
struct ApiDocument;

/// The document as served.
static SERVED: LazyLock<String> = LazyLock::new(|| {
    let mut document = ApiDocument::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_string();
    document.to_pretty_json().expect("the OpenAPI document serializes")
});

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)),
    tag = "meta"
)]
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], SERVED.as_str())
}

struct AccessFromRoutes;

impl utoipa::Modify for AccessFromRoutes {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        access_from_routes(document);
    }
}

/// Token routes get the bearer scheme, their role as `x-required-role`, and
/// the 401 and 403 every such route can answer; open routes none of them.
fn access_from_routes(document: &mut utoipa::openapi::OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API token of [[api.tokens]], or a person's console session"))
                .build(),
        ),
    );
    for (method, path, access, _) in routes() {
        let Access::Needs(role) = access else { continue };
        let Some(item) = document.paths.paths.get_mut(path) else { continue };
        let Some(operation) = operation_mut(item, &method) else { continue };
        operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        let extensions = operation.extensions.get_or_insert_with(Default::default);
        extensions.merge(ExtensionsBuilder::new().add("x-required-role", role.as_str()).build());
        let error = |description: String| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorAnswer")))
                        .build(),
                )
                .build()
        };
        let responses = &mut operation.responses.responses;
        responses.entry("401".into()).or_insert_with(|| {
            error("No token, or one that is not valid (unauthorized)".into()).into()
        });
        // A handler's own 403 (a responder acting for someone else) stays,
        // after the refusal every such route can give.
        let by_role = format!(
            "The token's role is below {} (x-required-role); the code is needs_{}",
            role.as_str(),
            role.as_str()
        );
        let own = match responses.get("403") {
            Some(utoipa::openapi::RefOr::T(own)) => format!("; or: {}", own.description),
            _ => String::new(),
        };
        responses.insert("403".into(), error(format!("{by_role}{own}")).into());
    }
}

fn operation_mut<'a>(
    item: &'a mut PathItem,
    method: &axum::http::Method,
) -> Option<&'a mut Operation> {
    use axum::http::Method;
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Access, routes};
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn generated() -> Value {
        serde_json::from_str(&SERVED).expect("the document is JSON")
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let served: BTreeSet<(String, String)> = routes()
            .iter()
            .map(|(method, path, ..)| (method.as_str().to_lowercase(), path.to_string()))
            .collect();
        let mut described = BTreeSet::new();
        for (path, operations) in generated()["paths"].as_object().unwrap() {
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
    fn the_document_is_openapi_3_1_and_carries_this_builds_version() {
        let document = generated();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn token_routes_and_only_they_declare_bearer_security_and_their_role() {
        let document = generated();
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
                    assert!(operation["responses"]["403"].is_object(), "{method} {path}");
                }
            }
        }
    }

    /// A route's own refusal (a responder taking a shift for someone else)
    /// is kept beside the role's.
    #[test]
    fn a_handlers_own_403_is_kept_beside_the_roles() {
        let document = generated();
        let refused =
            &document["paths"]["/api/v1/schedules/{name}/shifts"]["post"]["responses"]["403"];
        let description = refused["description"].as_str().unwrap();
        assert!(description.contains("needs_responder"), "{description}");
        assert!(description.contains("for themselves"), "{description}");
    }

    /// Every `$ref` points at a schema the document has: a type used in an
    /// answer but not derived would leave a dangling reference.
    #[test]
    fn every_reference_resolves() {
        let document = generated();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        let mut references = Vec::new();
        collect_references(&document, &mut references);
        assert!(references.len() > 20, "{references:?}");
        for reference in references {
            let name = reference.strip_prefix("#/components/schemas/").unwrap_or(&reference);
            assert!(schemas.contains_key(name), "{reference} is not in components.schemas");
        }
    }

    /// Schemas are named after the API's types, never after a Rust
    /// primitive that a type alias (`Millis`) leaked.
    #[test]
    fn no_schema_is_named_after_a_primitive() {
        let document = generated();
        for name in document["components"]["schemas"].as_object().unwrap().keys() {
            assert!(name.starts_with(char::is_uppercase), "schema {name}");
        }
    }

    fn collect_references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    found.push(reference.clone());
                }
                map.values().for_each(|v| collect_references(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_references(v, found)),
            _ => {}
        }
    }

    /// The document describes what the handlers really answer: a typed
    /// answer, serialized, has every property its schema requires.
    #[test]
    fn an_answer_has_the_properties_its_schema_requires() {
        let document = generated();
        let schema = &document["components"]["schemas"]["Incident"];
        let incident = crate::http::views::incident(&crate::store::Incident {
            id: 1,
            source: "support".into(),
            key: "7".into(),
            status: crate::store::Status::Pending,
            summary: "Printer on fire".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            escalation_policy: "default".into(),
            created_at: 0,
            updated_at: 0,
            version: 1,
        });
        let answer = serde_json::to_value(incident).unwrap();
        for required in schema["required"].as_array().unwrap() {
            let name = required.as_str().unwrap();
            assert!(answer.get(name).is_some(), "{name} is required but not answered: {answer}");
        }
    }
}
