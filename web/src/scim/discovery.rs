//! Discovery (RFC 7644 §4): what Roster's SCIM offers, the resource types and their schemas.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_core::domain::scim;
use serde_json::{Value, json};

use super::bulk::{MAX_BULK_BYTES, MAX_BULK_OPERATIONS};
use super::error::ScimError;
use super::{MAX_COUNT, scim_response};
use crate::state::AppState;
use roster_core::scim::LIST_SCHEMA;

pub(super) async fn service_provider_config(State(state): State<AppState>) -> Response {
    scim_response(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": state.ctx.settings.link("/api/v1/docs"),
            "patch": {"supported": true},
            "bulk": {"supported": true, "maxOperations": MAX_BULK_OPERATIONS, "maxPayloadSize": MAX_BULK_BYTES},
            "filter": {"supported": true, "maxResults": MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A SCIM token of the account or unit (roster scim-token create)",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig",
                     "location": state.ctx.settings.link("/scim/v2/ServiceProviderConfig")}
        }),
    )
}

fn user_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person user of the account",
        "schema": scim::USER_SCHEMA,
        "schemaExtensions": [{"schema": scim::ENTERPRISE, "required": false}],
        "meta": {"resourceType": "ResourceType",
                 "location": state.ctx.settings.link("/scim/v2/ResourceTypes/User")}
    })
}

fn group_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "An organizational unit; its members are the users in it",
        "schema": scim::GROUP_SCHEMA,
        "meta": {"resourceType": "ResourceType",
                 "location": state.ctx.settings.link("/scim/v2/ResourceTypes/Group")}
    })
}

pub(super) async fn resource_types(State(state): State<AppState>) -> Response {
    let all = [user_resource_type(&state), group_resource_type(&state)];
    scim_response(
        StatusCode::OK,
        json!({"schemas": [LIST_SCHEMA], "totalResults": 2, "startIndex": 1,
               "itemsPerPage": 2, "Resources": all}),
    )
}

/// An attribute definition (RFC 7643 §7): a read-write, optional, single string unless changed.
fn attr(name: &str) -> Value {
    json!({"name": name, "type": "string", "multiValued": false, "required": false,
           "caseExact": false, "mutability": "readWrite", "returned": "default",
           "uniqueness": "none"})
}

fn with(mut a: Value, changes: Value) -> Value {
    if let (Some(o), Value::Object(c)) = (a.as_object_mut(), changes) {
        o.extend(c);
    }
    a
}

/// A multi-valued complex attribute of `value`, `type` (one of `types`) and `primary`.
fn multi(name: &str, types: &[&str], value: Value) -> Value {
    with(
        attr(name),
        json!({"type": "complex", "multiValued": true, "subAttributes": [
            value,
            with(attr("type"), json!({"canonicalValues": types})),
            with(attr("primary"), json!({"type": "boolean"})),
        ]}),
    )
}

pub(super) async fn resource_type(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    if id == "User" {
        Ok(scim_response(StatusCode::OK, user_resource_type(&state)))
    } else if id == "Group" {
        Ok(scim_response(StatusCode::OK, group_resource_type(&state)))
    } else {
        Err(ScimError::not_found())
    }
}

pub(super) async fn schema(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let all = all_schemas(&state);
    all.into_iter()
        .find(|s| s["id"].as_str() == Some(id.as_str()))
        .map(|s| scim_response(StatusCode::OK, s))
        .ok_or_else(ScimError::not_found)
}

pub(super) async fn schemas(State(state): State<AppState>) -> Response {
    let all = all_schemas(&state);
    scim_response(
        StatusCode::OK,
        json!({"schemas": [LIST_SCHEMA], "totalResults": all.len(), "startIndex": 1,
               "itemsPerPage": all.len(), "Resources": all}),
    )
}

