//! "Statistics": a user's (`/users/{id}/statistics`, `/toolbox/statistics` for their own) and
//! a unit's or account's with everything under it (`/nodes/{id}/statistics`): a chart per
//! figure with the same numbers in a table, a range picker, and the same view as CSV.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::Actor;
use roster_core::domain::statistics::{self, Range, Series, Statistics, Subject};
use roster_core::model::{Lang, NodeId, Timestamp, UserId};
use serde::Deserialize;

use crate::chart::{ChartData, draw};
use crate::extract::CurrentActor;
use crate::page::{FormErrors, Frame, PageError, render};
use crate::state::AppState;

/// The range as the address carries it.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RangeQuery {
    from: String,
    to: String,
}

/// One figure as the page shows it.
pub struct Figure {
    pub label: String,
    pub total: String,
    pub svg: String,
    /// Each day with its value, as the table beside the chart shows them.
    pub rows: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "portal/statistics.html")]
struct StatisticsPage {
    frame: Frame,
    name: String,
    back: String,
    base: String,
    /// The range shown, as dates (a refused one as it was typed).
    from: String,
    to: String,
    /// Shortcuts to the last 7, 30 and 90 days: (label, address).
    presets: Vec<(String, String)>,
    figures: Vec<Figure>,
    updated: String,
    next: String,
    csv: String,
    errors: FormErrors,
}

/// The label of a metric in the reader's language (a service by its name).
fn label(state: &AppState, lang: Lang, s: &Series) -> String {
    match s.service() {
        None => roster_core::i18n::t(lang, &format!("stats-metric-{}", s.metric)),
        Some(service) => {
            let name = state
                .ctx
                .settings
                .catalog
                .service(service)
                .map_or(service.to_string(), |x| x.name.get(lang).to_string());
            format!("{name} · {}", s.kind())
        }
    }
}

fn days_of(s: &Statistics) -> Vec<String> {
    s.range
        .days()
        .map(|d| Timestamp::from_day(d).to_date_string())
        .collect()
}

/// A user's statistics, for their unit's administrators.
pub async fn show_user_statistics(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let Some(id) = UserId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let place = Place {
        subject: Subject::User(id),
        base: format!("/users/{id}/statistics"),
        back: format!("/users/{id}"),
        tab: "users",
    };
    page(&state, &actor, place, q).await
}

/// The user's own statistics.
pub async fn show_own_statistics(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<RangeQuery>,
) -> Response {
    let place = Place {
        subject: Subject::User(actor.user_id),
        base: "/toolbox/statistics".into(),
        back: "/toolbox".into(),
        tab: "",
    };
    page(&state, &actor, place, q).await
}

/// A unit's or account's statistics (the operator's root: the deployment's).
pub async fn show_node_statistics(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let Some(id) = NodeId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let place = Place {
        subject: Subject::Node(id),
        base: format!("/nodes/{id}/statistics"),
        back: format!("/units/{id}"),
        tab: "users",
    };
    page(&state, &actor, place, q).await
}

struct Place {
    subject: Subject,
    base: String,
    back: String,
    tab: &'static str,
}

/// Whose figures they are, by name, and where "back" leads (an account to its tab, the
/// operator's root to Management).
async fn name_of(state: &AppState, actor: &Actor, place: &mut Place, stats: &Statistics) -> String {
    match (&place.subject, &stats.node) {
        (Subject::User(id), _) => roster_core::domain::user::get_own_detail(&state.ctx, actor, *id)
            .await
            .map(|d| d.display_name())
            .unwrap_or_default(),
        (Subject::Node(_), Some((name, kind))) => {
            match kind.as_str() {
                "account" => place.back = "/account".into(),
                "operator" => place.back = "/management".into(),
                _ => {}
            }
            name.clone()
        }
        (Subject::Node(_), None) => String::new(),
    }
}

