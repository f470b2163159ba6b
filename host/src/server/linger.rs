//! A lingering close: after the answer, stop writing but keep reading (and
//! discarding) for a bounded time before the socket is closed.
//!
//! A request refused before its body is read (413 on `Content-Length`, 431,
//! 408) leaves the rest of the body on its way. Closing a socket with unread
//! data makes the kernel send a reset, which can reach the client before it
//! has read the answer: clients that send the whole body first, such as
//! Python's urllib, then report a broken pipe instead of the 413. Reading
//! until the client has finished sending and closes lets the answer through.
//! Bounded in time and bytes so a client cannot hold the socket open.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How long a closed connection keeps draining what the client still sends.
const LINGER_FOR: Duration = Duration::from_secs(5);
/// How much it drains at most: a few times the default body limit.
const LINGER_BYTES: usize = 16 << 20;

/// A connection's socket; when dropped, it lingers (see the module docs) in
/// a task of its own.
pub struct Lingering {
    stream: Option<TcpStream>,
}

impl Lingering {
    pub fn new(stream: TcpStream) -> Lingering {
        Lingering { stream: Some(stream) }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.stream.as_mut().expect("the stream is only taken on drop"))
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else { return };
        // Dropped inside the connection's task, so a runtime is at hand.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain_then_close(stream));
        }
    }
}

async fn drain_then_close(mut stream: TcpStream) {
    // FIN: the client's read of the answer ends cleanly.
    let _ = stream.shutdown().await;
    let mut discard = vec![0u8; 16 << 10];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match stream.read(&mut discard).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_FOR, drain).await;
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|stream| stream.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_shutdown(cx)
    }
}
