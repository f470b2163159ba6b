//! A source's candidate plugin: `GET /api/v1/sources/{name}/shadow`, what
//! its `[sources.shadow]` has judged, and `POST /api/v1/sources/{name}/replay`,
//! a candidate run over the source's stored events.

use super::ApiError;
use super::answers::ErrorAnswer;
use super::error::read_blocking;
use super::params::{ApiQuery, QueryParams};
use crate::app::AppState;
use crate::ingest::{ShadowReport, Source};
use crate::replay::{self, ReplayReport};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use utoipa::IntoParams;

/// The largest candidate component accepted: a JavaScript or Python
/// component carries its interpreter (12 to 40 MiB).
pub const CANDIDATE_LIMIT_BYTES: usize = 64 << 20;

/// A replay's own bound: it is exempt from `server.request_timeout_ms`
/// (compiling a JavaScript candidate alone can take longer).
pub const REPLAY_TIMEOUT: Duration = Duration::from_secs(600);

/// One replay at a time per host: each compiles a component and runs two
/// plugins over up to 10,000 events beside the live traffic.
static REPLAYS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// True for the routes that bound their own time instead of
/// `server.request_timeout_ms`.
pub fn bounds_its_own_time(path: &str) -> bool {
    path.strip_prefix("/api/v1/sources/")
        .and_then(|rest| rest.strip_suffix("/replay"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

fn source(app: &AppState, name: &str) -> Result<Arc<Source>, ApiError> {
    app.live.load().sources.by_name(name).ok_or_else(|| {
        ApiError::not_found("unknown-source", format!("there is no source {name:?}"))
    })
}

/// `GET /api/v1/sources/{name}/shadow`: counts and the latest differences.
#[utoipa::path(
    get,
    path = "/api/v1/sources/{name}/shadow",
    operation_id = "showShadow",
    summary = "What the source's shadow plugin has judged: counts and the latest differences",
    params(("name" = String, Path, description = "The source's name")),
    responses(
        (status = 200, description = "The shadow's report since it was loaded", body = ShadowReport),
        (status = 404, description = "unknown-source, or no-shadow", body = ErrorAnswer),
    ),
    tag = "sources"
)]
pub async fn shadow(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<ShadowReport>, ApiError> {
    let source = source(&app, &name)?;
    let shadow = source.shadow.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "no-shadow",
            format!("source {name:?} has no [sources.shadow]; add one and reload"),
        )
    })?;
    Ok(Json(shadow.report()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReplayParams {
    /// A duration back from now: `90m`, `12h`, `7d`.
    since: Option<String>,
    /// The newest events replayed (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

impl QueryParams for ReplayParams {
    const ACCEPTED: &'static str = "since (a duration: 90m, 7d), limit (1-10000)";
}

/// `POST /api/v1/sources/{name}/replay?since=7d&limit=1000`, the candidate
/// component as the body: its outcomes on the source's stored events,
/// compared with the live plugin's on the same events. Reads the live data,
/// writes nothing of it.
#[utoipa::path(
    post,
    path = "/api/v1/sources/{name}/replay",
    operation_id = "replaySource",
    summary = "Replay the source's stored events through a candidate plugin beside the live one, on scratch databases",
    params(("name" = String, Path, description = "The source's name"), ReplayParams),
    request_body(content = Vec<u8>, description = "The candidate component (.wasm)", content_type = "application/wasm"),
    responses(
        (status = 200, description = "Where the candidate's outcomes differ from the live plugin's", body = ReplayReport),
        (status = 400, description = "invalid-since, invalid-limit, candidate-missing", body = ErrorAnswer),
        (status = 404, description = "unknown-source", body = ErrorAnswer),
        (status = 413, description = "The candidate is over 64 MiB", body = ErrorAnswer),
        (status = 422, description = "candidate-refused: not a component of the plugin world", body = ErrorAnswer),
        (status = 429, description = "replay-busy: one replay runs at a time", body = ErrorAnswer),
        (status = 500, description = "The host could not prepare or run the replay", body = ErrorAnswer),
        (status = 503, description = "timeout: the replay ran past its 10 minutes", body = ErrorAnswer),
    ),
    tag = "sources"
)]
pub async fn replay(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<ReplayParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ReplayReport>, ApiError> {
    let source = source(&app, &name)?;
    let live = app.live.load_full();
    let since = match &params.since {
        None => 0,
        Some(text) => {
            let ago = humantime::parse_duration(text).map_err(|error| {
                ApiError::bad_request(
                    "invalid-since",
                    format!("since={text:?} is not a duration like 90m, 12h or 7d: {error}"),
                )
            })?;
            crate::store::now_millis().saturating_sub(ago.as_millis() as u64)
        }
    };
    let limit = params.limit.unwrap_or(replay::DEFAULT_EVENTS);
    if !(1..=replay::MAX_EVENTS).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid-limit",
            format!("limit must be 1 to {}", replay::MAX_EVENTS),
        ));
    }
    let _turn = REPLAYS.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "replay-busy",
            "another replay is running on this host; retry when it is done",
        )
        .retry_after(10)
    })?;
    let candidate =
        super::body::read(&headers, body, CANDIDATE_LIMIT_BYTES, live.body_read_timeout * 4)
            .await?;
    if candidate.is_empty() {
        return Err(ApiError::bad_request(
            "candidate-missing",
            "send the candidate component (.wasm) as the request body",
        ));
    }
    // Written off the async workers; the bytes are let go once on disk.
    let file = tokio::task::spawn_blocking(move || {
        let mut file = tempfile::Builder::new().suffix(".wasm").tempfile()?;
        std::io::Write::write_all(&mut file, &candidate)?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|error| ApiError::internal(error.to_string()))?
    .map_err(|error| ApiError::internal(format!("cannot keep the candidate: {error}")))?;
    let live_plugin = live
        .config
        .integrations
        .get(&source.integration)
        .map(|integration| live.config.resolve(&integration.plugin))
        .ok_or_else(|| ApiError::internal("the source's integration is not configured"))?;
    let cache = crate::app::plugin_cache_dir(&live.config).join("candidates");
    let work = async {
        let (loading, path) = (source.clone(), file.path().to_path_buf());
        let prepared = tokio::task::spawn_blocking(move || {
            let prepared = replay::prepare(&loading, &live_plugin, &path, Some(&cache));
            crate::plugin::cache::prune(&cache, 8);
            prepared
        })
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?
        .map_err(|error| match error {
            replay::PrepareError::Candidate(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "candidate-refused",
                error.to_string(),
            ),
            replay::PrepareError::Host(_) => ApiError::internal(error.to_string()),
        })?;
        let store = app.store.clone();
        let collected = read_blocking(format!("the events of source {name}"), move || {
            replay::events::collect(&store, &name, since, limit)
        })
        .await?;
        replay::run(prepared, collected)
            .await
            .map_err(|error| ApiError::internal(format!("the replay failed: {error:#}")))
    };
    let report = tokio::time::timeout(REPLAY_TIMEOUT, work).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the replay took longer than {} s; replay fewer events (limit, since)",
                REPLAY_TIMEOUT.as_secs()
            ),
        )
    })??;
    Ok(Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_replay_route_bounds_its_own_time() {
        assert!(bounds_its_own_time("/api/v1/sources/support/replay"));
        assert!(!bounds_its_own_time("/api/v1/sources//replay"));
        assert!(!bounds_its_own_time("/api/v1/sources/a/b/replay"));
        assert!(!bounds_its_own_time("/api/v1/sources/support/shadow"));
        assert!(!bounds_its_own_time("/api/v1/events/zendesk/replay"));
    }
}