async fn page(state: &AppState, actor: &Actor, mut place: Place, q: RangeQuery) -> Response {
    let lang = actor.lang;
    let today = state.ctx.clock.now().day();
    let (range, errors) = match Range::parse(&q.from, &q.to, today) {
        Ok(r) => (r, vec![]),
        Err(Error::Invalid(list)) => (
            Range::parse("", "", today).unwrap_or(Range {
                from: today,
                to: today,
            }),
            list,
        ),
        Err(e) => return PageError::from_core(e, lang, None).into_response(),
    };
    let stats = match statistics::statistics(&state.ctx, actor, place.subject, range).await {
        Ok(s) => s,
        Err(e) => return PageError::from_core(e, lang, None).into_response(),
    };
    let name = name_of(state, actor, &mut place, &stats).await;
    let days = days_of(&stats);
    let figures = stats
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let label = label(state, lang, s);
            let description = roster_core::i18n::t_args(
                lang,
                "stats-chart-description",
                &[
                    ("from", days.first().cloned().unwrap_or_default().into()),
                    ("to", days.last().cloned().unwrap_or_default().into()),
                    ("total", lang.number(s.total).into()),
                    ("peak", lang.number(s.peak()).into()),
                ],
            );
            Figure {
                svg: draw(&ChartData {
                    id: &format!("chart-{i}"),
                    title: &label,
                    description: &description,
                    days: &days,
                    values: &s.values,
                    lang,
                }),
                total: lang.number(s.total),
                rows: days
                    .iter()
                    .zip(&s.values)
                    .map(|(d, v)| (d.clone(), lang.number(*v)))
                    .collect(),
                label,
            }
        })
        .collect();
    let at = |from: i64, to: i64| {
        format!(
            "{}?from={}&to={}",
            place.base,
            Timestamp::from_day(from).to_date_string(),
            Timestamp::from_day(to).to_date_string()
        )
    };
    let presets = [7, 30, 90]
        .into_iter()
        .map(|n| {
            (
                roster_core::i18n::t_args(lang, "stats-last-days", &[("n", n.into())]),
                at(today - (n - 1), today),
            )
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &StatisticsPage {
            frame: Frame::signed_in(actor, place.tab),
            name,
            csv: format!(
                "{}.csv?from={}&to={}",
                place.base,
                days.first().cloned().unwrap_or_default(),
                days.last().cloned().unwrap_or_default()
            ),
            from: if errors.is_empty() {
                days.first().cloned().unwrap_or_default()
            } else {
                q.from
            },
            to: if errors.is_empty() {
                days.last().cloned().unwrap_or_default()
            } else {
                q.to
            },
            back: place.back,
            base: place.base,
            presets,
            figures,
            updated: stats
                .updated_at
                .map(|t| t.to_utc_string())
                .unwrap_or_default(),
            next: stats.next_due.to_utc_string(),
            errors: FormErrors::new(lang, errors),
        },
    )
}

/// The same figures as CSV: a line per day, a column per figure.
pub async fn export_user_statistics(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let Some(id) = UserId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    export(&state, &actor, Subject::User(id), q).await
}

pub async fn export_own_statistics(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<RangeQuery>,
) -> Response {
    let id = actor.user_id;
    export(&state, &actor, Subject::User(id), q).await
}

pub async fn export_node_statistics(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let Some(id) = NodeId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    export(&state, &actor, Subject::Node(id), q).await
}

async fn export(state: &AppState, actor: &Actor, subject: Subject, q: RangeQuery) -> Response {
    let lang = actor.lang;
    let today = state.ctx.clock.now().day();
    let result = async {
        let range = Range::parse(&q.from, &q.to, today)?;
        statistics::statistics(&state.ctx, actor, subject, range).await
    }
    .await;
    let stats = match result {
        Ok(s) => s,
        Err(e) => return PageError::from_core(e, lang, None).into_response(),
    };
    let days = days_of(&stats);
    let mut rows = vec![
        std::iter::once("day".to_string())
            .chain(stats.series.iter().map(|s| s.metric.clone()))
            .collect::<Vec<_>>(),
    ];
    for (i, day) in days.iter().enumerate() {
        rows.push(
            std::iter::once(day.clone())
                .chain(stats.series.iter().map(|s| s.values[i].to_string()))
                .collect(),
        );
    }
    let file = format!(
        "statistics-{}-{}.csv",
        days.first().cloned().unwrap_or_default(),
        days.last().cloned().unwrap_or_default()
    );
    crate::page::csv_response(roster_core::model::csv::write(&rows), &file)
}
