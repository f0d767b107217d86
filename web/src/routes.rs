//! Every route of the portal in one readable list.

use axum::Router;
use axum::routing::{get, post};

use crate::portal::{account, auth, devices, home, language, management, users};
use crate::state::AppState;
use crate::{assets, middleware, ops};

pub fn router(state: AppState) -> Router {
    let portal = Router::new()
        .route("/", get(home::show_home))
        .route(
            "/signin",
            get(auth::sign_in::show_sign_in).post(auth::sign_in::sign_in),
        )
        .route("/signout", post(auth::sign_out::sign_out))
        .route(
            "/setup",
            get(auth::setup::show_setup).post(auth::setup::complete_setup),
        )
        .route("/language", post(language::change_language))
        .route("/devices", get(devices::show_devices))
        .route("/users", get(users::show_users))
        .route("/account", get(account::show_account))
        .route("/management", get(management::show_management))
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::resolve_session,
        ));

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/static/{name}", get(assets::serve_asset))
        .merge(portal)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::trace_request))
        .with_state(state)
}
