use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::node::{self, TreeNode};
use roster_core::domain::user::{self, ListFilter, ListSort, UserListItem};
use roster_core::model::{NodeId, UserStatus, UserType};
use serde::Deserialize;

use super::{status_key, type_key};
use crate::extract::CurrentActor;
use crate::page::{Frame, PageError, render};
use crate::state::AppState;

/// The list's state: every bit of it in the URL, so it can be shared and the back button works.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ListParams {
    pub node: String,
    pub q: String,
    #[serde(rename = "type")]
    pub user_type: String,
    pub status: String,
    pub service: String,
    pub sort: String,
    pub after: String,
}

impl ListParams {
    /// The query string of this state with `after` replaced (for the next page link).
    fn with_after(&self, after: &str) -> String {
        let pairs = [
            ("node", self.node.as_str()),
            ("q", self.q.as_str()),
            ("type", self.user_type.as_str()),
            ("status", self.status.as_str()),
            ("service", self.service.as_str()),
            ("sort", self.sort.as_str()),
            ("after", after),
        ];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

pub struct Row {
    pub item: UserListItem,
    pub type_key: &'static str,
    pub status_key: &'static str,
    pub status: &'static str,
}

/// One line of the tree as the page draws it: nested lists, so a unit with units below it
/// opens a group and the last of a group closes as many groups as it ends.
pub struct TreeLine {
    pub item: TreeNode,
    pub open: bool,
    pub closes: usize,
    pub is_unit: bool,
    /// Spaces for the unit pick list.
    pub indent: String,
}

pub fn tree_lines(tree: Vec<TreeNode>) -> Vec<TreeLine> {
    let levels: Vec<i64> = tree.iter().map(|t| t.level).collect();
    tree.into_iter()
        .enumerate()
        .map(|(i, item)| {
            let next = levels.get(i + 1).copied().unwrap_or(0);
            let open = item.has_children;
            let closes = if open {
                0
            } else {
                (item.level - next).max(0) as usize
            };
            TreeLine {
                is_unit: item.node.kind == roster_core::model::NodeKind::Unit,
                indent: "\u{a0}\u{a0}".repeat(item.level as usize),
                open,
                closes,
                item,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    frame: Frame,
    lines: Vec<TreeLine>,
    current_node: String,
    can_add_unit: bool,
    params: ListParams,
    rows: Vec<Row>,
    next_link: String,
    services: Vec<(String, String)>,
    filtered: bool,
}

pub async fn list_users(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(params): Query<ListParams>,
) -> Response {
    let node = NodeId::parse(&params.node);
    let filter = ListFilter {
        node,
        search: params.q.clone(),
        user_type: UserType::parse(&params.user_type),
        status: UserStatus::parse(&params.status),
        service: (!params.service.is_empty()).then(|| params.service.clone()),
        sort: ListSort::parse(&params.sort),
        after: (!params.after.is_empty()).then(|| params.after.clone()),
    };
    let result = async {
        if actor.primary_scope().is_none() && !actor.user_grants.is_empty() && node.is_none() {
            // A delegate administers single users only: their list, without a tree.
            let users = user::list_delegated_users(&state.ctx, &actor).await?;
            return Ok((vec![], user::ListPage { users, next: None }));
        }
        let tree = node::tree(&state.ctx, &actor, node).await?;
        let page = user::list_users(&state.ctx, &actor, &filter).await?;
        Ok::<_, roster_core::Error>((tree, page))
    }
    .await;
    let (tree, page) = match result {
        Ok(r) => r,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let current_node = tree
        .first()
        .map(|t| t.node.id.to_string())
        .unwrap_or_default();
    let can_add_unit = tree
        .first()
        .is_some_and(|t| t.node.kind != roster_core::model::NodeKind::Operator);
    let next_link = page
        .next
        .as_deref()
        .map(|n| format!("/users?{}", params.with_after(n)))
        .unwrap_or_default();
    let rows = page
        .users
        .into_iter()
        .map(|u| Row {
            type_key: type_key(u.user_type),
            status_key: status_key(u.status),
            status: u.status.as_str(),
            item: u,
        })
        .collect();
    let filtered = !(params.q.is_empty()
        && params.user_type.is_empty()
        && params.status.is_empty()
        && params.service.is_empty());
    render(
        StatusCode::OK,
        &UsersPage {
            frame: Frame::signed_in(&actor, "users"),
            lines: tree_lines(tree),
            current_node,
            can_add_unit,
            params,
            rows,
            next_link,
            services: crate::page::service_options(&state, actor.lang),
            filtered,
        },
    )
}
