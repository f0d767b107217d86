//! `GET /api/v1/lookup`: for the SMS and fax services, who a sender is and what they may do.
//! Only a token with the `lookup` scope may ask, and it hears only about what its user
//! administers.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Json;
use roster_core::domain::lookup::{self, Answer};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::LookupCaller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::settings::{SettingsOut, out};
use crate::state::AppState;

#[derive(Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// A sign-in address, a confirmed alias or a public address.
    email: Option<String>,
    /// A user's number, a public number or a verified mobile number, in E.164.
    number: Option<String>,
    /// A system user's login.
    login: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LookupUser {
    pub id: Uuid,
    pub account_id: Uuid,
    pub node_id: Uuid,
    pub email: Option<String>,
    pub login: Option<String>,
    pub name: String,
    /// Signs the messages sent on the user's behalf.
    pub friendly_name: String,
    /// Whether the user may use anything at all (status `active`).
    pub active: bool,
    pub status: String,
    pub language: String,
    pub country_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct LookupService {
    pub service: String,
    pub entitled: bool,
    /// The effective settings, each with its source (only for a service the user has).
    pub settings: Option<SettingsOut>,
}

#[derive(Serialize, ToSchema)]
pub struct LookupPublic {
    pub id: Uuid,
    /// `email` or `number`.
    pub kind: String,
    pub address: String,
    pub label: String,
    pub node_id: Uuid,
    /// The users who may use it.
    pub users: Vec<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct LookupContact {
    pub account_id: Uuid,
    pub account_name: String,
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// One of three answers, by `kind`: `user` (with `matched`, `user` and `services`), `public`
/// (with `public`) or `contact` (an unknown sender in an Administered account's domain).
#[derive(Serialize, ToSchema)]
pub struct LookupOut {
    pub kind: String,
    /// How the user was found: `email`, `alias`, `number`, `mobile` or `login`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<LookupUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<LookupService>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<LookupPublic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<LookupContact>,
}

impl LookupOut {
    fn of(kind: &str) -> LookupOut {
        LookupOut {
            kind: kind.into(),
            matched: None,
            user: None,
            services: None,
            public: None,
            contact: None,
        }
    }
}

#[utoipa::path(operation_id = "lookup", get, path = "/api/v1/lookup", tag = "lookup", params(LookupParams),
    responses((status = 200, body = LookupOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
              (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn lookup(
    State(state): State<AppState>,
    LookupCaller(caller): LookupCaller,
    Query(p): Query<LookupParams>,
) -> ApiResult<Json<LookupOut>> {
    let lang = caller.lang;
    let query = match (p.email, p.number, p.login) {
        (Some(e), None, None) => lookup::Query::Email(e),
        (None, Some(n), None) => lookup::Query::Number(n),
        (None, None, Some(l)) => lookup::Query::Login(l),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "lookup-one-of",
                lang,
            ));
        }
    };
    let answer = lookup::lookup(&state.ctx, &caller.actor, &query)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    Ok(Json(match answer {
        Answer::User(u) => LookupOut {
            matched: Some(u.matched.as_str().into()),
            services: Some(
                u.services
                    .into_iter()
                    .map(|s| LookupService {
                        service: s.service.into(),
                        entitled: s.entitled,
                        settings: s.settings.map(|v| out(&state, v)),
                    })
                    .collect(),
            ),
            user: Some(LookupUser {
                id: u.id.0,
                account_id: u.account_id.0,
                node_id: u.node_id.0,
                email: u.email,
                login: u.login,
                name: u.name,
                friendly_name: u.friendly_name,
                active: u.active,
                status: u.status,
                language: u.language,
                country_code: u.country_code,
            }),
            ..LookupOut::of("user")
        },
        Answer::Public(p) => LookupOut {
            public: Some(LookupPublic {
                id: p.id,
                kind: p.kind,
                address: p.address,
                label: p.label,
                node_id: p.node_id.0,
                users: p.users.into_iter().map(|u| u.0).collect(),
            }),
            ..LookupOut::of("public")
        },
        Answer::Contact(c) => LookupOut {
            contact: Some(LookupContact {
                account_id: c.account_id.0,
                account_name: c.account_name,
                name: c.name,
                email: c.email,
                phone: c.phone,
            }),
            ..LookupOut::of("contact")
        },
    }))
}
