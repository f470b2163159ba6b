//! The accept loop: hyper's HTTP/1 server with limits `axum::serve` does not
//! expose (request head size and read timeout), and graceful shutdown.
//!
//! Modelled on axum 0.8's `serve`; HTTP/1 only, as before (webhook senders
//! and the CLI speak HTTP/1.1), over TLS when `[server.tls]` is set.

use super::layers::request_log::log_connection_refusal;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Connection-level limits, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// hyper's read buffer: a request head that does not fit gets 431.
    pub header_limit_bytes: usize,
    /// The whole request head must arrive within this, or the connection is
    /// closed. Also bounds how long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
}

/// Serves `router` until `shutdown` completes, then stops accepting and
/// waits for every open connection to finish its request in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.header_limit_bytes);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: accepting again
                    // at once would spin; a short pause lets connections close.
                    tracing::warn!("cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Whether a request reached the router: a connection that times out
        // after serving some was merely idle, not refused.
        let served = Arc::new(AtomicBool::new(false));
        let saw_a_request = served.clone();
        let service = TowerToHyperService::new(router.clone().map_request(
            move |request: hyper::Request<Incoming>| {
                saw_a_request.store(true, Ordering::Relaxed);
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(client));
                request
            },
        ));
        // Closed with a lingering close: an early answer (413) reaches
        // clients that are still sending.
        let stream = super::linger::Lingering::new(stream);
        let Some(tls) = &tls else {
            let connection =
                graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    log_connection_error(&error, client, served.load(Ordering::Relaxed));
                }
            });
            continue;
        };
        // The handshake runs in the connection's task, bounded like a
        // request head, so a client that never finishes it holds nothing.
        let (tls, builder, watcher) = (tls.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(limits.header_read_timeout, tls.accept(stream));
            let stream = match handshake.await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => return log_handshake_failure(client, &error.to_string()),
                Err(_) => return log_handshake_failure(client, "it did not finish in time"),
            };
            let connection = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
            if let Err(error) = connection.await {
                log_connection_error(&error, client, served.load(Ordering::Relaxed));
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A TLS handshake that failed (plain HTTP sent to the HTTPS port, a client
/// that does not trust the certificate) never became a request: logged at
/// debug, as a scanner's probes would otherwise fill the log.
fn log_handshake_failure(client: SocketAddr, reason: &str) {
    tracing::debug!(%client, "TLS handshake failed: {reason}");
}

/// Refusals hyper made itself are logged like every other refusal; other
/// connection errors (a client going away) are not refusals.
fn log_connection_error(error: &hyper::Error, client: SocketAddr, served: bool) {
    let refusal = if error.is_parse_too_large() {
        Some((StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "header-too-large"))
    } else if error.is_parse() {
        Some((StatusCode::BAD_REQUEST, "malformed-request"))
    } else if error.is_timeout() && !served {
        // Closed without an answer: the head did not arrive in time.
        Some((StatusCode::REQUEST_TIMEOUT, "header-timeout"))
    } else {
        None
    };
    match refusal {
        Some((status, code)) => log_connection_refusal(status, code, client, error),
        None => tracing::debug!("connection ended with an error: {error}"),
    }
}
