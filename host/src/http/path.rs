//! Path parameters whose rejection is an [`ApiError`]: axum's own `Path`
//! answers a malformed parameter (e.g. a key that is not UTF-8 once
//! percent-decoded, `%ff%fe`) in plain text, outside the JSON error shape.

use super::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Like `axum::extract::Path`, answering `400 invalid-path` in JSON.
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid-path",
                format!(
                    "{}; every part of the path must be valid UTF-8 once percent-decoded (docs/api.md lists the routes)",
                    rejection.body_text()
                ),
            )),
        }
    }
}
