//! Usage the services report, and the daily figures rolled up from it and from the audit.

use uuid::Uuid;

use super::{Ex, on, placeholders};
use crate::error::Result;

/// A user a report names, found with where they sit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Reached {
    /// What the report named them by (their id, address, alias, number or login).
    pub key: String,
    pub user_id: Uuid,
    pub node_id: Uuid,
    pub path: String,
}

/// How a report names its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum NamedBy {
    Id,
    Email,
    Number,
    Login,
}

/// Names per query (well within both engines' limits on bound values).
const CHUNK: usize = 500;

/// The users `keys` name (each key at most once in the answer; unknown keys are left out).
pub(crate) async fn reach_users(
    mut ex: Ex<'_>,
    by: NamedBy,
    keys: &[String],
) -> Result<Vec<Reached>> {
    const SELECT: &str = "SELECT u.id AS user_id, u.node_id, n.path, ";
    let mut found = vec![];
    for part in keys.chunks(CHUNK) {
        let ids: Vec<Uuid> = match by {
            NamedBy::Id => part
                .iter()
                .filter_map(|k| Uuid::parse_str(k).ok())
                .collect(),
            _ => vec![],
        };
        let count = if by == NamedBy::Id {
            ids.len()
        } else {
            part.len()
        };
        if count == 0 {
            continue;
        }
        let list = placeholders(count);
        let sql = match by {
            NamedBy::Id => format!(
                "{SELECT} CAST('' AS TEXT) AS key FROM users u JOIN nodes n ON n.id = u.node_id \
                 WHERE u.id IN ({list})"
            ),
            NamedBy::Login => format!(
                "{SELECT} u.login AS key FROM users u JOIN nodes n ON n.id = u.node_id \
                 WHERE u.login IN ({list})"
            ),
            NamedBy::Number => format!(
                "{SELECT} m.number AS key FROM user_numbers m JOIN users u ON u.id = m.user_id \
                 JOIN nodes n ON n.id = u.node_id WHERE m.number IN ({list})"
            ),
            NamedBy::Email => format!(
                "{SELECT} u.email AS key FROM users u JOIN nodes n ON n.id = u.node_id \
                 WHERE u.email IN ({list}) UNION ALL \
                 {SELECT} a.address AS key FROM user_aliases a JOIN users u ON u.id = a.user_id \
                 JOIN nodes n ON n.id = u.node_id \
                 WHERE a.address IN ({list}) AND a.confirmed_at IS NOT NULL"
            ),
        };
        let rows: Vec<Reached> = if by == NamedBy::Id {
            let mut rows: Vec<Reached> = on!(ex.re(), c => {
                let mut q = sqlx::query_as::<_, Reached>(sqlx::AssertSqlSafe(sql));
                for id in &ids {
                    q = q.bind(*id);
                }
                q.fetch_all(&mut *c).await
            })?;
            for r in &mut rows {
                r.key = r.user_id.to_string();
            }
            rows
        } else {
            on!(ex.re(), c => {
                let mut q = sqlx::query_as::<_, Reached>(sqlx::AssertSqlSafe(sql));
                for k in part {
                    q = q.bind(k.as_str());
                }
                q.fetch_all(&mut *c).await
            })?
        };
        found.extend(rows);
    }
    Ok(found)
}

/// One event to keep.
#[derive(Debug, Clone)]
pub(crate) struct UsageRow {
    pub event_id: String,
    pub user_id: Uuid,
    pub node_id: Uuid,
    pub service: String,
    pub kind: String,
    pub count: i64,
    pub at: i64,
}

/// Rows per statement (nine values each, within both engines' limits).
const INSERT_CHUNK: usize = 1_000;

