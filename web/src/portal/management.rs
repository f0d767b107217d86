use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::Actor;
use roster_core::domain::node::{self, AccountInput, AccountListItem};
use roster_core::domain::status::{self, SystemStatus};
use roster_core::model::Lang;

use crate::extract::CurrentActor;
use crate::page::{FormErrors, Frame, PageError, country_options, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/management.html")]
struct ManagementPage {
    frame: Frame,
    accounts: Vec<AccountListItem>,
    status: SystemStatus,
    form: AccountInput,
    errors: FormErrors,
    countries: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
    /// The operator's root, whose statistics are the deployment's.
    root: Option<String>,
}

pub async fn management_page(
    state: &AppState,
    actor: &Actor,
    rejected: Option<(AccountInput, Error)>,
) -> Response {
    let result = async {
        let status = status::system_status(&state.ctx, actor).await?;
        let accounts = node::list_accounts(&state.ctx, actor, 500).await?;
        Ok::<_, Error>((status, accounts))
    }
    .await;
    let (status, accounts) = match result {
        Ok(r) => r,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let (code, form, errors) = match rejected {
        Some((form, Error::Invalid(list))) => (StatusCode::UNPROCESSABLE_ENTITY, form, list),
        _ => (
            StatusCode::OK,
            AccountInput {
                default_language: "en".into(),
                ..Default::default()
            },
            vec![],
        ),
    };
    let page = ManagementPage {
        frame: Frame::signed_in(actor, "management"),
        accounts,
        status,
        form,
        errors: FormErrors::new(actor.lang, errors),
        countries: country_options(actor.lang),
        languages: Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
        root: actor.primary_scope().map(|s| s.node_id.to_string()),
    };
    render(code, &page)
}

/// Operator staff only: customer accounts, system status, recent events.
pub async fn show_management(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Response {
    management_page(&state, &actor, None).await
}
