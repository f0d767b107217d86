//! Units (organizational groups) and the administrators of any node ("Access /
//! Administrators"): create, rename, move, delete, and who administers it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::mfa::{self, Policy, Unenrolled};
use roster_core::domain::node::{self, NodeView};
use roster_core::domain::user::{self, AccessHolder};
use roster_core::model::{NodeId, NodeKind, UserId};
use roster_core::{Error, i18n};
use serde::Deserialize;

use crate::extract::{CsrfForm, CurrentActor};
use crate::page::{FormErrors, Frame, PageError, redirect, render};
use crate::portal::resources::NodeResources;
use crate::portal::users::list::{TreeLine, tree_lines};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "units/page.html")]
struct UnitPage {
    frame: Frame,
    unit: NodeView,
    lines: Vec<TreeLine>,
    admins: Vec<AccessHolder>,
    errors: FormErrors,
    problem: String,
    notice: String,
    name_value: String,
    policy: Policy,
    policy_node: NodeId,
    policy_back: String,
    unenrolled: Option<Vec<Unenrolled>>,
    settings_cards: Vec<crate::portal::settings::SettingsCard>,
    /// The address books and public addresses the unit shares.
    resources: Option<NodeResources>,
}

impl UnitPage {
    fn is_parent(&self, id: &NodeId) -> bool {
        self.unit.parent_id.as_ref() == Some(id)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

fn node_id(id: &str, actor: &Actor) -> Result<NodeId, Response> {
    NodeId::parse(id)
        .ok_or_else(|| PageError::from_core(Error::NotFound, actor.lang, None).into_response())
}

async fn unit_page(
    state: &AppState,
    actor: &Actor,
    id: NodeId,
    notice: &str,
    problem: Option<Error>,
    name_value: Option<String>,
) -> Response {
    let result = async {
        let unit = node::get_node(&state.ctx, actor, id).await?;
        if unit.kind != NodeKind::Unit {
            return Err(Error::NotFound);
        }
        let admins = user::list_node_admins(&state.ctx, actor, id).await?;
        let tree = node::tree(&state.ctx, actor, None).await?;
        let policy = mfa::node_policy(&state.ctx, actor, id).await?;
        let cards = crate::portal::settings::cards(
            state,
            actor,
            roster_core::domain::service::Level::Node(id),
            "unit",
            &format!("/units/{}", id.0),
        )
        .await?;
        let back = format!("/units/{}", id.0);
        let resources = NodeResources::load(state, actor, id, "unit", &back).await?;
        Ok((unit, admins, tree, policy, cards, resources))
    }
    .await;
    let (unit, admins, tree, policy, settings_cards, resources) = match result {
        Ok(r) => r,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let (status, errors, problem) = match problem {
        None => (StatusCode::OK, vec![], String::new()),
        Some(Error::Invalid(list)) => (StatusCode::UNPROCESSABLE_ENTITY, list, String::new()),
        Some(Error::Conflict(code)) => (StatusCode::CONFLICT, vec![], i18n::t(actor.lang, code)),
        Some(Error::Forbidden) => (
            StatusCode::FORBIDDEN,
            vec![],
            i18n::t(actor.lang, "error-forbidden"),
        ),
        Some(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let notice = if [
        "renamed", "moved", "admins", "mfa", "settings", "books", "publics",
    ]
    .contains(&notice)
    {
        i18n::t(actor.lang, &format!("unit-saved-{notice}"))
    } else {
        String::new()
    };
    let page = UnitPage {
        frame: Frame::signed_in(actor, "users"),
        name_value: name_value.unwrap_or_else(|| unit.name.clone()),
        policy,
        policy_node: unit.id,
        policy_back: format!("/units/{}", unit.id),
        unenrolled: None,
        settings_cards,
        resources,
        unit,
        lines: tree_lines(tree),
        admins,
        errors: FormErrors::new(actor.lang, errors),
        problem,
        notice,
    };
    render(status, &page)
}

pub async fn show_unit(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let id = match node_id(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    unit_page(&state, &actor, id, &q.saved, None, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
}

pub async fn create_unit(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<CreateUnitForm>,
) -> Response {
    let Some(parent) = NodeId::parse(&f.parent) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    match node::create_unit(&state.ctx, &actor, parent, &f.name).await {
        Ok(id) => redirect(&format!("/users?node={id}")),
        Err(Error::Invalid(list)) => {
            let message = list
                .iter()
                .map(|e| i18n::t(actor.lang, e.code))
                .collect::<Vec<_>>()
                .join(" ");
            let mut page = PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unit-new",
                actor.lang,
                None,
            );
            page.set_message(format!("{}: {message}", i18n::t(actor.lang, "unit-name")));
            page.into_response()
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameForm {
    version: i64,
    #[serde(default)]
    name: String,
}

pub async fn rename_unit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<RenameForm>,
) -> Response {
    let id = match node_id(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match node::rename_unit(&state.ctx, &actor, id, f.version, &f.name).await {
        Ok(()) => redirect(&format!("/units/{id}?saved=renamed")),
        Err(e) => unit_page(&state, &actor, id, "", Some(e), Some(f.name)).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveUnitForm {
    version: i64,
    parent: String,
}

pub async fn move_unit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<MoveUnitForm>,
) -> Response {
    let id = match node_id(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let result = match NodeId::parse(&f.parent) {
        Some(p) => node::move_unit(&state.ctx, &actor, id, f.version, p).await,
        None => Err(Error::field("parent", "unit-target-invalid")),
    };
    match result {
        Ok(()) => redirect(&format!("/units/{id}?saved=moved")),
        Err(e) => unit_page(&state, &actor, id, "", Some(e), None).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyForm {}

pub async fn delete_unit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let id = match node_id(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match node::delete_unit(&state.ctx, &actor, id).await {
        Ok(()) => redirect("/users"),
        Err(e) => unit_page(&state, &actor, id, "", Some(e), None).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminForm {
    #[serde(default)]
    email: String,
}

/// Where a node's page lives: units have their own, accounts and the root are the Account tab.
async fn node_page(state: &AppState, actor: &Actor, id: NodeId) -> String {
    match node::get_node(&state.ctx, actor, id).await {
        Ok(n) if n.kind == NodeKind::Unit => format!("/units/{id}"),
        _ => format!("/account?node={id}"),
    }
}

pub async fn add_admin(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<AdminForm>,
) -> Response {
    let id = match node_id(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let result = user::add_node_admin(&state.ctx, &actor, id, &f.email).await;
    after_admin_change(&state, &actor, id, result).await
}

pub async fn remove_admin(
    State(state): State<AppState>,
    Path((id, subject)): Path<(String, String)>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let id = match node_id(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Some(subject) = UserId::parse(&subject) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let result = user::remove_node_admin(&state.ctx, &actor, id, subject).await;
    after_admin_change(&state, &actor, id, result).await
}

async fn after_admin_change(
    state: &AppState,
    actor: &Actor,
    id: NodeId,
    result: roster_core::Result<()>,
) -> Response {
    let page = node_page(state, actor, id).await;
    match result {
        Ok(()) => {
            let sep = if page.contains('?') { '&' } else { '?' };
            redirect(&format!("{page}{sep}saved=admins#admins"))
        }
        Err(e @ (Error::Invalid(_) | Error::Conflict(_))) if page.starts_with("/units/") => {
            unit_page(state, actor, id, "", Some(e), None).await
        }
        Err(e @ (Error::Invalid(_) | Error::Conflict(_))) => {
            crate::portal::account::account_page(state, actor, Some(id), "", Some(e)).await
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