/// Keeps the events not already kept for this reporter; returns how many were new.
pub(crate) async fn insert_usage(
    mut ex: Ex<'_>,
    reporter: Uuid,
    rows: &[UsageRow],
    now: i64,
) -> Result<u64> {
    let mut inserted = 0;
    for part in rows.chunks(INSERT_CHUNK) {
        let values: Vec<String> = (0..part.len())
            .map(|i| {
                let b = i * 9 + 3;
                let list: Vec<String> = (b..b + 9).map(|n| format!("${n}")).collect();
                format!("($1, {}, $2)", list.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO usage_events (reporter_id, event_id, id, user_id, node_id, service, kind, \
             count, at, day, received_at) VALUES {} ON CONFLICT (reporter_id, event_id) DO NOTHING",
            values.join(", ")
        );
        inserted += on!(ex.re(), c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(reporter).bind(now);
            for r in part {
                q = q
                    .bind(r.event_id.as_str())
                    .bind(uuid::Uuid::now_v7())
                    .bind(r.user_id)
                    .bind(r.node_id)
                    .bind(r.service.as_str())
                    .bind(r.kind.as_str())
                    .bind(r.count)
                    .bind(r.at)
                    .bind(r.at.div_euclid(86_400_000));
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(inserted)
}

/// A user's usage events, newest first, for their timeline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UsageEvent {
    pub id: Uuid,
    pub event_id: String,
    pub reporter: String,
    pub service: String,
    pub kind: String,
    pub count: i64,
    pub at: i64,
}

/// A user's usage events, narrowed by time, key and who reported them (a reporter's login or
/// address), newest first or, with `newer`, oldest first.
pub(crate) async fn user_usage(
    ex: Ex<'_>,
    user: Uuid,
    n: &super::timeline::Narrow<'_>,
) -> Result<Vec<UsageEvent>> {
    const COLUMNS: &str = "SELECT * FROM (SELECT e.id, e.event_id, \
        COALESCE((SELECT COALESCE(NULLIF(r.login, ''), r.email, '') FROM users r \
                  WHERE r.id = e.reporter_id), '') AS reporter, \
        e.service, e.kind, e.count, e.at FROM usage_events e \
        WHERE e.user_id = $1 AND e.at >= $2 AND e.at < $3 AND ";
    const REPORTER: &str = ") AS u WHERE ($7 = '' OR LOWER(u.reporter) = $7)";
    let sql = if n.newer {
        format!(
            "{COLUMNS}(e.at > $4 OR (e.at = $4 AND e.id > $5))\
             {REPORTER} ORDER BY u.at, u.id LIMIT $6"
        )
    } else {
        format!(
            "{COLUMNS}(e.at < $4 OR (e.at = $4 AND e.id < $5))\
             {REPORTER} ORDER BY u.at DESC, u.id DESC LIMIT $6"
        )
    };
    let (at, id) = n.start();
    Ok(
        on!(ex, c => sqlx::query_as::<_, UsageEvent>(sqlx::AssertSqlSafe(sql)).bind(user)
        .bind(n.from).bind(n.to).bind(at).bind(id).bind(n.limit).bind(n.actor_label.unwrap_or(""))
        .fetch_all(&mut *c).await)?,
    )
}

/// The days that events received after `since` fall on.
pub(crate) async fn days_received_since(ex: Ex<'_>, since: i64) -> Result<Vec<i64>> {
    let sql = "SELECT DISTINCT day FROM usage_events WHERE received_at > $1 ORDER BY day";
    Ok(on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(since).fetch_all(&mut *c).await)?)
}

/// The day of the oldest event in the audit trail or the usage, if any.
pub(crate) async fn first_day(ex: Ex<'_>) -> Result<Option<i64>> {
    let sql = "SELECT MIN(d) FROM (SELECT MIN(at) / 86400000 AS d FROM audit_events \
               UNION ALL SELECT MIN(day) AS d FROM usage_events) AS f";
    Ok(on!(ex, c => sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(&mut *c).await)?)
}

/// One user's total of one kind on a day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DayTotal {
    pub user_id: Uuid,
    pub metric: String,
    pub total: i64,
}

/// Each user's totals per service and kind on `day`, from the usage.
pub(crate) async fn usage_of_day(ex: Ex<'_>, day: i64) -> Result<Vec<DayTotal>> {
    let sql = "SELECT user_id, service || ':' || kind AS metric, CAST(SUM(count) AS BIGINT) AS total \
               FROM usage_events WHERE day = $1 GROUP BY user_id, service, kind";
    Ok(on!(ex, c => sqlx::query_as::<_, DayTotal>(sql).bind(day).fetch_all(&mut *c).await)?)
}

/// Each user's completed sign-ins on `day`, from the audit.
pub(crate) async fn sign_ins_of_day(ex: Ex<'_>, day: i64) -> Result<Vec<DayTotal>> {
    let sql = "SELECT actor_user_id AS user_id, CAST('sign-ins' AS TEXT) AS metric, \
               CAST(COUNT(*) AS BIGINT) AS total FROM audit_events \
               WHERE at >= $1 AND at < $2 AND actor_user_id IS NOT NULL AND outcome = 'ok' \
               AND action IN ('sign-in', 'sign-in.mfa', 'sign-in.enrolled') \
               GROUP BY actor_user_id";
    let start = day * 86_400_000;
    Ok(
        on!(ex, c => sqlx::query_as::<_, DayTotal>(sql).bind(start).bind(start + 86_400_000)
        .fetch_all(&mut *c).await)?,
    )
}

/// Where users sit now (the path of their node), for those of `ids` that still exist.
pub(crate) async fn paths_of(mut ex: Ex<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    let mut out = vec![];
    for part in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT u.id, n.path FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.id IN ({})",
            placeholders(part.len())
        );
        let rows: Vec<(Uuid, String)> = on!(ex.re(), c => {
            let mut q = sqlx::query_as::<_, (Uuid, String)>(sqlx::AssertSqlSafe(sql));
            for id in part {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Replaces a day's figures with `rows` (`(subject, metric, value)`).
pub(crate) async fn replace_day(
    mut ex: Ex<'_>,
    day: i64,
    rows: &[(Uuid, String, i64)],
) -> Result<()> {
    on!(ex.re(), c => sqlx::query("DELETE FROM stats_daily WHERE day = $1").bind(day)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    for part in rows.chunks(INSERT_CHUNK) {
        let values: Vec<String> = (0..part.len())
            .map(|i| format!("(${}, $1, ${}, ${})", i * 3 + 2, i * 3 + 3, i * 3 + 4))
            .collect();
        let sql = format!(
            "INSERT INTO stats_daily (subject, day, metric, value) VALUES {}",
            values.join(", ")
        );
        on!(ex.re(), c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day);
            for (subject, metric, value) in part {
                q = q.bind(*subject).bind(metric.as_str()).bind(*value);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// One figure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Figure {
    pub day: i64,
    pub metric: String,
    pub value: i64,
}

/// A subject's figures from day `from` to day `to`, both included.
pub(crate) async fn figures(ex: Ex<'_>, subject: Uuid, from: i64, to: i64) -> Result<Vec<Figure>> {
    let sql = "SELECT day, metric, value FROM stats_daily WHERE subject = $1 AND day >= $2 \
               AND day <= $3 ORDER BY day, metric";
    Ok(
        on!(ex, c => sqlx::query_as::<_, Figure>(sql).bind(subject).bind(from).bind(to)
        .fetch_all(&mut *c).await)?,
    )
}

/// How far the roll-up has read, and when it last finished.
pub(crate) async fn rollup_state(ex: Ex<'_>) -> Result<Option<(i64, i64)>> {
    let sql = "SELECT watermark, updated_at FROM stats_rollups WHERE id = 1";
    Ok(on!(ex, c => sqlx::query_as::<_, (i64, i64)>(sql).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn set_rollup_state(ex: Ex<'_>, watermark: i64, now: i64) -> Result<()> {
    let sql = "INSERT INTO stats_rollups (id, watermark, updated_at) VALUES (1, $1, $2) \
               ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark, \
               updated_at = excluded.updated_at";
    on!(ex, c => sqlx::query(sql).bind(watermark).bind(now).execute(&mut *c).await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes usage events of days before `day`, a batch at a time; returns how many went.
pub(crate) async fn purge_usage(ex: Ex<'_>, day: i64, limit: i64) -> Result<u64> {
    let sql = "DELETE FROM usage_events WHERE (reporter_id, event_id) IN \
               (SELECT reporter_id, event_id FROM usage_events WHERE day < $1 LIMIT $2)";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(day).bind(limit).execute(&mut *c).await
        .map(|r| r.rows_affected()))?,
    )
}

/// Every user of an account with their node (the data generator's).
pub(crate) async fn users_of_account(ex: Ex<'_>, account: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
    let sql = "SELECT id, node_id FROM users WHERE account_id = $1 AND kind = 'person' ORDER BY id";
    Ok(on!(ex, c => sqlx::query_as::<_, (Uuid, Uuid)>(sql).bind(account).fetch_all(&mut *c).await)?)
}
