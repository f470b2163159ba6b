//! The client address of every request, resolved once (the peer, or the
//! forwarded address behind `server.trusted_proxies`; see
//! `app::TrustedProxies`) and kept in the request's extensions for the
//! request log and the per-client limits.

use crate::app::AppState;
use crate::request_extensions::ClientAddress;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;

const FORWARDED_FOR: &str = "x-forwarded-for";

pub async fn resolve(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied()
    {
        let forwarded =
            request.headers().get_all(FORWARDED_FOR).iter().filter_map(|value| value.to_str().ok());
        let client = app.live.load().trusted_proxies.client_of(peer.ip(), forwarded);
        request.extensions_mut().insert(ClientAddress { client, peer });
    }
    next.run(request).await
}
