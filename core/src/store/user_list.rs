//! The Users list: search, filters, sorting and keyset paging, in one query built from parts.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    Name,
    Created,
}

/// Which index drives the query: the planner cannot know how selective a search or a unit is,
/// so the domain counts first (cheaply) and says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Walk the account's users in sort order, filtering (many rows match).
    Account,
    /// Start from the few search-term matches, then sort them.
    Terms,
    /// Start from the users of these few nodes, then sort them.
    Nodes(Vec<Uuid>),
}

#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub plan: Plan,
    pub account_id: Uuid,
    /// Only users in the subtree at this path (a unit filter, or a unit administrator's scope).
    pub path: Option<String>,
    /// Lower-case prefix matched against the users' search terms.
    pub search: Option<String>,
    pub user_type: Option<String>,
    pub status: Option<String>,
    pub service: Option<String>,
    pub sort: Sort,
    pub descending: bool,
    /// The last row of the previous page: (sort key, id).
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ListRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub node_name: String,
    pub kind: String,
    pub email: Option<String>,
    pub login: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub friendly_name: String,
    pub sort_name: String,
    pub user_type: String,
    pub status: String,
}

enum Arg {
    Text(String),
    Id(Uuid),
}

/// One page of users; the caller asks for one more than it shows to know if a next page exists.
pub(crate) async fn list_users(ex: Ex<'_>, q: &ListQuery) -> Result<Vec<ListRow>> {
    const COLUMNS: &str = "u.id, u.node_id, n.name AS node_name, u.kind, u.email, u.login, \
        u.first_name, u.last_name, u.friendly_name, u.sort_name, u.user_type, u.status";
    let mut args = vec![Arg::Id(q.account_id)];
    let mut sql = match (&q.plan, &q.search) {
        (Plan::Terms, Some(_)) => format!(
            "SELECT DISTINCT {COLUMNS} FROM user_terms t JOIN users u ON u.id = t.user_id \
             JOIN nodes n ON n.id = u.node_id WHERE t.account_id = $1"
        ),
        _ => format!(
            "SELECT {COLUMNS} FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.account_id = $1"
        ),
    };
    let mut push = |sql: &mut String, clause: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(path) = &q.path {
        push(&mut sql, " AND n.path >= ?", Arg::Text(path.clone()));
        push(
            &mut sql,
            " AND n.path < ?",
            Arg::Text(super::node::subtree_end(path)),
        );
    }
    if let Plan::Nodes(nodes) = &q.plan {
        for (i, id) in nodes.iter().enumerate() {
            let open = if i == 0 { " AND u.node_id IN (" } else { ", " };
            push(&mut sql, &format!("{open}?"), Arg::Id(*id));
        }
        sql.push_str(if nodes.is_empty() { " AND 1 = 0" } else { ")" });
    }
    match (&q.plan, &q.search) {
        (Plan::Terms, Some(s)) => {
            push(&mut sql, " AND t.term >= ?", Arg::Text(s.clone()));
            push(
                &mut sql,
                " AND t.term < ?",
                Arg::Text(format!("{s}\u{10FFFF}")),
            );
        }
        (_, Some(s)) => {
            push(
                &mut sql,
                " AND u.id IN (SELECT t.user_id FROM user_terms t WHERE t.account_id = ?",
                Arg::Id(q.account_id),
            );
            push(&mut sql, " AND t.term >= ?", Arg::Text(s.clone()));
            push(
                &mut sql,
                " AND t.term < ?)",
                Arg::Text(format!("{s}\u{10FFFF}")),
            );
        }
        (_, None) => {}
    }
    if let Some(t) = &q.user_type {
        push(&mut sql, " AND u.user_type = ?", Arg::Text(t.clone()));
    }
    if let Some(s) = &q.status {
        push(&mut sql, " AND u.status = ?", Arg::Text(s.clone()));
    }
    if let Some(s) = &q.service {
        push(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM user_services s WHERE s.user_id = u.id AND s.service = ?)",
            Arg::Text(s.clone()),
        );
    }
    let (cmp, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    match (q.sort, &q.after) {
        (Sort::Name, Some((key, id))) => {
            push(
                &mut sql,
                &format!(" AND (u.sort_name {cmp} ?"),
                Arg::Text(key.clone()),
            );
            push(&mut sql, " OR (u.sort_name = ?", Arg::Text(key.clone()));
            push(&mut sql, &format!(" AND u.id {cmp} ?))"), Arg::Id(*id));
        }
        (Sort::Created, Some((_, id))) => {
            push(&mut sql, &format!(" AND u.id {cmp} ?"), Arg::Id(*id))
        }
        (_, None) => {}
    }
    match q.sort {
        Sort::Name => sql.push_str(&format!(" ORDER BY u.sort_name {dir}, u.id {dir}")),
        Sort::Created => sql.push_str(&format!(" ORDER BY u.id {dir}")),
    }
    sql.push_str(&format!(" LIMIT {}", q.limit.clamp(1, 501)));
    let rows = on!(ex, c => {
        let mut query = sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql.clone()));
        for a in &args {
            query = match a {
                Arg::Text(s) => query.bind(s.clone()),
                Arg::Id(id) => query.bind(*id),
            };
        }
        query.fetch_all(&mut *c).await
    })?;
    Ok(rows)
}

/// These users (at most 500), by name: a delegate's list.
pub(crate) async fn list_users_by_ids(ex: Ex<'_>, ids: &[Uuid]) -> Result<Vec<ListRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let ids = &ids[..ids.len().min(500)];
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT u.id, u.node_id, n.name AS node_name, u.kind, u.email, u.login, u.first_name, \
         u.last_name, u.friendly_name, u.sort_name, u.user_type, u.status \
         FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.id IN ({}) ORDER BY u.sort_name, u.id",
        placeholders.join(", ")
    );
    Ok(on!(ex, c => {
        let mut q = sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql.clone()));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut *c).await
    })?)
}

/// How many search terms start with `prefix`, counting no further than `cap`.
pub(crate) async fn count_term_matches(
    ex: Ex<'_>,
    account: Uuid,
    prefix: &str,
    cap: i64,
) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM user_terms WHERE account_id = $1 AND term >= $2 \
               AND term < $3 LIMIT $4) AS m";
    let end = format!("{prefix}\u{10FFFF}");
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(account).bind(prefix).bind(&end).bind(cap).fetch_one(&mut *c).await)?,
    )
}
