use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use roster_core::domain::auth;
use serde::Deserialize;

use crate::extract::cookies;
use crate::extract::{ClientIp, CsrfForm};
use crate::page::{PageError, redirect};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOutForm {}

/// Ends the session on the server, removes the cookie and clears the browser's cache and
/// storage. The device cookie stays: it only spares this browser the sign-in throttle.
pub async fn sign_out(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm(actor, _): CsrfForm<SignOutForm>,
) -> Response {
    if let Err(e) = auth::sign_out(&state.ctx, &actor, &ip).await {
        return PageError::from_core(e, actor.lang, None).into_response();
    }
    let mut res = redirect("/signin?notice=signout-done");
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::expire(&state, state.cookies.session),
    );
    h.insert(
        "clear-site-data",
        HeaderValue::from_static("\"cache\", \"storage\""),
    );
    res
}
