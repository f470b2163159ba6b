//! Sending rendered messages: HTTP only to the channel's own origin, email
//! through the channel's SMTP server. Every failure says whether a retry can
//! help.

use super::render::{Email, HttpRequest};
use crate::config::notify::{SmtpConfig, SmtpTls};
use std::time::Duration;

/// The most of an answer's body the host reads (then it stops reading); a
/// receiver cannot make the host buffer more.
pub const RESPONSE_LIMIT_BYTES: usize = 64 << 10;
/// The most of an answer's body kept in the incident's log.
const LOGGED_BODY_CHARS: usize = 300;
/// Longest `Retry-After` honoured; a receiver cannot park a notification for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A failed send.
#[derive(Debug, Clone, PartialEq)]
pub struct SendError {
    pub detail: String,
    /// A later attempt may succeed (timeouts, 5xx, 408, 429, connection errors).
    pub retry: bool,
    /// What the receiver asked for with `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl SendError {
    fn final_(detail: impl Into<String>) -> Self {
        SendError { detail: detail.into(), retry: false, retry_after: None }
    }

    fn transient(detail: impl Into<String>) -> Self {
        SendError { detail: detail.into(), retry: true, retry_after: None }
    }
}

/// The client every HTTP channel shares: no redirects (a 3xx could lead
/// anywhere), no proxies from the environment, rustls.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("inbound/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client without custom TLS settings always builds")
}

/// Where `requested` points, if it is under `channel`'s origin: empty is
/// the channel URL, `/path` is on its origin, an absolute URL must have its
/// exact scheme, host and port.
pub fn resolve_url(channel: &url::Url, requested: &str) -> Result<url::Url, String> {
    if requested.is_empty() {
        return Ok(channel.clone());
    }
    if requested.starts_with('/') && !requested.starts_with("//") {
        return channel.join(requested).map_err(|error| format!("bad path {requested:?}: {error}"));
    }
    let url = url::Url::parse(requested)
        .map_err(|error| format!("{requested:?} is neither a path nor a URL: {error}"))?;
    if url.origin() != channel.origin() {
        return Err(format!(
            "{requested:?} is not under the channel's origin {}; a notifier may only address its channel",
            channel.origin().ascii_serialization()
        ));
    }
    Ok(url)
}

/// Headers the host owns; a notifier setting them fails the notification.
const HOST_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];

/// Sends one HTTP message; `Ok` is the answer's status line for the log.
pub async fn send_http(
    client: &reqwest::Client,
    channel_url: &url::Url,
    request: &HttpRequest,
    idempotency_key: &str,
    timeout: Duration,
) -> Result<String, SendError> {
    let answer = exchange(client, channel_url, request, idempotency_key, None, timeout).await?;
    Ok(answer.summary)
}

/// A 2xx answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The status line and the start of the body, for the log.
    pub summary: String,
    /// The body, up to [`RESPONSE_LIMIT_BYTES`].
    pub body: Vec<u8>,
}

/// Sends one HTTP request under `base`'s origin and reads the answer;
/// `authorization` is a credential only the host holds (a sender's API
/// token), which the request itself may not name.
pub async fn exchange(
    client: &reqwest::Client,
    base: &url::Url,
    request: &HttpRequest,
    idempotency_key: &str,
    authorization: Option<&reqwest::header::HeaderValue>,
    timeout: Duration,
) -> Result<Answer, SendError> {
    let url = resolve_url(base, &request.url).map_err(SendError::final_)?;
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| SendError::final_(format!("{:?} is not an HTTP method", request.method)))?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if HOST_HEADERS.contains(&lower.as_str())
            || (authorization.is_some() && lower == "authorization")
        {
            return Err(SendError::final_(format!(
                "the plugin set the header {name:?}, which is the host's"
            )));
        }
        let name = reqwest::header::HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| SendError::final_(format!("{name:?} is not a header name")))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| SendError::final_(format!("the value of header {name} is not valid")))?;
        headers.append(name, value);
    }
    if !headers.contains_key("idempotency-key") {
        headers.insert("idempotency-key", idempotency_key.parse().expect("ascii key"));
    }
    if let Some(credential) = authorization {
        let mut credential = credential.clone();
        credential.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, credential);
    }
    let exchange = async {
        let mut response = client
            .request(method, url.clone())
            .headers(headers)
            .body(request.body.clone())
            .send()
            .await
            .map_err(|error| SendError::transient(describe_reqwest(&error)))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        while body.len() < RESPONSE_LIMIT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status is what counts; a broken body after it is noted.
                Err(_) => break,
            }
        }
        Ok::<_, SendError>((status, retry_after, body))
    };
    let (status, retry_after, body) =
        tokio::time::timeout(timeout, exchange).await.map_err(|_| {
            SendError::transient(format!("no answer within {} ms", timeout.as_millis()))
        })??;
    let text: String = String::from_utf8_lossy(&body).chars().take(LOGGED_BODY_CHARS).collect();
    let summary = format!(
        "HTTP {}{}",
        status.as_u16(),
        if text.trim().is_empty() { String::new() } else { format!(": {}", text.trim()) }
    );
    if status.is_success() {
        return Ok(Answer { summary, body });
    }
    if status.is_redirection() {
        return Err(SendError::final_(format!(
            "{summary} (redirects are not followed: the channel's url must be the final address)"
        )));
    }
    let retry = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
    Err(SendError { detail: summary, retry, retry_after: if retry { retry_after } else { None } })
}

