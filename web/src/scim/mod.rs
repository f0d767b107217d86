//! SCIM 2.0 at `/scim/v2` (RFC 7644): discovery, users, groups (the units), `/.search` and
//! `/Bulk`, for identity providers with a SCIM token of an account or unit. This module speaks
//! the protocol; the rules are `roster_core::domain::scim`'s and the JSON work (filters, PATCH,
//! projection, sorting) is `roster_core::scim`'s.
//!
//! Each write is a *resource operation* (`users::create`, `groups::patch`, …) that answers a
//! [`Done`]: the routes below turn it into a response, and `/Bulk` calls the same operations
//! directly, one after another, with the same provider.

mod bulk;
mod discovery;
mod error;
mod extract;
mod groups;
mod list;
mod resource;
mod users;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;

pub use error::ScimError;
use extract::Provider;
use groups::Groups;
use list::search_params;
use resource::{
    create_route, delete_route, get_route, list_route, patch_route, replace_route, search_route,
};
use roster_core::domain::scim;
use roster_core::scim::patch;
use users::Users;

use crate::state::AppState;

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// `count` of a list at most.
const MAX_COUNT: usize = 500;

type ScimResult = Result<Response, ScimError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route(
            "/scim/v2/Users",
            get(list_route::<Users>).post(create_route::<Users>),
        )
        .route(
            "/scim/v2/Users/{id}",
            get(get_route::<Users>)
                .put(replace_route::<Users>)
                .patch(patch_route::<Users>)
                .delete(delete_route::<Users>),
        )
        .route(
            "/scim/v2/Groups",
            get(list_route::<Groups>).post(create_route::<Groups>),
        )
        .route(
            "/scim/v2/Groups/{id}",
            get(get_route::<Groups>)
                .put(replace_route::<Groups>)
                .patch(patch_route::<Groups>)
                .delete(delete_route::<Groups>),
        )
        .route("/scim/v2/Users/.search", post(search_route::<Users>))
        .route("/scim/v2/Groups/.search", post(search_route::<Groups>))
        .route("/scim/v2/.search", post(search_all))
        .route("/scim/v2/Bulk", post(bulk::bulk))
        .route("/scim/v2", any(not_found))
        .route("/scim/v2/{*rest}", any(not_found))
}

async fn not_found() -> ScimError {
    ScimError::not_found()
}

/// An answer in `application/scim+json`.
fn scim_response(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    res
}

fn base(state: &AppState) -> String {
    state.ctx.settings.link("/scim/v2")
}

fn with_etag(mut res: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("W/\"v{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// What a resource operation answers: its status, and the resource with its version (none
/// for a delete).
pub(crate) struct Done {
    status: StatusCode,
    resource: Option<(Value, i64)>,
}

impl Done {
    fn created(resource: (Value, i64)) -> Done {
        Done {
            status: StatusCode::CREATED,
            resource: Some(resource),
        }
    }

    fn ok(resource: (Value, i64)) -> Done {
        Done {
            status: StatusCode::OK,
            resource: Some(resource),
        }
    }

    fn deleted() -> Done {
        Done {
            status: StatusCode::NO_CONTENT,
            resource: None,
        }
    }

    /// Where a created resource lives.
    fn location(&self) -> Option<String> {
        self.resource
            .as_ref()
            .and_then(|(v, _)| v["meta"]["location"].as_str())
            .map(str::to_string)
    }

    /// The resource with its weak ETag, and its `Location` when just created.
    fn response(self) -> Response {
        let location = self.location();
        let Some((v, version)) = self.resource else {
            return self.status.into_response();
        };
        let mut res = with_etag(scim_response(self.status, v), version);
        if self.status == StatusCode::CREATED
            && let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok())
        {
            res.headers_mut().insert(header::LOCATION, l);
        }
        res
    }
}

/// A PATCH request applied to a resource's current JSON, after the version it names (if any)
/// is checked against the current one: what the resource becomes, and the version it was read
/// at.
fn patched(
    (mut current, version): (Value, i64),
    wanted: Option<i64>,
    patch: &Value,
) -> Result<(Value, i64), ScimError> {
    let ops = patch::operations(patch)?;
    if wanted.is_some_and(|v| v != version) {
        return Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The resource has changed",
        ));
    }
    for op in ops {
        patch::apply(&mut current, op)?;
    }
    Ok((current, version))
}

/// `POST /.search` at the root: users and groups alike.
async fn search_all(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    let p = search_params(&body)?;
    let filter = p.parsed_filter()?;
    let (_, mut items) = scim::list_users(
        &state.ctx,
        &actor,
        filter.as_ref(),
        scim::Want::All,
        &base(&state),
    )
    .await
    .map_err(ScimError::from_core)?;
    items.extend(groups::matching(&state, &actor, filter.as_ref()).await?);
    Ok(p.answer(items.len(), items, true))
}
