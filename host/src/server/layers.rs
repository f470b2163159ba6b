//! The layers every request passes, whichever face answers it (the API in
//! [`crate::http`], the console in [`crate::ui`]); [`super::router`] applies
//! them once, over both.
//!
//! - [`unread_body`]: `Connection: close` on an answer given before the body was read.
//! - [`client_address`]: who sent the request, for the log and the limits.
//! - [`request_log`]: a request id on every answer, one log line per refusal.
//! - [`deadline`]: the limit of `server.request_timeout_ms`.
//! - [`page_headers`]: the security headers of every HTML answer.

pub mod client_address;
pub mod deadline;
pub mod page_headers;
pub mod request_log;
pub mod unread_body;