/// `Retry-After` in seconds (the HTTP-date form is rare from webhooks and
/// treated as absent), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get("retry-after")?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

fn describe_reqwest(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}

/// Sends one email through `smtp`, with `Message-ID` derived from the
/// idempotency key so a resend after a crash is recognisable.
pub async fn send_email(
    smtp: &SmtpConfig,
    email: &Email,
    idempotency_key: &str,
    timeout: Duration,
) -> Result<String, SendError> {
    use lettre::message::{Mailbox, MultiPart, header::ContentType};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let from: Mailbox = smtp.from.parse().map_err(|error| {
        SendError::final_(format!("the channel's from address is invalid: {error}"))
    })?;
    if email.to.is_empty() {
        return Err(SendError::final_("the email has no recipient"));
    }
    let domain = from.email.domain().to_string();
    let mut builder = Message::builder()
        .from(from)
        .subject(email.subject.replace(['\r', '\n'], " "))
        .message_id(Some(format!("<{idempotency_key}@{domain}>")));
    for to in &email.to {
        let to: Mailbox = to.parse().map_err(|error| {
            SendError::final_(format!("{to:?} is not an email address: {error}"))
        })?;
        builder = builder.to(to);
    }
    let message = match &email.html {
        None => builder.header(ContentType::TEXT_PLAIN).body(email.text.clone()),
        Some(html) => {
            builder.multipart(MultiPart::alternative_plain_html(email.text.clone(), html.clone()))
        }
    }
    .map_err(|error| SendError::final_(format!("cannot build the email: {error}")))?;

    let transport = match smtp.tls {
        SmtpTls::None => {
            Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str()))
        }
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
    }
    .map_err(|error| SendError::final_(format!("cannot set up SMTP to {}: {error}", smtp.host)))?;
    let mut transport = transport.port(smtp.port()).timeout(Some(timeout));
    if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
        transport = transport.credentials(Credentials::new(username.clone(), password.clone()));
    }
    let transport = transport.build();
    match tokio::time::timeout(timeout, transport.send(message)).await {
        Err(_) => Err(SendError::transient(format!(
            "no answer from {} within {} ms",
            smtp.host,
            timeout.as_millis()
        ))),
        Ok(Ok(response)) => Ok(format!(
            "SMTP {}: {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        Ok(Err(error)) => {
            let detail = format!("SMTP {}:{}: {error}", smtp.host, smtp.port());
            if error.is_permanent() {
                Err(SendError::final_(detail))
            } else {
                Err(SendError::transient(detail))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> url::Url {
        url::Url::parse("https://hooks.example.com:8443/services/T1/B2").unwrap()
    }

    #[test]
    fn an_empty_url_is_the_channel_itself() {
        assert_eq!(resolve_url(&channel(), "").unwrap(), channel());
    }

    #[test]
    fn a_path_stays_on_the_channel_origin() {
        assert_eq!(
            resolve_url(&channel(), "/api/v2?x=1").unwrap().as_str(),
            "https://hooks.example.com:8443/api/v2?x=1"
        );
    }

    #[test]
    fn another_origin_is_refused() {
        for elsewhere in [
            "https://evil.example.com/services",
            "http://hooks.example.com:8443/",
            "https://hooks.example.com/",
            "//evil.example.com/x",
            "https://hooks.example.com:8443@evil.example.com/",
            "file:///etc/passwd",
        ] {
            assert!(resolve_url(&channel(), elsewhere).is_err(), "{elsewhere} was allowed");
        }
        assert!(resolve_url(&channel(), "https://hooks.example.com:8443/other").is_ok());
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert("retry-after", "999999".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