/// The schemas Roster serves: the core User schema (what Roster maps, and what it keeps as
/// the provider's), the enterprise extension (the provider's), and Group (a unit).
fn all_schemas(state: &AppState) -> Vec<Value> {
    let read_only = json!({"mutability": "readOnly"});
    let reference = |types: &[&str]| json!({"type": "reference", "referenceTypes": types});
    let schema = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": description, "attributes": attributes,
            "meta": {"resourceType": "Schema",
                     "location": state.ctx.settings.link(&format!("/scim/v2/Schemas/{id}"))}
        })
    };
    let complex = |name: &str, subs: Vec<Value>| {
        with(
            attr(name),
            json!({"type": "complex", "subAttributes": subs}),
        )
    };
    let user = schema(
        scim::USER_SCHEMA,
        "User",
        "User Account",
        vec![
            with(
                attr("userName"),
                json!({"required": true, "uniqueness": "server"}),
            ),
            complex(
                "name",
                [
                    "formatted",
                    "familyName",
                    "givenName",
                    "middleName",
                    "honorificPrefix",
                    "honorificSuffix",
                ]
                .map(attr)
                .to_vec(),
            ),
            attr("displayName"),
            attr("nickName"),
            with(attr("profileUrl"), reference(&["external"])),
            attr("title"),
            with(
                attr("userType"),
                json!({"canonicalValues": ["Administrator", "User"]}),
            ),
            with(
                attr("preferredLanguage"),
                json!({"canonicalValues": ["en", "nl", "sv"]}),
            ),
            attr("locale"),
            attr("timezone"),
            with(attr("active"), json!({"type": "boolean"})),
            with(
                multi(
                    "emails",
                    &["work", "home", "other"],
                    with(attr("value"), json!({"required": true})),
                ),
                json!({"required": true}),
            ),
            multi(
                "phoneNumbers",
                &["mobile", "work", "home", "fax", "pager", "other"],
                attr("value"),
            ),
            multi(
                "ims",
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
                attr("value"),
            ),
            multi(
                "photos",
                &["photo", "thumbnail"],
                with(attr("value"), reference(&["external"])),
            ),
            with(
                attr("addresses"),
                json!({"type": "complex", "multiValued": true, "subAttributes": [
                    attr("formatted"), attr("streetAddress"), attr("locality"), attr("region"),
                    attr("postalCode"), attr("country"),
                    with(attr("type"), json!({"canonicalValues": ["work", "home", "other"]})),
                    with(attr("primary"), json!({"type": "boolean"})),
                ]}),
            ),
            with(
                attr("groups"),
                json!({"type": "complex", "multiValued": true, "mutability": "readOnly",
                       "subAttributes": [
                    with(attr("value"), read_only.clone()),
                    with(with(attr("$ref"), reference(&["Group"])), read_only.clone()),
                    with(attr("display"), read_only.clone()),
                    with(attr("type"), json!({"mutability": "readOnly",
                                               "canonicalValues": ["direct", "indirect"]})),
                ]}),
            ),
            multi("entitlements", &[], attr("value")),
            multi("roles", &[], attr("value")),
            multi(
                "x509Certificates",
                &[],
                with(attr("value"), json!({"type": "binary"})),
            ),
        ],
    );
    let enterprise = schema(
        scim::ENTERPRISE,
        "EnterpriseUser",
        "Enterprise User (kept as the provider sends it)",
        vec![
            attr("employeeNumber"),
            attr("costCenter"),
            attr("organization"),
            attr("division"),
            attr("department"),
            complex(
                "manager",
                vec![
                    attr("value"),
                    with(attr("$ref"), reference(&["User"])),
                    with(attr("displayName"), read_only.clone()),
                ],
            ),
        ],
    );
    let group = schema(
        scim::GROUP_SCHEMA,
        "Group",
        "Group (an organizational unit; members are its users and the units below it)",
        vec![
            with(attr("displayName"), json!({"required": true})),
            with(
                attr("members"),
                json!({"type": "complex", "multiValued": true, "subAttributes": [
                    with(attr("value"), json!({"mutability": "immutable"})),
                    with(with(attr("$ref"), reference(&["User", "Group"])),
                         json!({"mutability": "immutable"})),
                    with(attr("type"), json!({"mutability": "immutable",
                                               "canonicalValues": ["User", "Group"]})),
                ]}),
            ),
        ],
    );
    vec![user, enterprise, group]
}
