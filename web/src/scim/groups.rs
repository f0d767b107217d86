//! `/Groups`: the units below the token's node, through `domain::scim`.

use roster_core::domain::Actor;
use roster_core::domain::scim::{self, GroupInput};
use roster_core::scim::filter;
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use super::list::ListParams;
use super::resource::Resource;
use super::{ScimResult, base};
use crate::state::AppState;

pub(super) struct Groups;

fn input(body: &Value) -> Result<GroupInput, ScimError> {
    GroupInput::from_json(body).map_err(ScimError::from_core)
}

/// The groups a filter matches (all of them without one).
pub(super) async fn matching(
    state: &AppState,
    actor: &Actor,
    filter: Option<&filter::Filter>,
) -> Result<Vec<Value>, ScimError> {
    Ok(scim::list_groups(&state.ctx, actor, &base(state))
        .await
        .map_err(ScimError::from_core)?
        .into_iter()
        .filter(|g| filter.is_none_or(|f| f.matches(g)))
        .collect())
}

impl Resource for Groups {
    async fn current(state: &AppState, actor: &Actor, id: Uuid) -> Result<(Value, i64), ScimError> {
        scim::get_group(&state.ctx, actor, id, &base(state))
            .await
            .map_err(ScimError::from_core)
    }

    async fn page(state: &AppState, actor: &Actor, p: &ListParams) -> ScimResult {
        let filter = p.parsed_filter()?;
        let found = matching(state, actor, filter.as_ref()).await?;
        Ok(p.answer(found.len(), found, true))
    }

    async fn create(state: &AppState, actor: &Actor, body: &Value) -> Result<Uuid, ScimError> {
        scim::create_group(&state.ctx, actor, &input(body)?)
            .await
            .map_err(ScimError::from_core)
    }

    async fn replace(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
        version: Option<i64>,
        body: &Value,
    ) -> Result<(), ScimError> {
        scim::set_group(&state.ctx, actor, id, version, &input(body)?)
            .await
            .map_err(ScimError::from_core)
    }

    async fn delete(state: &AppState, actor: &Actor, id: Uuid) -> Result<(), ScimError> {
        scim::delete_group(&state.ctx, actor, id)
            .await
            .map_err(ScimError::from_core)
    }
}
