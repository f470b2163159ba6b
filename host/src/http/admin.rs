//! `POST /api/v1/admin/reload`: re-read the config and plugins, like SIGHUP,
//! but answering whether it worked.

use super::ApiError;
use super::answers::ErrorAnswer;
use super::answers::Reloaded;
use crate::app::{self, AppState, Caller};
use crate::request_extensions::ClientAddress;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use std::sync::Arc;

#[utoipa::path(
    post,
    path = "/api/v1/admin/reload",
    operation_id = "reload",
    summary = "Re-read config.toml and the plugins",
    responses(
        (status = 200, description = "Reloaded", body = Reloaded),
        (status = 422, description = "The new config or a plugin is refused; the old one keeps serving", body = ErrorAnswer),
    ),
    tag = "admin"
)]
pub async fn reload(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
) -> Result<Json<Reloaded>, ApiError> {
    tracing::info!(by = %caller.name, "reload requested over the API");
    let by = app::Requester {
        actor: caller.principal(),
        client: client.map(|Extension(address)| address.client),
    };
    match app::reload(&app, &by).await {
        Ok(report) => Ok(Json(Reloaded {
            reloaded: true,
            sources: report.sources,
            warnings: report.warnings,
        })),
        Err(error) => {
            tracing::error!(by = %caller.name, "configuration refused, the previous one keeps serving: {error:#}");
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-config",
                format!(
                    "the new configuration was refused and the previous one keeps serving: {error:#}"
                ),
            ))
        }
    }
}
