//! The user page's "Email Alias" and "Add number" forms.

use axum::extract::{Path, State};
use axum::response::Response;
use roster_core::domain::address::{self, NewNumber};
use serde::Deserialize;
use uuid::Uuid;

use super::sections::{EmptyForm, done, parse_id};
use crate::extract::{CsrfForm, UserPath};
use crate::page::{Fields, PageError, bad_form};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasForm {
    #[serde(default)]
    address: String,
}

pub async fn add_alias(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<AliasForm>,
) -> Response {
    let result = address::add_alias(&state.ctx, &actor, id, &f.address)
        .await
        .map(|_| ());
    let values = Fields(vec![("address".into(), f.address)]);
    done(&state, &actor, id, "aliases", Some(values), result).await
}

/// The user and the alias or number a remove button names.
fn two_ids(
    id: &str,
    item: &str,
    actor: &roster_core::domain::Actor,
) -> Result<(roster_core::model::UserId, Uuid), Response> {
    let id = parse_id(id, actor)?;
    let item = Uuid::parse_str(item).map_err(|_| {
        use axum::response::IntoResponse;
        PageError::from_core(roster_core::Error::NotFound, actor.lang, None).into_response()
    })?;
    Ok((id, item))
}

pub async fn remove_alias(
    State(state): State<AppState>,
    Path((id, alias)): Path<(String, String)>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let (id, alias) = match two_ids(&id, &alias, &actor) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    let result = address::remove_alias(&state.ctx, &actor, id, alias).await;
    done(&state, &actor, id, "aliases", None, result).await
}

pub async fn add_number(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    if !f.check(&["number_country", "number", "label"], &["services"]) {
        return bad_form(actor.lang);
    }
    let input = NewNumber {
        number: f.get("number"),
        country: f.get("number_country"),
        label: f.get("label"),
        services: f.all("services"),
    };
    let result = address::add_number(&state.ctx, &actor, id, &input)
        .await
        .map(|_| ());
    done(&state, &actor, id, "numbers", Some(f), result).await
}

pub async fn remove_number(
    State(state): State<AppState>,
    Path((id, number)): Path<(String, String)>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let (id, number) = match two_ids(&id, &number, &actor) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    let result = address::remove_number(&state.ctx, &actor, id, number).await;
    done(&state, &actor, id, "numbers", None, result).await
}
