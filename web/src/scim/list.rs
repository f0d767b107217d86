//! Lists: the query of `GET /Users` and `GET /Groups`, the body of `/.search`, and the list
//! answer (filtered, sorted, paged, projected).

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use roster_core::domain::scim::LIST_SCHEMA;
use roster_core::scim::filter;
use roster_core::scim::project::{SortBy, project};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ScimError;
use super::{MAX_COUNT, scim_response};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ListParams {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl ListParams {
    pub(super) fn parsed_filter(&self) -> Result<Option<filter::Filter>, ScimError> {
        match self.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(f) => filter::parse(f).map(Some).map_err(|e| {
                ScimError::new(
                    StatusCode::BAD_REQUEST,
                    Some("invalidFilter"),
                    e.to_string(),
                )
            }),
            None => Ok(None),
        }
    }

    /// `startIndex` (1-based) and `count`, within bounds.
    pub(super) fn window(&self) -> (usize, usize) {
        let start = self.start_index.unwrap_or(1).max(1) as usize;
        let count = self.count.unwrap_or(100).clamp(0, MAX_COUNT as i64) as usize;
        (start, count)
    }

    pub(super) fn descending(&self) -> bool {
        self.sort_order
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("descending"))
    }

    /// The attribute to sort by, when one is asked for (None also for one that names none).
    pub(super) fn sort_by(&self) -> Option<SortBy> {
        self.sort_by
            .as_deref()
            .filter(|b| !b.trim().is_empty())
            .and_then(SortBy::parse)
    }

    /// The list answer: when `whole`, `items` are every match, sorted and cut to the page
    /// here; else they are the page already. Then each is projected.
    pub(super) fn answer(&self, total: usize, mut items: Vec<Value>, whole: bool) -> Response {
        let (start, count) = self.window();
        if whole {
            if let Some(by) = self.sort_by() {
                by.sort(&mut items, self.descending());
            }
            items = items.into_iter().skip(start - 1).take(count).collect();
        }
        for item in items.iter_mut() {
            project(
                item,
                self.attributes.as_deref(),
                self.excluded_attributes.as_deref(),
            );
        }
        scim_response(
            StatusCode::OK,
            json!({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
                   "itemsPerPage": items.len(), "Resources": items}),
        )
    }
}

/// A `/.search` body (RFC 7644 §3.4.3): the list parameters, attribute lists as arrays.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SearchRequest {
    attributes: Option<Value>,
    excluded_attributes: Option<Value>,
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
}

pub(super) fn search_params(body: &Bytes) -> Result<ListParams, ScimError> {
    let r: SearchRequest = serde_json::from_slice(body).map_err(|_| {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "Not a SearchRequest",
        )
    })?;
    let list = |v: Option<Value>| match v {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .take(roster_core::scim::project::MAX_ATTRIBUTES)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    Ok(ListParams {
        filter: r.filter,
        start_index: r.start_index,
        count: r.count,
        sort_by: r.sort_by,
        sort_order: r.sort_order,
        attributes: list(r.attributes),
        excluded_attributes: list(r.excluded_attributes),
    })
}
