//! What went wrong, for a person: the status code a tool would expect, and
//! a sentence a person can act on. Each typed error of the layers below
//! converts here, once; [`super::render`] shows it as a page.

use crate::ingest::DeliveryError;
use crate::respond::RespondError;
use axum::http::StatusCode;

#[derive(Debug)]
pub struct UiError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl UiError {
    pub fn new(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Self {
        UiError { status, title: title.into(), message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", message)
    }

    /// For the conversions below: the title names the status, and status
    /// and message are those the API answers for the same error (a test in
    /// `server::router` holds them equal), so console and API tell one story.
    fn titled_by_status(status: StatusCode, message: String) -> Self {
        UiError::new(status, status.canonical_reason().unwrap_or("Error"), message)
    }
}

/// A replay through the ingest path that did not go through.
impl From<DeliveryError> for UiError {
    fn from(error: DeliveryError) -> Self {
        let (status, message) = match error {
            DeliveryError::Rejected { message, .. } => (StatusCode::BAD_REQUEST, message),
            DeliveryError::PluginFailed { error, failure, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{error}; the event is kept as failed delivery {failure} and can be replayed"
                ),
            ),
            DeliveryError::Storage(message) => {
                (StatusCode::INTERNAL_SERVER_ERROR, format!("the event was not stored: {message}"))
            }
            DeliveryError::Unavailable(why) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the event was not stored: storage is unavailable ({why}); retry"),
            ),
            DeliveryError::Contended => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many simultaneous changes to the same incident; nothing was stored, retry"
                    .to_string(),
            ),
            DeliveryError::OverBudget(over) => (StatusCode::TOO_MANY_REQUESTS, over.to_string()),
            DeliveryError::Replay(message) => (StatusCode::CONFLICT, message),
        };
        UiError::titled_by_status(status, message)
    }
}

/// An accept or resolve that did not go through.
impl From<RespondError> for UiError {
    fn from(error: RespondError) -> Self {
        let status = match error {
            RespondError::NotFound(_) => StatusCode::NOT_FOUND,
            RespondError::Resolved(_) => StatusCode::CONFLICT,
            RespondError::NoteTooLong | RespondError::EmptyNote => StatusCode::BAD_REQUEST,
            RespondError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            RespondError::Unavailable(_) | RespondError::Contended(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        UiError::titled_by_status(status, error.to_string())
    }
}

/// Runs a blocking storage read off the async runtime.
pub async fn read<T, E>(
    what: &str,
    read: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, UiError>
where
    T: Send + 'static,
    E: std::fmt::Display + std::any::Any + Send + 'static,
{
    let failed = |error: String| UiError::internal(format!("cannot read {what}: {error}"));
    tokio::task::spawn_blocking(read).await.map_err(|error| failed(error.to_string()))?.map_err(
        |error| {
            // Storage that is away (a failed disk, PostgreSQL restarting) is
            // a 503 page that says to try again, not an internal error.
            let unavailable = (&error as &dyn std::any::Any)
                .downcast_ref::<crate::store::Error>()
                .is_some_and(crate::store::Error::is_unavailable);
            if unavailable {
                UiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Storage is unavailable",
                    format!("cannot read {what}: {error}. Try again in a few seconds."),
                )
            } else {
                failed(error.to_string())
            }
        },
    )
}

pub async fn not_found_page() -> UiError {
    UiError::not_found("There is no such page in the console. Start again from the incident list.")
}
