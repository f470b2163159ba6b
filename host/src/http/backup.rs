//! `GET /api/v1/admin/backup`: a consistent copy of the database, taken while
//! the host serves, streamed to the caller (`inbound backup DEST`).
//!
//! The copy is written next to the database (same filesystem, owner-only),
//! opened, and unlinked at once: the open handle keeps its bytes readable for
//! the download and nothing is left behind, whatever happens to the caller.

use super::ApiError;
use super::answers::ErrorAnswer;
use super::error::read_blocking;
use crate::app::audit::{self, Action};
use crate::app::{AppState, Caller};
use crate::request_extensions::ClientAddress;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::IntoResponse;
use futures_util::stream;
use std::io::Read;
use std::sync::Arc;

/// Bytes read from the copy per chunk of the answer.
const CHUNK: usize = 256 << 10;

#[utoipa::path(
    get,
    path = "/api/v1/admin/backup",
    operation_id = "backup",
    summary = "A consistent copy of the database, taken while the host serves",
    description = "The copy holds every change committed before the request; the host keeps taking commits meanwhile. `inbound backup DEST` downloads it and checks that it opens.",
    responses(
        (status = 200, description = "The redb database file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 500, description = "The copy could not be written", body = ErrorAnswer),
        (status = 501, description = "not-supported: the host runs on PostgreSQL; back it up with its own tools", body = ErrorAnswer),
        (status = 503, description = "storage-unavailable", body = ErrorAnswer),
    ),
    tag = "admin"
)]
pub async fn download(
    State(app): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddress>>,
) -> Result<impl IntoResponse, ApiError> {
    let live = app.live.load_full();
    let database = live.config.resolve(&live.config.storage.path);
    let folder = database.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let name = format!(".backup-{}.redb", rand::random::<u64>());
    let target = folder.join(name);
    let store = app.store.clone();
    let (report, file) = read_blocking("a backup copy".into(), move || {
        let report = store.backup_to(&target);
        let file = std::fs::File::open(&target);
        let _ = std::fs::remove_file(&target);
        let file =
            file.map_err(|error| ApiError::internal(format!("cannot read the copy: {error}")));
        match report {
            Ok(report) => file.map(|file| (report, file)),
            Err(error) => Err(ApiError::from(error)),
        }
    })
    .await?;
    tracing::info!(by = %caller.name, rows = report.rows, bytes = report.bytes, "backup taken");
    let detail = format!("downloaded a backup: {} rows, {} bytes", report.rows, report.bytes);
    let client = client.map(|Extension(address)| address.client);
    app.audit_now(audit::Entry::by(&caller, Action::Backup, client, detail)).await;
    let chunks = stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0; CHUNK];
            let read = file.read(&mut buffer)?;
            buffer.truncate(read);
            Ok::<_, std::io::Error>((buffer, file))
        })
        .await
        .unwrap_or_else(|error| Err(std::io::Error::other(error)));
        match read {
            Ok((buffer, _)) if buffer.is_empty() => None,
            Ok((buffer, file)) => Some((Ok(bytes::Bytes::from(buffer)), Some(file))),
            Err(error) => Some((Err(error), None)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, report.bytes.to_string()),
        ],
        Body::from_stream(chunks),
    ))
}
