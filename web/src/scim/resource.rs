//! What users and groups share: each is a [`Resource`] (read one, a page of a list, create,
//! replace, delete), and every route and every `/Bulk` operation is one generic function over
//! it. PATCH is the same for both: the operations apply to the resource's JSON, and the result
//! replaces the resource.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use roster_core::domain::Actor;
use roster_core::scim::project::project;
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use super::extract::{Projection, Provider, ScimId, if_match, json_body};
use super::list::{ListParams, search_params};
use super::{Done, ScimResult, patched, scim_response, with_etag};
use crate::state::AppState;

pub(super) trait Resource {
    /// One resource in the token's reach, as SCIM JSON, with its version.
    fn current(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
    ) -> impl Future<Output = Result<(Value, i64), ScimError>> + Send;

    /// A list answer.
    fn page(
        state: &AppState,
        actor: &Actor,
        p: &ListParams,
    ) -> impl Future<Output = ScimResult> + Send;

    /// Creates from a body; the new resource's id.
    fn create(
        state: &AppState,
        actor: &Actor,
        body: &Value,
    ) -> impl Future<Output = Result<Uuid, ScimError>> + Send;

    /// Replaces what a body says, if the version still matches.
    fn replace(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
        version: Option<i64>,
        body: &Value,
    ) -> impl Future<Output = Result<(), ScimError>> + Send;

    fn delete(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
    ) -> impl Future<Output = Result<(), ScimError>> + Send;
}

pub(super) async fn create<R: Resource>(
    state: &AppState,
    actor: &Actor,
    body: &Value,
) -> Result<Done, ScimError> {
    let id = R::create(state, actor, body).await?;
    Ok(Done::created(R::current(state, actor, id).await?))
}

pub(super) async fn replace<R: Resource>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    body: &Value,
) -> Result<Done, ScimError> {
    R::replace(state, actor, id, version, body).await?;
    Ok(Done::ok(R::current(state, actor, id).await?))
}

pub(super) async fn patch<R: Resource>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    body: &Value,
) -> Result<Done, ScimError> {
    let (result, read_at) = patched(R::current(state, actor, id).await?, version, body)?;
    replace::<R>(state, actor, id, Some(read_at), &result).await
}

pub(super) async fn delete<R: Resource>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Done, ScimError> {
    R::delete(state, actor, id).await?;
    Ok(Done::deleted())
}

// The routes.

pub(super) async fn list_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    Query(p): Query<ListParams>,
) -> ScimResult {
    R::page(&state, &actor, &p).await
}

pub(super) async fn search_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    R::page(&state, &actor, &search_params(&body)?).await
}

pub(super) async fn get_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    Query(p): Query<Projection>,
) -> ScimResult {
    let (mut v, version) = R::current(&state, &actor, id).await?;
    project(
        &mut v,
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    );
    Ok(with_etag(scim_response(StatusCode::OK, v), version))
}

pub(super) async fn create_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    Ok(create::<R>(&state, &actor, &json_body(&body)?)
        .await?
        .response())
}

pub(super) async fn replace_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let version = if_match(&headers)?;
    Ok(
        replace::<R>(&state, &actor, id, version, &json_body(&body)?)
            .await?
            .response(),
    )
}

pub(super) async fn patch_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let version = if_match(&headers)?;
    Ok(patch::<R>(&state, &actor, id, version, &json_body(&body)?)
        .await?
        .response())
}

pub(super) async fn delete_route<R: Resource>(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
) -> ScimResult {
    Ok(delete::<R>(&state, &actor, id).await?.response())
}
