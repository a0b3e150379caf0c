//! The accept loop: HTTP/1.1 over hyper with a deadline for request headers and a cap on open
//! connections, so slow or idle clients cannot hold the server's sockets or file descriptors.
//!
//! - **Header read timeout** (`header_read_timeout_seconds`, default 10): a connection whose
//!   request headers are not complete that long after the server started reading them —
//!   whether it sends them a byte at a time (slowloris), sends nothing, or sits idle between
//!   keep-alive requests — is closed.
//! - **Connection cap** (`max_connections`, default 512): at the cap the server stops
//!   accepting (new clients wait in the kernel's backlog) until a connection closes. The cap is
//!   lowered to the process's open-file limit minus [`RESERVED_FILES`] when that is smaller, so
//!   connections can never use up the descriptors the server needs to read the lake.
//!
//! Each request carries the client's address as [`axum::extract::ConnectInfo`] (sign-in
//! throttling keys on it).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// File descriptors kept free for the lake, logs and the sharing store.
pub const RESERVED_FILES: usize = 64;

/// How long open connections get to finish after Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The limits of [`run`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deadline for a request's headers.
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Limits {
    /// `max_connections` lowered to what the open-file limit allows (at least 1), with a
    /// warning when that changes it.
    pub fn fitted_to_file_limit(self) -> Limits {
        let Some(files) = open_file_limit() else {
            return self;
        };
        let room = files.saturating_sub(RESERVED_FILES).max(1);
        if room >= self.max_connections {
            return self;
        }
        tracing::warn!(
            "max_connections lowered from {} to {room}: the open-file limit is {files} \
             (raise it with `ulimit -n`)",
            self.max_connections
        );
        Limits {
            max_connections: room,
            ..self
        }
    }
}

/// The soft limit on open files (`ulimit -n`), where the platform has one.
#[cfg(unix)]
fn open_file_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as usize)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<usize> {
    None
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets open
/// connections finish for up to 10 s.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    let mut accept_failing = false;
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, retry.
                    if !std::mem::replace(&mut accept_failing, true) {
                        tracing::warn!("accepting connections failed: {e}; retrying");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        accept_failing = false;
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection closed: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open {SHUTDOWN_GRACE:?} after Ctrl-C: closing them");
    }
}

/// The peer address hyper-served requests carry (absent under `oneshot` in tests).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}
