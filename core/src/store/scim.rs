//! SCIM tokens and the providers' external ids.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ScimTokenRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub name: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    // The token's node, read with it.
    pub node_kind: String,
    pub node_name: String,
    pub node_path: String,
    pub account_id: Uuid,
}

pub(crate) async fn insert_token(
    ex: Ex<'_>,
    id: Uuid,
    hash: &[u8],
    node: Uuid,
    name: &str,
    created_by: Option<Uuid>,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO scim_tokens (id, token_hash, node_id, name, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(ex, c => sqlx::query(sql).bind(id).bind(hash).bind(node).bind(name).bind(created_by)
        .bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_token(ex: Ex<'_>, hash: &[u8]) -> Result<Option<ScimTokenRow>> {
    let sql = "SELECT t.id, t.node_id, t.name, t.revoked_at, t.last_used_at, n.kind AS node_kind, \
               n.name AS node_name, n.path AS node_path, n.account_id \
               FROM scim_tokens t JOIN nodes n ON n.id = t.node_id WHERE t.token_hash = $1";
    Ok(
        on!(ex, c => sqlx::query_as::<_, ScimTokenRow>(sql).bind(hash).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn touch_token(ex: Ex<'_>, id: Uuid, now: i64) -> Result<()> {
    let sql = "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// How storing the provider's side of a user went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    Yes,
    /// Another user of the account has the userName (without case) or the external id.
    Taken,
}

/// Stores a user's userName, external id and document, in one statement.
pub(crate) async fn put_user_document(
    ex: Ex<'_>,
    user: Uuid,
    account: Uuid,
    user_name: &str,
    external_id: Option<&str>,
    document: &str,
) -> Result<Kept> {
    let sql = "INSERT INTO scim_users \
                 (user_id, account_id, user_name, user_name_key, external_id, document) \
               VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (user_id) DO UPDATE SET account_id = excluded.account_id, \
                 user_name = excluded.user_name, user_name_key = excluded.user_name_key, \
                 external_id = excluded.external_id, document = excluded.document";
    let r = on!(ex, c => sqlx::query(sql).bind(user).bind(account).bind(user_name)
        .bind(user_name.to_lowercase()).bind(external_id).bind(document).execute(&mut *c).await
        .map(|r| r.rows_affected()));
    match r {
        Ok(_) => Ok(Kept::Yes),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Kept::Taken),
        Err(e) => Err(e.into()),
    }
}

/// The userName range query. `$email` is the email column as the engine orders it bytewise;
/// `$join`/`$scope` narrow to a subtree (empty for a token of the whole account, which then
/// reads two indexes and nothing else).
macro_rules! name_range {
    ($email:literal, $join:literal, $scope:literal, $what:literal, $tail:expr) => {
        concat!(
            "SELECT ",
            $what,
            " FROM (",
            "SELECT s.user_id AS id, s.user_name_key AS k FROM scim_users s ",
            $join,
            "WHERE s.account_id = $1 AND s.user_name_key >= $2 AND s.user_name_key < $3 ",
            $scope,
            "UNION ALL ",
            "SELECT u.id AS id, u.email AS k FROM users u ",
            "WHERE u.account_id = $1 AND u.scim_named = FALSE AND ",
            $email,
            " >= $2 AND ",
            $email,
            " < $3 AND u.kind = 'person' ",
            $scope,
            ") m ",
            $tail
        )
    };
}

/// The four shapes of the range query for one engine: (subtree, account) × (page, count). The
/// page's limit and offset follow the last other parameter.
macro_rules! name_range_sqls {
    ($email:literal, $order:literal) => {
        [
            [
                name_range!(
                    $email,
                    "JOIN users u ON u.id = s.user_id ",
                    "AND EXISTS (SELECT 1 FROM nodes n WHERE n.id = u.node_id AND n.path LIKE $4) ",
                    "id",
                    concat!($order, " LIMIT $5 OFFSET $6")
                ),
                name_range!(
                    $email,
                    "JOIN users u ON u.id = s.user_id ",
                    "AND EXISTS (SELECT 1 FROM nodes n WHERE n.id = u.node_id AND n.path LIKE $4) ",
                    "COUNT(*)",
                    ""
                ),
            ],
            [
                name_range!($email, "", "", "id", concat!($order, " LIMIT $4 OFFSET $5")),
                name_range!($email, "", "", "COUNT(*)", ""),
            ],
        ]
    };
}

const SQLITE_RANGE: [[&str; 2]; 2] = name_range_sqls!("u.email", "ORDER BY k");
const POSTGRES_RANGE: [[&str; 2]; 2] =
    name_range_sqls!("(u.email COLLATE \"C\")", "ORDER BY k COLLATE \"C\"");

/// Where a range lookup looks: a subtree (a unit's token), or the whole account.
#[derive(Clone, Copy)]
pub(crate) enum Within<'a> {
    Subtree(&'a str),
    Account,
}

/// Users of an account whose userName (in lower case) lies in `[lo, hi)`, in userName order:
/// those a provider named by their stored userName, the others by their email address. Both
/// come from an index, at any size.
pub(crate) async fn users_by_name_range(
    ex: Ex<'_>,
    account: Uuid,
    within: Within<'_>,
    (lo, hi): (&str, &str),
    limit: i64,
    offset: i64,
) -> Result<Vec<Uuid>> {
    macro_rules! run {
        ($c:expr, $sqls:expr) => {{
            let q = match within {
                Within::Subtree(path) => sqlx::query_scalar::<_, Uuid>($sqls[0][0])
                    .bind(account)
                    .bind(lo)
                    .bind(hi)
                    .bind(format!("{path}%")),
                Within::Account => sqlx::query_scalar::<_, Uuid>($sqls[1][0])
                    .bind(account)
                    .bind(lo)
                    .bind(hi),
            };
            q.bind(limit).bind(offset).fetch_all(&mut *$c).await?
        }};
    }
    Ok(match ex {
        Ex::Sqlite(c) => run!(c, SQLITE_RANGE),
        Ex::Postgres(c) => run!(c, POSTGRES_RANGE),
    })
}

/// How many users `users_by_name_range` would give without a limit.
pub(crate) async fn count_by_name_range(
    ex: Ex<'_>,
    account: Uuid,
    within: Within<'_>,
    (lo, hi): (&str, &str),
) -> Result<i64> {
    macro_rules! run {
        ($c:expr, $sqls:expr) => {{
            let q = match within {
                Within::Subtree(path) => sqlx::query_scalar::<_, i64>($sqls[0][1])
                    .bind(account)
                    .bind(lo)
                    .bind(hi)
                    .bind(format!("{path}%")),
                Within::Account => sqlx::query_scalar::<_, i64>($sqls[1][1])
                    .bind(account)
                    .bind(lo)
                    .bind(hi),
            };
            q.fetch_one(&mut *$c).await?
        }};
    }
    Ok(match ex {
        Ex::Sqlite(c) => run!(c, SQLITE_RANGE),
        Ex::Postgres(c) => run!(c, POSTGRES_RANGE),
    })
}

/// The user of an account a provider gave this external id.
pub(crate) async fn user_by_external_id(
    ex: Ex<'_>,
    account: Uuid,
    external: &str,
) -> Result<Option<Uuid>> {
    let sql = "SELECT user_id FROM scim_users WHERE account_id = $1 AND external_id = $2";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, Uuid>(sql).bind(account).bind(external).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn group_external_id(ex: Ex<'_>, node: Uuid) -> Result<Option<String>> {
    let sql = "SELECT external_id FROM scim_groups WHERE node_id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(node).fetch_optional(&mut *c).await)?)
}

/// Sets (or with None removes) a group's external id; false when another group of the
/// account has it.
pub(crate) async fn set_group_external_id(
    ex: Ex<'_>,
    node: Uuid,
    account: Uuid,
    external: Option<&str>,
) -> Result<bool> {
    on!(ex, c => {
        if let Some(e) = external {
            let holder = sqlx::query_scalar::<_, Uuid>(
                "SELECT node_id FROM scim_groups WHERE account_id = $1 AND external_id = $2")
                .bind(account).bind(e).fetch_optional(&mut *c).await?;
            if holder.is_some_and(|h| h != node) {
                return Ok(false);
            }
        }
        sqlx::query("DELETE FROM scim_groups WHERE node_id = $1").bind(node).execute(&mut *c).await?;
        if let Some(e) = external {
            sqlx::query("INSERT INTO scim_groups (node_id, account_id, external_id) VALUES ($1, $2, $3)")
                .bind(node).bind(account).bind(e).execute(&mut *c).await?;
        }
        Ok(true)
    })
}

/// Benchmarks: gives every person user of an account that has none a provider's userName (its
/// address) and an empty document, as if a provider had provisioned them; returns how many.
pub(crate) async fn adopt_account_users(ex: Ex<'_>, account: Uuid) -> Result<u64> {
    // The flag first, in one statement (the trigger then has nothing to do row by row).
    let flag = "UPDATE users SET scim_named = TRUE \
                WHERE account_id = $1 AND kind = 'person' AND scim_named = FALSE";
    let sql = "INSERT INTO scim_users (user_id, account_id, user_name, user_name_key, document) \
               SELECT u.id, u.account_id, u.email, u.email, '{}' FROM users u \
                WHERE u.account_id = $1 AND u.kind = 'person' \
                  AND NOT EXISTS (SELECT 1 FROM scim_users s WHERE s.user_id = u.id)";
    Ok(on!(ex, c => {
        sqlx::query(flag).bind(account).execute(&mut *c).await?;
        sqlx::query(sql).bind(account).execute(&mut *c).await.map(|r| r.rows_affected())
    })?)
}

/// Benchmarks: every userName of an account's person users (the provider's, else the address).
pub(crate) async fn all_user_names(ex: Ex<'_>, account: Uuid) -> Result<Vec<String>> {
    let sql = "SELECT COALESCE(s.user_name, u.email) FROM users u \
               LEFT JOIN scim_users s ON s.user_id = u.id \
               WHERE u.account_id = $1 AND u.kind = 'person'";
    Ok(on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(account).fetch_all(&mut *c).await)?)
}

/// Whether any of these userNames (in lower case) is taken in the account by a user other than
/// `except`: a provider's userName, or the address of a user no provider named.
pub(crate) async fn any_user_name_taken(
    ex: Ex<'_>,
    account: Uuid,
    keys: &[String],
    except: Option<Uuid>,
) -> Result<bool> {
    if keys.is_empty() {
        return Ok(false);
    }
    let list = (3..keys.len() + 3)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM scim_users WHERE account_id = $1 AND user_name_key IN ({list}) \
                        AND user_id <> $2) \
             OR EXISTS (SELECT 1 FROM users u WHERE u.email IN ({list}) \
                        AND u.account_id = $1 AND u.kind = 'person' AND u.scim_named = FALSE \
                        AND u.id <> $2)"
    );
    on!(ex, c => {
        let mut q = sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(except.unwrap_or(Uuid::nil()));
        for k in keys {
            q = q.bind(k);
        }
        Ok(q.fetch_one(&mut *c).await?)
    })
}
