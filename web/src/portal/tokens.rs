//! API tokens in the pages: one's own in the toolbox, a system user's on its user page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::api_token::{self, NewToken, TokenScope};
use roster_core::model::{TokenId, UserId};
use serde::Deserialize;

use crate::extract::{CsrfForm, UserPath};
use crate::page::{PageError, redirect, render, safe_next};
use crate::portal::toolbox::page_with_token;
use crate::portal::users::page::{Rejected, build_with_token};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TokenForm {
    name: String,
    expires_days: String,
    read_only: Option<String>,
    lookup: Option<String>,
    usage: Option<String>,
}

impl TokenForm {
    fn input(&self, user: UserId) -> Result<NewToken, Error> {
        let expires_days = match self.expires_days.trim() {
            "" => None,
            d => Some(
                d.parse()
                    .map_err(|_| Error::field("expires_days", "token-expiry-invalid"))?,
            ),
        };
        Ok(NewToken {
            user,
            name: self.name.clone(),
            node: None,
            read_only: self.read_only.is_some(),
            scope: match (self.lookup.is_some(), self.usage.is_some()) {
                (false, false) => TokenScope::Admin,
                (true, false) => TokenScope::Lookup,
                (false, true) => TokenScope::Usage,
                (true, true) => return Err(Error::field("scope", "token-scope-invalid")),
            },
            expires_days,
        })
    }
}

pub async fn create_own(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<TokenForm>,
) -> Response {
    let result = match f.input(actor.user_id) {
        Ok(input) => api_token::create_token(&state.ctx, &actor, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            page_with_token(&state, &actor, actor.user_id, "", None, Some(created.token)).await
        }
        Err(Error::Invalid(errors)) => {
            page_with_token(
                &state,
                &actor,
                actor.user_id,
                "",
                Some(("tokens", errors)),
                None,
            )
            .await
        }
        Err(Error::Unauthenticated("reauth-required")) => {
            crate::portal::auth::reauth::ask("/toolbox#tokens")
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

pub async fn create_for_user(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<TokenForm>,
) -> Response {
    let result = match f.input(id) {
        Ok(input) => api_token::create_token(&state.ctx, &actor, &input).await,
        Err(e) => Err(e),
    };
    let (new_token, rejected, status) = match result {
        Ok(created) => (Some(created.token), None, StatusCode::OK),
        Err(e @ Error::Invalid(_)) => match Rejected::from_error("tokens", None, e) {
            Ok((status, r)) => (None, Some(r), status),
            Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
        },
        Err(Error::Unauthenticated("reauth-required")) => {
            return crate::portal::auth::reauth::ask(&format!("/users/{id}#tokens"));
        }
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    match build_with_token(&state, &actor, id, "", rejected, new_token).await {
        Ok(page) => render(status, &page),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RevokeForm {
    back: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<RevokeForm>,
) -> Response {
    let Ok(id) = uuid::Uuid::try_parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    match api_token::revoke_token(&state.ctx, &actor, TokenId(id)).await {
        Ok(()) => redirect(&format!(
            "{}?saved=token-revoked#tokens",
            safe_next(&f.back)
        )),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
