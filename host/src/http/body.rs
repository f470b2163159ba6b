//! Reading a webhook's body under the size limit and the read deadline.

use super::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use std::time::Duration;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BodyError {
    #[error(
        "the request body is larger than the {limit} bytes this host accepts (server.body_limit_bytes)"
    )]
    TooLarge { limit: usize },
    #[error("the request body did not arrive within {ms} ms (server.body_read_timeout_ms)")]
    Timeout { ms: u128 },
    #[error("cannot read the request body: {0}")]
    Unreadable(String),
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        let (status, code) = match error {
            BodyError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
            BodyError::Timeout { .. } => (StatusCode::REQUEST_TIMEOUT, "body-timeout"),
            BodyError::Unreadable(_) => (StatusCode::BAD_REQUEST, "body-unreadable"),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// The whole body, refused early when its declared length is over `limit`.
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<bytes::Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    // A sender trickling its body would hold a place among the webhooks
    // being handled (server.max_concurrent_webhooks) for as long as it likes.
    let read = tokio::time::timeout(deadline, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| BodyError::Timeout { ms: deadline.as_millis() })?;
    read.map_err(|error| {
        let over_limit =
            std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
                .any(|e| e.to_string().contains("length limit exceeded"));
        if over_limit {
            BodyError::TooLarge { limit }
        } else {
            BodyError::Unreadable(error.to_string())
        }
    })
}
