//! Accepting HTTP connections so that strangers cannot take the server down: hyper's
//! header-read timeout closes a connection that never finishes a request head (slowloris) or
//! sits idle between requests; a request body must keep arriving at a minimum rate (slow
//! POST); a cap bounds open connections (websockets included) below the file descriptor
//! limit; and at the cap the oldest connection with no request in progress is closed to make
//! room, so a fresh request (a `/healthz` probe) is still answered during a flood of half-open
//! connections. axum::serve offers none of these knobs.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

mod paced;

use paced::Paced;

/// File descriptors kept for everything but client connections: the database pool, Redis,
/// outgoing requests to Twilio and the gateways, the emulator, logs.
const RESERVED_FDS: usize = 256;
/// The default cap when the descriptor limit allows more: what one node is sized for.
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// After a shutdown signal, requests in progress get this long to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// `configured` caps connections when set; otherwise the cap is what the file descriptor
    /// limit leaves after `RESERVED_FDS`.
    pub fn new(header_read_timeout: Duration, configured: Option<usize>) -> Self {
        let max_connections = configured.unwrap_or_else(|| {
            let fds = usize::try_from(open_files_limit()).unwrap_or(usize::MAX);
            fds.saturating_sub(RESERVED_FDS)
                .clamp(16, DEFAULT_MAX_CONNECTIONS)
        });
        Self {
            header_read_timeout,
            max_connections: max_connections.max(1),
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (a cheap, unprivileged call) and returns
/// the soft limit in force.
pub fn raise_open_files_limit() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(e) => {
                tracing::debug!(error = %e, "could not raise the open files limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(_) => 1024,
    }
}

fn open_files_limit() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft)
}

/// Serves `router` on `listener` until `shutdown`, then lets requests in progress finish
/// (at most `SHUTDOWN_GRACE`) and returns. Upgraded connections (websockets) are owned by
/// their handlers from then on; they still count against the cap until they close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let open = Registry::default();
    let tasks = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: the cap should prevent them; back off, never spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let Some(permit) = slot(&slots, &open).await else {
            metrics::counter!("http_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            stream: Slotted {
                stream,
                _permit: permit,
            },
            peer,
            router: router.clone(),
            limits,
            open: open.clone(),
            shutdown: shutdown.clone(),
        };
        tasks.spawn(connection.run());
    }
    drop(listener);
    tasks.close();
    tasks.wait().await;
}

/// A free slot, or one freed by closing the oldest idle connection; `None` when every
/// connection is busy with a request.
async fn slot(slots: &Arc<Semaphore>, open: &Registry) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = slots.clone().try_acquire_owned() {
        return Some(permit);
    }
    if !open.evict_oldest_idle() {
        return None;
    }
    metrics::counter!("http_connections_evicted_total").increment(1);
    // The evicted task releases its slot as soon as it runs.
    tokio::time::timeout(Duration::from_secs(1), slots.clone().acquire_owned())
        .await
        .ok()?
        .ok()
}

/// Connections that hyper still serves (not upgraded), oldest first.
#[derive(Clone, Default)]
struct Registry(Arc<Mutex<RegistryInner>>);

#[derive(Default)]
struct RegistryInner {
    next_id: u64,
    connections: BTreeMap<u64, Entry>,
}

struct Entry {
    /// Requests whose response has not been sent in full.
    busy: Arc<AtomicUsize>,
    evict: CancellationToken,
}

impl Registry {
    fn insert(&self, busy: Arc<AtomicUsize>, evict: CancellationToken) -> u64 {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let id = inner.next_id;
        inner.next_id += 1;
        inner.connections.insert(id, Entry { busy, evict });
        metrics::gauge!("http_connections_open").increment(1.0);
        id
    }

    fn remove(&self, id: u64) {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if inner.connections.remove(&id).is_some() {
            metrics::gauge!("http_connections_open").decrement(1.0);
        }
    }

    fn evict_oldest_idle(&self) -> bool {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let oldest_idle = inner
            .connections
            .values()
            .find(|entry| !entry.evict.is_cancelled() && entry.busy.load(Ordering::Acquire) == 0);
        match oldest_idle {
            Some(entry) => {
                entry.evict.cancel();
                true
            }
            None => false,
        }
    }
}

struct Connection {
    stream: Slotted,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    open: Registry,
    shutdown: CancellationToken,
}

impl Connection {
    async fn run(self) {
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = CancellationToken::new();
        let id = self.open.insert(busy.clone(), evict.clone());
        let service = {
            let busy = busy.clone();
            let router = self.router;
            let peer = self.peer;
            let header_read_timeout = self.limits.header_read_timeout;
            hyper::service::service_fn(move |request: Request<Incoming>| {
                let guard = Busy::start(&busy);
                let mut request =
                    request.map(|body| Body::new(Paced::new(body, header_read_timeout)));
                request.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await?;
                    // Busy until the body is sent in full (or dropped), not just until the
                    // handler returns: a streamed export must not look idle.
                    Ok::<_, Infallible>(response.map(|body| {
                        Body::new(body.map_frame(move |frame| {
                            let _sending = &guard;
                            frame
                        }))
                    }))
                }
            })
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read_timeout);
        let mut conn = pin!(http
            .serve_connection(TokioIo::new(self.stream), service)
            .with_upgrades());
        let mut stopping = false;
        let mut grace = pin!(tokio::time::sleep(SHUTDOWN_GRACE));
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, peer = %self.peer, "connection ended");
                    }
                    break;
                }
                () = evict.cancelled() => {
                    tracing::debug!(peer = %self.peer, "idle connection closed to make room");
                    break;
                }
                () = self.shutdown.cancelled(), if !stopping => {
                    stopping = true;
                    // Nothing in progress (idle, or a request head still arriving): close now.
                    if busy.load(Ordering::Acquire) == 0 {
                        break;
                    }
                    conn.as_mut().graceful_shutdown();
                    grace.as_mut().reset(tokio::time::Instant::now() + SHUTDOWN_GRACE);
                }
                () = &mut grace, if stopping => break,
            }
        }
        self.open.remove(id);
    }
}

/// Counts a request as in progress while it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn start(busy: &Arc<AtomicUsize>) -> Self {
        busy.fetch_add(1, Ordering::AcqRel);
        Self(busy.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A client socket holding its slot: an upgraded connection (a websocket) takes the slot
/// with it, so the cap counts it until it closes.
struct Slotted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Slotted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Slotted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
