//! The Users list: search, filters, sorting and keyset paging within the actor's scope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::context::Ctx;
use crate::domain::Actor;
use crate::domain::node::node_in_scope;
use crate::error::{Error, Result};
use crate::model::{NodeId, UserId, UserStatus, UserType};
use crate::store::{
    self,
    user_list::{ListQuery, Plan, Sort},
};

pub const PAGE_SIZE: i64 = 50;
/// Up to this many matches, a search starts from the matches; up to twice this many users, a
/// unit's list starts from its units' users.
const FEW: i64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListSort {
    #[default]
    NameAsc,
    NameDesc,
    Newest,
    Oldest,
}

impl ListSort {
    pub const ALL: [ListSort; 4] = [
        ListSort::NameAsc,
        ListSort::NameDesc,
        ListSort::Newest,
        ListSort::Oldest,
    ];

    /// The order a name stands for; an unknown name is the default order (the portal's links).
    pub fn parse(s: &str) -> ListSort {
        match s {
            "name-desc" => ListSort::NameDesc,
            "newest" => ListSort::Newest,
            "oldest" => ListSort::Oldest,
            _ => ListSort::NameAsc,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ListSort::NameAsc => "name",
            ListSort::NameDesc => "name-desc",
            ListSort::Newest => "newest",
            ListSort::Oldest => "oldest",
        }
    }
}

/// The list's state, as the URL carries it.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// The subtree to list (default: the actor's widest scope).
    pub node: Option<NodeId>,
    pub search: String,
    pub user_type: Option<UserType>,
    pub status: Option<UserStatus>,
    pub service: Option<String>,
    pub sort: ListSort,
    /// The opaque cursor of the page to show (from the previous page's `next`).
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UserListItem {
    pub id: UserId,
    pub name: String,
    pub friendly_name: String,
    pub email: String,
    pub is_system: bool,
    pub node_id: NodeId,
    pub node_name: String,
    pub user_type: UserType,
    pub status: UserStatus,
}

#[derive(Debug, Clone)]
pub struct ListPage {
    pub users: Vec<UserListItem>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

fn encode_cursor(key: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{id}|{key}"))
}

fn decode_cursor(s: &str) -> Option<(String, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (id, key) = text.split_once('|')?;
    // A key Roster made never holds a control character (PostgreSQL refuses NUL in text).
    if key.chars().any(char::is_control) {
        return None;
    }
    Some((key.to_string(), Uuid::try_parse(id).ok()?))
}

fn item(u: store::user_list::ListRow) -> UserListItem {
    UserListItem {
        id: UserId(u.id),
        name: format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_string(),
        friendly_name: u.friendly_name,
        email: u.email.or(u.login).unwrap_or_default(),
        is_system: u.kind == "system",
        node_id: NodeId(u.node_id),
        node_name: u.node_name,
        user_type: UserType::parse(&u.user_type).unwrap_or(UserType::User),
        status: UserStatus::parse(&u.status).unwrap_or(UserStatus::Disabled),
    }
}

/// The users a delegate was given "Access" to , by name.
pub async fn list_delegated_users(ctx: &Ctx, actor: &Actor) -> Result<Vec<UserListItem>> {
    let ids: Vec<Uuid> = actor.user_grants.iter().map(|u| u.0).collect();
    let mut conn = ctx.db.conn().await?;
    Ok(store::user_list::list_users_by_ids(conn.ex(), &ids)
        .await?
        .into_iter()
        .map(item)
        .collect())
}

/// One page of the users in the subtree `filter.node` (which the actor must administer).
pub async fn list_users(ctx: &Ctx, actor: &Actor, filter: &ListFilter) -> Result<ListPage> {
    let top = filter
        .node
        .or(actor.primary_scope().map(|s| s.node_id))
        .ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    let node = node_in_scope(conn.ex(), actor, top.0).await?;
    let tenant = store::node::get_node(conn.ex(), node.account_id).await?;
    let after = match &filter.after {
        Some(c) => Some(decode_cursor(c).ok_or(Error::field("after", "error-invalid"))?),
        None => None,
    };
    let search: String = filter
        .search
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    let (sort, descending) = match filter.sort {
        ListSort::NameAsc => (Sort::Name, false),
        ListSort::NameDesc => (Sort::Name, true),
        ListSort::Newest => (Sort::Created, true),
        ListSort::Oldest => (Sort::Created, false),
    };
    // Few matches are found fastest from their own index, many by walking the sorted list.
    let path = (node.id != tenant.id).then(|| node.path.clone());
    let plan = if !search.is_empty() {
        let matches =
            store::user_list::count_term_matches(conn.ex(), node.account_id, &search, FEW + 1)
                .await?;
        if matches <= FEW {
            Plan::Terms
        } else {
            Plan::Account
        }
    } else if let Some(p) = &path {
        let nodes = store::node::list_tenant_nodes(conn.ex(), p, node.account_id).await?;
        let users: i64 = nodes.iter().map(|n| n.user_count).sum();
        if users <= FEW * 2 {
            Plan::Nodes(nodes.iter().map(|n| n.id).collect())
        } else {
            Plan::Account
        }
    } else {
        Plan::Account
    };
    let query = ListQuery {
        plan,
        account_id: node.account_id,
        // The whole tenant needs no path filter; a unit does.
        path,
        search: (!search.is_empty()).then_some(search),
        user_type: filter.user_type.map(|t| t.as_str().to_string()),
        status: filter.status.map(|s| s.as_str().to_string()),
        service: filter
            .service
            .clone()
            .filter(|s| ctx.settings.catalog.has(s)),
        sort,
        descending,
        after,
        limit: PAGE_SIZE + 1,
    };
    let mut rows = store::user_list::list_users(conn.ex(), &query).await?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| encode_cursor(&r.sort_name, r.id))
    } else {
        None
    };
    Ok(ListPage {
        users: rows.into_iter().map(item).collect(),
        next,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cursors_round_trip() {
        let id = uuid::Uuid::now_v7();
        let c = super::encode_cursor("smith anna|x", id);
        assert_eq!(
            super::decode_cursor(&c),
            Some(("smith anna|x".to_string(), id))
        );
        assert_eq!(super::decode_cursor("garbage"), None);
    }
}
