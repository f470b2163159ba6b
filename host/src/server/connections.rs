//! The accept loop: hyper's HTTP/1 server with limits `axum::serve` does not
//! expose (request head size and read timeout), and graceful shutdown.
//!
//! Modelled on axum 0.8's `serve`; HTTP/1 only, as before (webhook senders
//! and the CLI speak HTTP/1.1).

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
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
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
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
        let service = TowerToHyperService::new(
            router.clone().map_request(|request: hyper::Request<Incoming>| request.map(Body::new)),
        );
        // Closed with a lingering close: an early answer (413) reaches
        // clients that are still sending.
        let stream = super::linger::Lingering::new(stream);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection ended with an error: {error}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
