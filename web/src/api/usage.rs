//! `POST /api/v1/usage`: the services report what their users used. `GET …/statistics`: the
//! daily figures rolled up from it and from the sign-ins, for a user or a unit or account.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Json;
use roster_core::domain::statistics::{self, Range, Statistics, Subject};
use roster_core::domain::usage::{self, Refused, Reported, Who};
use roster_core::model::{NodeId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, UsageCaller};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, ApiPath};
use crate::state::AppState;

/// Who an event is about: exactly one of these.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct UsageUser {
    id: Option<String>,
    /// A sign-in address.
    email: Option<String>,
    /// A confirmed alias (found like an email address).
    alias: Option<String>,
    /// A number connected to the user, in E.164.
    number: Option<String>,
    /// A system user's login.
    login: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageEventIn {
    user: UsageUser,
    /// A service Roster knows (`sms`, `fax`, …).
    service: String,
    /// What was used: `sms-sent`, `sms-parts`, `fax-pages`, …
    kind: String,
    /// How many (1 to 1,000,000).
    count: i64,
    /// When it was used (RFC 3339).
    at: String,
    /// The service's own id of the event: sending it again changes nothing.
    id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageBatch {
    /// 1 to 5,000 events.
    events: Vec<UsageEventIn>,
}

#[derive(Serialize, ToSchema)]
pub struct UsageAnswer {
    pub received: usize,
    /// Kept now.
    pub accepted: u64,
    /// Kept from an earlier report already (same id), or twice in this batch.
    pub duplicates: u64,
    /// Events whose user this token does not know: not kept.
    pub unknown_users: usize,
    /// Their ids, in the batch's order.
    pub unknown: Vec<String>,
}

fn who(u: UsageUser) -> Option<Who> {
    let named = [
        u.id.map(Who::Id),
        u.email.map(Who::Email),
        u.alias.map(Who::Email),
        u.number.map(Who::Number),
        u.login.map(Who::Login),
    ];
    let mut named = named.into_iter().flatten();
    match (named.next(), named.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

#[utoipa::path(operation_id = "usage_report", post, path = "/api/v1/usage", tag = "lookup", request_body = UsageBatch,
    responses((status = 200, body = UsageAnswer), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    UsageCaller(caller): UsageCaller,
    ApiJson(batch): ApiJson<UsageBatch>,
) -> ApiResult<Json<UsageAnswer>> {
    let lang = caller.lang;
    let events: Vec<Reported> = batch
        .events
        .into_iter()
        .map(|e| Reported {
            who: who(e.user),
            service: e.service,
            kind: e.kind,
            count: e.count,
            at: e.at,
            id: e.id,
        })
        .collect();
    match usage::ingest(&state.ctx, &caller.actor, &events).await {
        Ok(done) => Ok(Json(UsageAnswer {
            received: done.received,
            accepted: done.accepted,
            duplicates: done.duplicates,
            unknown_users: done.unknown.len(),
            unknown: done.unknown,
        })),
        Err(Refused::Event { number, fields }) => {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "usage-event-invalid",
                lang,
            );
            e.fields = fields;
            e.line = Some(number);
            Err(e)
        }
        Err(Refused::Other(e)) => Err(ApiError::from_core(e, lang)),
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// The first day (`YYYY-MM-DD`, UTC); default: 29 days before `to`.
    from: String,
    /// The last day; default: today.
    to: String,
}

#[derive(Serialize, ToSchema)]
pub struct SeriesOut {
    /// `sign-ins`, `active-users` (a unit or account) or `<service>:<kind>`.
    pub metric: String,
    pub service: Option<String>,
    /// One value per day of `days`.
    pub values: Vec<i64>,
    pub total: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StatisticsOut {
    pub from: String,
    pub to: String,
    /// Each day of the range, in order.
    pub days: Vec<String>,
    pub series: Vec<SeriesOut>,
    /// When the figures were last rolled up (null: not yet).
    pub updated_at: Option<String>,
    pub next_update: String,
}

pub(crate) fn statistics_out(s: Statistics) -> StatisticsOut {
    StatisticsOut {
        from: Timestamp::from_day(s.range.from).to_date_string(),
        to: Timestamp::from_day(s.range.to).to_date_string(),
        days: s
            .range
            .days()
            .map(|d| Timestamp::from_day(d).to_date_string())
            .collect(),
        updated_at: s.updated_at.map(Timestamp::to_rfc3339),
        next_update: s.next_due.to_rfc3339(),
        series: s
            .series
            .into_iter()
            .map(|x| SeriesOut {
                service: x.service().map(str::to_string),
                metric: x.metric,
                values: x.values,
                total: x.total,
            })
            .collect(),
    }
}

async fn answer(
    state: &AppState,
    caller: &Caller,
    subject: Subject,
    p: RangeParams,
) -> ApiResult<Json<StatisticsOut>> {
    let lang = caller.lang;
    let today = state.ctx.clock.now().day();
    let range = Range::parse(&p.from, &p.to, today).map_err(|e| ApiError::from_core(e, lang))?;
    let s = statistics::statistics(&state.ctx, &caller.actor, subject, range)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    Ok(Json(statistics_out(s)))
}

/// A user's daily figures (the user themself, or an administrator of their unit).
#[utoipa::path(operation_id = "users_statistics", get, path = "/api/v1/users/{id}/statistics", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id"), RangeParams),
    responses((status = 200, body = StatisticsOut), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn user_statistics(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
    Query(p): Query<RangeParams>,
) -> ApiResult<Json<StatisticsOut>> {
    answer(&state, &caller, Subject::User(UserId(id)), p).await
}

/// A unit's or account's daily figures, with everything under it (its administrators).
#[utoipa::path(operation_id = "nodes_statistics", get, path = "/api/v1/nodes/{id}/statistics", tag = "nodes",
    params(("id" = Uuid, Path, description = "The unit's or account's id"), RangeParams),
    responses((status = 200, body = StatisticsOut), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_statistics(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
    Query(p): Query<RangeParams>,
) -> ApiResult<Json<StatisticsOut>> {
    answer(&state, &caller, Subject::Node(NodeId(id)), p).await
}
