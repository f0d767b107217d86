//! `/Users`: person users of the token's subtree, through `domain::scim`.

use roster_core::domain::Actor;
use roster_core::domain::scim::{self, ScimUserInput};
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use super::list::ListParams;
use super::resource::Resource;
use super::{ScimResult, base};
use crate::state::AppState;

pub(super) struct Users;

fn input(body: &Value) -> Result<ScimUserInput, ScimError> {
    ScimUserInput::from_json(body).map_err(ScimError::from_core)
}

impl Resource for Users {
    async fn current(state: &AppState, actor: &Actor, id: Uuid) -> Result<(Value, i64), ScimError> {
        scim::get_user(&state.ctx, actor, id, &base(state))
            .await
            .map_err(ScimError::from_core)
    }

    async fn page(state: &AppState, actor: &Actor, p: &ListParams) -> ScimResult {
        let filter = p.parsed_filter()?;
        let (start, count) = p.window();
        // userName order is the index's; any other order needs every match (a bounded number).
        let want = match p.sort_by() {
            Some(by) if !by.is_user_name() => scim::Want::All,
            _ => scim::Want::Page {
                start,
                count,
                descending: p.descending(),
            },
        };
        let (total, users) =
            scim::list_users(&state.ctx, actor, filter.as_ref(), want, &base(state))
                .await
                .map_err(ScimError::from_core)?;
        Ok(p.answer(total, users, want == scim::Want::All))
    }

    async fn create(state: &AppState, actor: &Actor, body: &Value) -> Result<Uuid, ScimError> {
        scim::create_user(&state.ctx, actor, &input(body)?)
            .await
            .map(|id| id.0)
            .map_err(ScimError::from_core)
    }

    async fn replace(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
        version: Option<i64>,
        body: &Value,
    ) -> Result<(), ScimError> {
        scim::replace_user(&state.ctx, actor, id, version, &input(body)?)
            .await
            .map_err(ScimError::from_core)
    }

    async fn delete(state: &AppState, actor: &Actor, id: Uuid) -> Result<(), ScimError> {
        scim::delete_user(&state.ctx, actor, id)
            .await
            .map_err(ScimError::from_core)
    }
}
