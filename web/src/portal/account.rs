//! The Account tab: the account's contact and defaults, and its administrators
//! ("Handle account settings"). Operators open any account with `?node=`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::mfa::{self, Policy, Unenrolled};
use roster_core::domain::node::{self, AccountInput, NodeView};
use roster_core::domain::service::Level;
use roster_core::domain::user::{self, AccessHolder};
use roster_core::model::{Lang, NodeId, NodeKind};
use roster_core::{Error, i18n};
use serde::Deserialize;

use crate::extract::{CsrfForm, CurrentActor};
use crate::page::{FormErrors, Frame, PageError, country_options, redirect, render};
use crate::portal::resources::NodeResources;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/account.html")]
struct AccountPage {
    frame: Frame,
    node: NodeView,
    kind_key: &'static str,
    admins: Vec<AccessHolder>,
    form: AccountInput,
    errors: FormErrors,
    problem: String,
    notice: String,
    countries: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
    is_account: bool,
    policy: Policy,
    policy_node: NodeId,
    policy_back: String,
    unenrolled: Option<Vec<Unenrolled>>,
    settings_cards: Vec<crate::portal::settings::SettingsCard>,
    /// The account's "Administered" switch and domains (None for a unit).
    administered: Option<roster_core::domain::administered::Administered>,
    is_operator: bool,
    /// Days audit events are kept where the account set nothing.
    default_retention: i64,
    /// The address books and public addresses it shares (None for the operator root).
    resources: Option<NodeResources>,
}

impl AccountPage {
    /// Days the account's audit trail is kept: its own setting, else the default.
    fn retention_kept(&self) -> i64 {
        self.administered
            .as_ref()
            .and_then(|a| a.retention_days)
            .unwrap_or(self.default_retention)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AccountQuery {
    node: String,
    saved: String,
}

fn input_of(n: &NodeView) -> AccountInput {
    AccountInput {
        name: n.name.clone(),
        contact_name: n.contact_name.clone(),
        contact_email: n.contact_email.clone(),
        contact_phone: n.contact_phone.clone(),
        default_language: n.default_language.clone(),
        default_country: n.default_country.clone(),
    }
}

pub async fn account_page(
    state: &AppState,
    actor: &Actor,
    id: Option<NodeId>,
    saved: &str,
    problem: Option<Error>,
) -> Response {
    account_page_with(state, actor, id, saved, problem, None).await
}

async fn account_page_with(
    state: &AppState,
    actor: &Actor,
    id: Option<NodeId>,
    saved: &str,
    problem: Option<Error>,
    typed: Option<AccountInput>,
) -> Response {
    let result = async {
        let node = match id {
            Some(id) => node::get_node(&state.ctx, actor, id).await?,
            None => node::administered_node(&state.ctx, actor).await?,
        };
        let admins = user::list_node_admins(&state.ctx, actor, node.id).await?;
        let policy = mfa::node_policy(&state.ctx, actor, node.id).await?;
        let unenrolled = mfa::not_enrolled(&state.ctx, actor, node.id, 200).await?;
        let back = match id {
            Some(id) => format!("/account?node={}", id.0),
            None => "/account".to_string(),
        };
        // The operator's own node has no service settings.
        let cards = if node.kind == NodeKind::Operator {
            vec![]
        } else {
            let place = if node.kind == NodeKind::Account {
                "account"
            } else {
                "unit"
            };
            crate::portal::settings::cards(state, actor, Level::Node(node.id), place, &back).await?
        };
        let administered = if node.kind == NodeKind::Account {
            Some(roster_core::domain::administered::administered(&state.ctx, actor, node.id).await?)
        } else {
            None
        };
        let resources =
            NodeResources::load(state, actor, node.id, node.kind.as_str(), &back).await?;
        Ok::<_, Error>((
            node,
            admins,
            policy,
            unenrolled,
            cards,
            administered,
            resources,
        ))
    }
    .await;
    let (node, admins, policy, unenrolled, settings_cards, administered, resources) = match result {
        Ok(r) => r,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let (status, errors, problem) = match problem {
        None => (StatusCode::OK, vec![], String::new()),
        Some(Error::Invalid(list)) => (StatusCode::UNPROCESSABLE_ENTITY, list, String::new()),
        Some(Error::Conflict(code)) => (StatusCode::CONFLICT, vec![], i18n::t(actor.lang, code)),
        Some(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let kind_key = match node.kind {
        NodeKind::Operator => "node-kind-operator",
        NodeKind::Account => "node-kind-account",
        NodeKind::Unit => "node-kind-unit",
    };
    let notice = if [
        "account",
        "admins",
        "mfa",
        "settings",
        "administered",
        "books",
        "publics",
    ]
    .contains(&saved)
    {
        i18n::t(actor.lang, &format!("account-saved-{saved}"))
    } else {
        String::new()
    };
    let page = AccountPage {
        frame: Frame::signed_in(actor, "account"),
        kind_key,
        form: typed.unwrap_or_else(|| input_of(&node)),
        is_account: node.kind == NodeKind::Account,
        policy,
        policy_node: node.id,
        policy_back: "/account".into(),
        unenrolled: Some(unenrolled),
        settings_cards,
        administered,
        resources,
        is_operator: actor.is_operator(),
        default_retention: state.ctx.settings.audit_retention_days,
        node,
        admins,
        errors: FormErrors::new(actor.lang, errors),
        problem,
        notice,
        countries: country_options(actor.lang),
        languages: Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
    };
    render(status, &page)
}

pub async fn show_account(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<AccountQuery>,
) -> Response {
    account_page(&state, &actor, NodeId::parse(&q.node), &q.saved, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct AccountForm {
    version: i64,
    name: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    default_language: String,
    default_country: String,
}

impl AccountForm {
    fn input(&self) -> AccountInput {
        AccountInput {
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            contact_phone: self.contact_phone.clone(),
            default_language: self.default_language.clone(),
            default_country: self.default_country.clone(),
        }
    }
}

pub async fn update_account(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<AccountForm>,
) -> Response {
    let Some(id) = NodeId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let input = f.input();
    match node::update_account(&state.ctx, &actor, id, f.version, &input).await {
        Ok(()) => redirect(&format!("/account?node={id}&saved=account")),
        Err(e @ (Error::Invalid(_) | Error::Conflict(_))) => {
            account_page_with(&state, &actor, Some(id), "", Some(e), Some(input)).await
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdministeredForm {
    version: i64,
    administered: Option<String>,
    domains: String,
    retention_days: String,
}

/// Operators set an account as Administered, with its email domains.
pub async fn set_administered(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<AdministeredForm>,
) -> Response {
    let Some(id) = NodeId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let on = f.administered.is_some();
    match roster_core::domain::administered::set_administered(
        &state.ctx,
        &actor,
        id,
        f.version,
        on,
        &f.domains,
        &f.retention_days,
    )
    .await
    {
        Ok(()) => redirect(&format!(
            "/account?node={id}&saved=administered#administered"
        )),
        Err(e @ (Error::Invalid(_) | Error::Conflict(_))) => {
            account_page_with(&state, &actor, Some(id), "", Some(e), None).await
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// Management: operators create a customer account.
pub async fn create_account(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<AccountForm>,
) -> Response {
    let input = f.input();
    match node::create_account(&state.ctx, &actor, &input).await {
        Ok(id) => redirect(&format!("/account?node={id}&saved=account")),
        Err(e @ Error::Invalid(_)) => {
            crate::portal::management::management_page(&state, &actor, Some((input, e))).await
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
