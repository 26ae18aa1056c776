//! The listener: accepts TCP (optionally TLS) connections, serves HTTP/1.1
//! and HTTP/2, routes each request, and shuts down gracefully: stop
//! accepting, let requests in flight finish (up to a grace period), flush
//! execution records.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::problem::{Problem, Resp};
use crate::Gateway;

/// A running server.
pub struct ServerHandle {
    pub local_addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting, drains requests in flight, flushes records.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.done.await;
    }

    /// Waits until the server stops (after [`ServerHandle::shutdown`] from
    /// elsewhere, or a fatal error).
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

/// Binds `gw.config.listen` and serves until shut down: on the shared
/// runtime, or on `http_threads` threads of their own.
pub async fn serve(gw: Arc<Gateway>) -> std::io::Result<ServerHandle> {
    let acceptor = match &gw.config.tls {
        Some(src) => Some(src.acceptor().map_err(std::io::Error::other)?),
        None => None,
    };
    let (shutdown, stop) = tokio::sync::watch::channel(false);
    if gw.config.http_threads == 0 {
        let listener = TcpListener::bind(gw.config.listen).await?;
        let local_addr = listener.local_addr()?;
        let done = tokio::spawn(async move {
            accept_loop(gw.clone(), listener, acceptor, stop).await;
            gw.controller.shutdown(gw.config.shutdown_grace).await;
        });
        return Ok(ServerHandle { local_addr, shutdown, done });
    }
    // One listener per thread on the same address: the kernel spreads
    // connections over them, and each thread serves its own to the end.
    let first = reuseport_listener(gw.config.listen)?;
    let local_addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..gw.config.http_threads {
        listeners.push(reuseport_listener(local_addr)?);
    }
    let mut finished = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let (gw, acceptor, stop) = (gw.clone(), acceptor.clone(), stop.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        finished.push(rx);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name(format!("quasm-http-{i}")).spawn(move || {
            rt.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => accept_loop(gw, listener, acceptor, stop).await,
                    Err(e) => tracing::error!("HTTP thread {i} cannot listen: {e}"),
                }
            });
            // Connections still open after the grace period close here.
            drop(rt);
            let _ = tx.send(());
        })?;
    }
    let done = tokio::spawn(async move {
        for rx in finished {
            let _ = rx.await;
        }
        gw.controller.shutdown(gw.config.shutdown_grace).await;
    });
    Ok(ServerHandle { local_addr, shutdown, done })
}

/// A non-blocking listener on `addr` that other sockets may bind too,
/// detached from this runtime so another can take it.
fn reuseport_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(1024)?.into_std()
}

/// Accepts and serves connections until `stop`, then lets requests in
/// flight finish (up to the grace period).
async fn accept_loop(
    gw: Arc<Gateway>,
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let scheme: &'static str = if acceptor.is_some() { "https" } else { "http" };
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let gw = gw.clone();
        let service = service_fn(move |req| {
            let gw = gw.clone();
            async move {
                // A bug in a handler answers 500 instead of dropping the connection.
                let handled = std::panic::AssertUnwindSafe(route(&gw, req, peer, scheme)).catch_unwind().await;
                Ok::<_, Infallible>(handled.unwrap_or_else(|_| {
                    Problem::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error; the server log has the details",
                    )
                    .into_response()
                }))
            }
        });
        match &acceptor {
            None => {
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::debug!("TLS handshake with {peer} failed: {e}");
                            return;
                        }
                    };
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service).into_owned();
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    drop(listener);
    let grace = gw.config.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("shutdown: requests still running after {grace:?}; closing them");
    }
}

fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(crate::problem::full(body))
        .expect("valid response")
}

async fn route(gw: &Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr, scheme: &str) -> Resp {
    let path = req.uri().path();
    if path.starts_with("/fn/") {
        return crate::public::handle(gw, req, peer, scheme).await;
    }
    if path == "/api/v1" || path.starts_with("/api/v1/") {
        return crate::api::handle(gw, req, peer).await;
    }
    match (req.method(), path) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n"),
        (&Method::GET, "/readyz") => match gw.controller.ping().await {
            Ok(()) => text(StatusCode::OK, "text/plain", "ready\n"),
            Err(e) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", format!("database: {e}")).into_response()
            }
        },
        // The public keys of binding tokens, for host services to verify them.
        (&Method::GET, "/.well-known/jwks.json") => {
            let jwks = gw.controller.runtime().bindings().jwks();
            text(StatusCode::OK, "application/json", jwks.to_string())
        }
        (&Method::GET, "/metrics") => {
            let body = gw.controller.metrics().render(gw.controller.runtime().pool().stats());
            text(StatusCode::OK, "application/openmetrics-text; version=1.0.0; charset=utf-8", body)
        }
        _ => crate::console::serve(req.method(), path, req.headers()),
    }
}
