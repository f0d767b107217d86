//! Service settings where they are kept: a node's in `nodes.settings` (one JSON object per
//! service: `{"sms": {"sender_id": "ACME"}}`), a user's in `user_services.settings` (that
//! service's object, for a service the user has).

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

/// One node on the way up: id, name, kind and its settings (JSON text).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct NodeSettingsRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub settings: String,
}

/// The paths of the node at `path` and of every node above it, shallowest first.
pub(crate) fn ancestor_paths(path: &str) -> Vec<String> {
    path.match_indices('/')
        .skip(1)
        .map(|(i, _)| path[..=i].to_string())
        .collect()
}

/// The settings of the node at `path` and of each node above it that sets any, deepest
/// first. A node's path names its ancestors (`/<id>/<id>/…/`), so they are read at once by
/// their paths, one index lookup each, whatever the depth.
pub(crate) async fn settings_up(ex: Ex<'_>, path: &str) -> Result<Vec<NodeSettingsRow>> {
    let prefixes = ancestor_paths(path);
    if prefixes.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (1..=prefixes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, name, kind, settings FROM nodes WHERE path IN ({}) AND settings <> '{{}}' \
         ORDER BY depth DESC",
        marks.join(", ")
    );
    on!(ex, c => {
        // Only placeholders are written into the text; the paths are bound.
        let mut q = sqlx::query_as::<_, NodeSettingsRow>(sqlx::AssertSqlSafe(sql.clone()));
        for p in &prefixes {
            q = q.bind(p);
        }
        q.fetch_all(&mut *c).await
    })
    .map_err(Into::into)
}

/// A user's own settings of every service they have (service, JSON text), and the settings of
/// the nodes at and above `path` that set any (deepest first), in one query.
pub(crate) async fn settings_of_user(
    ex: Ex<'_>,
    user: Uuid,
    path: &str,
) -> Result<(Vec<(String, String)>, Vec<NodeSettingsRow>)> {
    let prefixes = ancestor_paths(path);
    let mut sql = String::from(
        "SELECT user_id AS id, service AS name, 'user' AS kind, settings, \
         CAST(-1 AS BIGINT) AS depth, 0 AS level FROM user_services WHERE user_id = $1",
    );
    if !prefixes.is_empty() {
        sql.push_str(&format!(
            " UNION ALL SELECT id, name, kind, settings, depth, 1 AS level FROM nodes \
             WHERE path IN ({}) AND settings <> '{{}}'",
            (2..=prefixes.len() + 1)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    sql.push_str(" ORDER BY level, depth DESC");
    let rows = on!(ex, c => {
        // Only placeholders are written into the text; the id and the paths are bound.
        let mut q = sqlx::query_as::<_, NodeSettingsRow>(sqlx::AssertSqlSafe(sql.clone())).bind(user);
        for p in &prefixes {
            q = q.bind(p);
        }
        q.fetch_all(&mut *c).await
    })?;
    let (own, up): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.kind == "user");
    Ok((own.into_iter().map(|r| (r.name, r.settings)).collect(), up))
}

/// A node's own settings (JSON text).
pub(crate) async fn node_settings(ex: Ex<'_>, node: Uuid) -> Result<String> {
    let sql = "SELECT settings FROM nodes WHERE id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(node).fetch_optional(&mut *c).await)?
        .unwrap_or_default())
}

/// Writes a node's settings behind the version they were read at; false when it had moved on.
pub(crate) async fn set_node_settings(
    ex: Ex<'_>,
    node: Uuid,
    expected_version: i64,
    settings: &str,
    now: i64,
) -> Result<bool> {
    let sql = "UPDATE nodes SET settings = $3, updated_at = $4, version = version + 1 \
               WHERE id = $1 AND version = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(node).bind(expected_version).bind(settings).bind(now)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A user's own settings of a service (JSON text); None when the user does not have it.
pub(crate) async fn user_settings(ex: Ex<'_>, user: Uuid, service: &str) -> Result<Option<String>> {
    let sql = "SELECT settings FROM user_services WHERE user_id = $1 AND service = $2";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(user).bind(service).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn set_user_settings(
    ex: Ex<'_>,
    user: Uuid,
    service: &str,
    settings: &str,
) -> Result<()> {
    let sql = "UPDATE user_services SET settings = $3 WHERE user_id = $1 AND service = $2";
    on!(ex, c => sqlx::query(sql).bind(user).bind(service).bind(settings).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
