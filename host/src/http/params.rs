//! Extractors whose rejections are [`ApiError`]s in the JSON shape, and the
//! shared rules for ids and page sizes.

use super::ApiError;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 500;

/// Query parameters of a route, with the list a refusal names.
pub trait QueryParams: DeserializeOwned {
    /// E.g. "status, source, before (an incident id), limit (1-500)".
    const ACCEPTED: &'static str;
}

/// `Query<T>`, refused as `400 invalid-query` naming what is accepted.
pub struct ApiQuery<T>(pub T);

impl<T: QueryParams, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(params)) => Ok(ApiQuery(params)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid-query",
                format!("{}; accepted parameters: {}", rejection.body_text(), T::ACCEPTED),
            )),
        }
    }
}

/// A typed `{id}` path segment: a positive number, or `400 invalid-id`
/// naming what the id should have been.
macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        pub struct $name(pub u64);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                let ApiPath(text) = ApiPath::<String>::from_request_parts(parts, state).await?;
                parse_id(&text, $what).map($name)
            }
        }
    };
}

path_id!(
    /// The `{id}` of an incident route.
    IncidentId,
    "an incident id"
);
path_id!(
    /// The `{id}` of a failed-delivery route.
    FailureId,
    "a failed delivery id"
);
path_id!(
    /// The `{id}` of a notification route.
    NotificationId,
    "a notification id"
);

fn parse_id(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::bad_request("invalid-id", format!("{text:?} is not {what} (a positive number)"))
    })
}

/// `Path<T>`, refused as `400 invalid-path` (e.g. a segment that is not UTF-8).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::bad_request("invalid-path", rejection.body_text())),
        }
    }
}

/// The `limit` of a list route: 1 to [`MAX_PAGE`], 50 when absent.
pub fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(
            "invalid-limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_numbers() {
        assert_eq!(parse_id("42", "an id").unwrap(), 42);
        for bad in ["0", "-1", "x", "", "1.5", "99999999999999999999999"] {
            assert_eq!(parse_id(bad, "an id").unwrap_err().code, "invalid-id", "{bad}");
        }
    }

    #[test]
    fn page_limits_are_between_one_and_the_maximum() {
        assert_eq!(page_limit(None).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_limit(Some(MAX_PAGE)).unwrap(), MAX_PAGE);
        assert_eq!(page_limit(Some(0)).unwrap_err().code, "invalid-limit");
        assert_eq!(page_limit(Some(MAX_PAGE + 1)).unwrap_err().code, "invalid-limit");
    }
}
