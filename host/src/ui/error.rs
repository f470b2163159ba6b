//! Errors as pages: the status code a tool would expect, and a sentence a
//! person can act on.

use super::view::Chrome;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

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
}

/// API errors keep their status and message; the title names the status.
impl From<crate::http::ApiError> for UiError {
    fn from(error: crate::http::ApiError) -> Self {
        let title = error.status.canonical_reason().unwrap_or("Error");
        UiError::new(error.status, title, error.message)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            chrome: Chrome::signed_out(),
            status: self.status.as_u16(),
            title: &self.title,
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// Renders `template` as a `200` page.
pub fn page(template: impl Template) -> Result<Response, UiError> {
    let html = template
        .render()
        .map_err(|error| UiError::internal(format!("the page could not be rendered: {error}")))?;
    Ok(Html(html).into_response())
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
