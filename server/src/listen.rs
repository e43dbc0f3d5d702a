//! How `hoist serve` accepts connections, under abuse: at most `max` at once (more are closed
//! at once instead of piling up), `TCP_NODELAY` on each, and (set on the HTTP builder by the
//! caller) a time limit for a request's headers, so half-sent requests cannot hold connections.

use axum_server::accept::Accept;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a client has to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// An acceptor that caps open connections and sets `TCP_NODELAY`, in front of `inner` (plain,
/// or TLS).
#[derive(Clone)]
pub struct Capped<A> {
    inner: A,
    slots: Arc<Semaphore>,
}

impl<A> Capped<A> {
    pub fn new(inner: A, max: usize) -> Self {
        Capped {
            inner,
            slots: Arc::new(Semaphore::new(max.max(1))),
        }
    }
}

/// A connection holding its slot until it closes.
pub struct Held<S> {
    stream: S,
    _slot: OwnedSemaphorePermit,
}

type Accepted<St, Sv> = Pin<Box<dyn Future<Output = io::Result<(Held<St>, Sv)>> + Send>>;

impl<S, A> Accept<TcpStream, S> for Capped<A>
where
    A: Accept<TcpStream, S> + Clone + Send + 'static,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
    S: Send + 'static,
{
    type Stream = Held<A::Stream>;
    type Service = A::Service;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let slot = self.slots.clone().try_acquire_owned();
        let _ = stream.set_nodelay(true);
        let inner = self.inner.clone();
        Box::pin(async move {
            // Full: the connection is dropped (closed) before anything is read from it.
            let slot = slot.map_err(|_| io::Error::other("too many connections"))?;
            let (stream, service) = inner.accept(stream, service).await?;
            Ok((
                Held {
                    stream,
                    _slot: slot,
                },
                service,
            ))
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
