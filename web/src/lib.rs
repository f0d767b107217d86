//! Roster's HTTP surfaces: the portal's pages (server-rendered, htmx where it helps), operations
//! endpoints and static assets. Handlers stay thin: extract, call one domain function, render.

pub mod api;
mod assets;
mod extract;
mod middleware;
mod ops;
mod page;
mod portal;
mod routes;
mod scim;
mod state;

pub use extract::Network;
pub use routes::router;
pub use state::AppState;

/// Serves the portal on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
