//! Roster's HTTP surfaces: the portal's pages (server-rendered, htmx where it helps), operations
//! endpoints and static assets. Handlers stay thin: extract, call one domain function, render.

pub mod api;
mod assets;
mod chart;
mod extract;
mod middleware;
mod ops;
mod page;
mod portal;
pub mod rate_limit;
mod routes;
mod scim;
mod state;

pub use extract::Network;
pub use routes::router;
pub use state::AppState;

/// How long the server waits for a client: for the headers of a request (also the idle time
/// between requests on a kept-alive connection), and for a whole request, body included. A
/// slow client is cut off instead of holding a connection forever.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub header_read: std::time::Duration,
    pub request: std::time::Duration,
    /// How long a graceful shutdown waits for requests in flight.
    pub drain: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            header_read: std::time::Duration::from_secs(10),
            request: std::time::Duration::from_secs(60),
            drain: std::time::Duration::from_secs(20),
        }
    }
}

/// Serves the portal on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let timeouts = state.timeouts;
    let streams = state.shutdown.clone();
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: wait a moment, then accept again.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: axum::extract::Request<_>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client that went away or timed out is not the server's error.
            let _ = conn.await;
        });
    }
    drop(listener);
    // Live streams never finish by themselves: they end now, so the wait is for requests.
    let _ = streams.send(true);
    if tokio::time::timeout(timeouts.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight at the end of the shutdown wait");
    }
    Ok(())
}
