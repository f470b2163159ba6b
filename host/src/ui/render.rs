//! Templates and errors as HTML answers.

use super::UiError;
use super::view::Chrome;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};

/// Renders `template` as a `200` page.
pub fn page(template: impl Template) -> Result<Response, UiError> {
    let html = template
        .render()
        .map_err(|error| UiError::internal(format!("the page could not be rendered: {error}")))?;
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// An error is a page: signed out chrome, since the error may be that the
/// session is gone.
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
