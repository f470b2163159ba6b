//! The host's one router: the JSON API ([`crate::http`]) and the web console
//! ([`crate::ui`]) side by side, under the layers every request passes
//! ([`super::layers`]). The two faces never import each other; this is the
//! only place that sees both.

use super::layers::{client_address, deadline, page_headers, request_log, unread_body};
use crate::app::AppState;
use crate::http::{self, ApiError};
use crate::ui;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub fn router(app: Arc<AppState>) -> Router {
    http::router(app.clone())
        .merge(console(app.clone()))
        // Every HTML answer, the console's and the link pages', and any
        // fallback's.
        .layer(middleware::from_fn(page_headers::for_html))
        .layer(middleware::from_fn_with_state(app.clone(), deadline::deadline))
        // It sees every answer, the deadline's 503 included.
        .layer(middleware::from_fn_with_state(app.clone(), request_log::log_refusals))
        // The request log and the limits need the client.
        .layer(middleware::from_fn_with_state(app, client_address::resolve))
        // Outermost: it watches the body every layer below may leave unread.
        .layer(middleware::from_fn(unread_body::close_if_body_unread))
}

/// The console's routes, answering like unknown ones while it is off.
fn console(app: Arc<AppState>) -> Router {
    ui::router(app.clone())
        .route_layer(middleware::from_fn_with_state(app, only_when_console_enabled))
}

/// `[ui] enabled = false` turns the console off, also on reload: its paths
/// then answer like any unknown route, in the API's words.
async fn only_when_console_enabled(
    State(app): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if app.live.load().config.ui.enabled {
        next.run(request).await
    } else {
        ApiError::not_found("no-route", "the web console is turned off ([ui] enabled = false)")
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use crate::http::ApiError;
    use crate::ingest::{DeliveryError, OverBudget};
    use crate::plugin::CallError;
    use crate::respond::RespondError;
    use crate::store::Reopen;
    use crate::ui::UiError;

    /// The console shows an error as the API answers it: same status, same
    /// sentence (the API adds a code and `Retry-After`, a page has no use
    /// for them).
    fn same_story(api: ApiError, console: UiError) {
        assert_eq!(console.status, api.status, "{}", api.message);
        assert_eq!(console.message, api.message);
        assert_eq!(Some(console.title.as_str()), api.status.canonical_reason());
    }

    #[test]
    fn the_console_and_the_api_tell_a_failed_replay_alike() {
        let cases = || {
            vec![
                DeliveryError::Rejected { code: "bad".into(), message: "no title".into() },
                DeliveryError::PluginFailed {
                    error: CallError::Trap("panicked".into()),
                    failure: 7,
                    retry_after: 30,
                },
                DeliveryError::Storage("disk".into()),
                DeliveryError::Unavailable("reconnecting".into()),
                DeliveryError::Contended,
                DeliveryError::OverBudget(OverBudget { mib_per_minute: 1, seconds: 5 }),
                DeliveryError::Replay("already replayed".into()),
            ]
        };
        for (api, console) in cases().into_iter().zip(cases()) {
            same_story(ApiError::from(api), UiError::from(console));
        }
    }

    #[test]
    fn the_console_and_the_api_tell_a_refused_status_change_alike() {
        let cases = || {
            vec![
                RespondError::NotFound(3),
                RespondError::Resolved(Reopen(3)),
                RespondError::NoteTooLong,
                RespondError::EmptyNote,
                RespondError::Storage("disk".into()),
                RespondError::Unavailable("reconnecting".into()),
                RespondError::Contended(3),
            ]
        };
        for (api, console) in cases().into_iter().zip(cases()) {
            same_story(ApiError::from(api), UiError::from(console));
        }
    }

    /// docs/people.md's table of roles names, for each role, exactly the
    /// API routes and console pages that need it: the operators' copy of
    /// the two route tables.
    #[test]
    fn the_roles_table_of_the_people_docs_names_every_protected_route_by_its_role() {
        use crate::roles::Access;
        use std::collections::BTreeSet;
        let docs = include_str!("../../../docs/people.md");
        let mut listed = BTreeSet::new();
        for line in docs.lines().filter(|line| line.starts_with("| `")) {
            let cells: Vec<&str> = line.split(" | ").collect();
            let Some(role) = cells.first().and_then(|cell| cell.strip_prefix("| `")) else {
                continue;
            };
            let role = role.trim_end_matches('`');
            if !["metrics", "viewer", "responder", "admin"].contains(&role) || cells.len() < 4 {
                continue;
            }
            for cell in &cells[2..4] {
                for route in cell.split("`, `") {
                    let route = route.trim_matches(|c| c == '`' || c == ' ' || c == '|');
                    if route != "none" && !route.is_empty() {
                        listed.insert((route.to_string(), role.to_string()));
                    }
                }
            }
        }
        let api = crate::http::routes()
            .into_iter()
            .map(|(method, path, access, _)| (method, path, access));
        let console =
            crate::ui::routes().into_iter().map(|(method, path, access, _)| (method, path, access));
        let served: BTreeSet<(String, String)> = api
            .chain(console)
            .filter_map(|(method, path, access)| match access {
                Access::Needs(role) => {
                    Some((format!("{method} {path}"), role.as_str().to_string()))
                }
                Access::Open => None,
            })
            .collect();
        assert_eq!(listed, served);
    }
}
