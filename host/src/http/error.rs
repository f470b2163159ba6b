//! One error type for every handler: `{"error": {"code", "message"}}` with
//! the right status. Each typed error of the layers below converts into it
//! here, once, so handlers just use `?`.

use super::answers::{ErrorAnswer, ErrorDetail};
use crate::app::{
    ClientRateLimited, OVERLOADED_RETRY_AFTER, Overloaded, RateLimited, StorageFull, UnknownSource,
    signature,
};
use crate::ingest::DeliveryError;
use crate::respond::RespondError;
use crate::store;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Seconds the client should wait before retrying (sets `Retry-After`).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { status, code: code.into(), message: message.into(), retry_after: None }
    }

    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The JSON body of the answer.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.answer()).expect("an error always serializes")
    }

    pub fn answer(&self) -> ErrorAnswer {
        ErrorAnswer {
            error: ErrorDetail { code: self.code.clone(), message: self.message.clone() },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.answer();
        let mut response = (self.status, Json(body)).into_response();
        // For the one log line every refusal gets (`request_log`).
        response.extensions_mut().insert(crate::request_extensions::Refusal {
            code: self.code.clone(),
            message: self.message.clone(),
        });
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DeliveryError> for ApiError {
    fn from(error: DeliveryError) -> Self {
        match error {
            DeliveryError::Rejected { code, message } => ApiError::bad_request(code, message),
            DeliveryError::PluginFailed { error, failure, retry_after } => {
                let answer = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    error.code().to_string(),
                    format!(
                        "{error}; the event is kept as failed delivery {failure} and can be replayed"
                    ),
                );
                if retry_after > 0 { answer.retry_after(retry_after) } else { answer }
            }
            DeliveryError::Storage(message) => {
                ApiError::internal(format!("the event was not stored: {message}"))
            }
            DeliveryError::Unavailable(why) => storage_unavailable(format!(
                "the event was not stored: storage is unavailable ({why}); retry"
            )),
            DeliveryError::Contended => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "contended",
                "too many simultaneous changes to the same incident; nothing was stored, retry",
            )
            .retry_after(1),
            DeliveryError::OverBudget(over) => {
                let seconds = over.seconds;
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "storage-budget", over.to_string())
                    .retry_after(seconds)
            }
            DeliveryError::Replay(message) => {
                ApiError::new(StatusCode::CONFLICT, "replay-refused", message)
            }
        }
    }
}

impl From<RespondError> for ApiError {
    fn from(error: RespondError) -> Self {
        let message = error.to_string();
        match error {
            RespondError::NotFound(_) => ApiError::not_found("unknown-incident", message),
            RespondError::Resolved(_) => {
                ApiError::new(StatusCode::CONFLICT, "incident-resolved", message)
            }
            RespondError::NoteTooLong => ApiError::bad_request("note-too-long", message),
            RespondError::EmptyNote => ApiError::bad_request("note-empty", message),
            RespondError::Storage(_) => ApiError::internal(message),
            RespondError::Unavailable(_) => storage_unavailable(message),
            RespondError::Contended(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "contended", message).retry_after(1)
            }
        }
    }
}

impl From<signature::Refused> for ApiError {
    fn from(refused: signature::Refused) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, refused.code, refused.message)
    }
}

impl From<Overloaded> for ApiError {
    fn from(overloaded: Overloaded) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", overloaded.to_string())
            .retry_after(OVERLOADED_RETRY_AFTER)
    }
}

impl From<RateLimited> for ApiError {
    fn from(limited: RateLimited) -> Self {
        let seconds = limited.seconds;
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", limited.to_string())
            .retry_after(seconds)
    }
}

impl From<ClientRateLimited> for ApiError {
    fn from(limited: ClientRateLimited) -> Self {
        let seconds = limited.seconds;
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", limited.to_string())
            .retry_after(seconds)
    }
}

impl From<crate::app::TooManyFailedAttempts> for ApiError {
    fn from(refused: crate::app::TooManyFailedAttempts) -> Self {
        let seconds = refused.seconds;
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-failed-attempts",
            refused.to_string(),
        )
        .retry_after(seconds)
    }
}

impl From<StorageFull> for ApiError {
    fn from(full: StorageFull) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage-full", full.to_string())
            .retry_after(STORAGE_RETRY_AFTER)
    }
}

impl From<UnknownSource> for ApiError {
    fn from(unknown: UnknownSource) -> Self {
        let code = match unknown {
            UnknownSource::Integration(_) => "unknown-integration",
            UnknownSource::Key(_) => "unknown-key",
        };
        ApiError::not_found(code, unknown.to_string())
    }
}

impl From<store::Error> for ApiError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Unavailable(_) => storage_unavailable(error.to_string()),
            store::Error::Unsupported(message) => {
                ApiError::new(StatusCode::NOT_IMPLEMENTED, "not-supported", message)
            }
            other => ApiError::internal(format!("storage failure: {other}")),
        }
    }
}

/// What a sender waits before retrying while storage is unavailable: under
/// the 60 s past which Zendesk gives up on `Retry-After`.
pub const STORAGE_RETRY_AFTER: u32 = 10;

/// `503 storage-unavailable`: the disk failed or is full, nothing was
/// stored, and the host reopens the database by itself.
fn storage_unavailable(message: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage-unavailable", message)
        .retry_after(STORAGE_RETRY_AFTER)
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no-route", "no such route; see docs/api.md for the routes inbound serves")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this route does not accept that method; the Allow header lists the ones it does (webhooks are POST)",
    )
}

/// Runs a blocking storage read off the async runtime. A failure is a 500
/// whose message says what could not be read.
pub async fn read_blocking<T, E>(
    what: String,
    read: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|error| ApiError::internal(format!("cannot read {what}: {error}")))?
        .map_err(Into::into)
}
