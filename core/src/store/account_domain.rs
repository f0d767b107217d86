//! An account's "Administered" switch and its email domains.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

pub(crate) async fn administered(ex: Ex<'_>, account: Uuid) -> Result<bool> {
    let sql = "SELECT administered FROM nodes WHERE id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, bool>(sql).bind(account).fetch_optional(&mut *c).await)?
        .unwrap_or(false))
}

pub(crate) async fn set_administered(ex: Ex<'_>, account: Uuid, on_: bool, now: i64) -> Result<()> {
    let sql =
        "UPDATE nodes SET administered = $2, updated_at = $3, version = version + 1 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(account).bind(on_).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Days the account keeps its audit events, if it set any.
pub(crate) async fn retention_of(ex: Ex<'_>, account: Uuid) -> Result<Option<i64>> {
    let sql = "SELECT audit_retention_days FROM nodes WHERE id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, Option<i64>>(sql).bind(account).fetch_optional(&mut *c).await)?
        .flatten())
}

pub(crate) async fn set_retention(ex: Ex<'_>, account: Uuid, days: Option<i64>) -> Result<()> {
    let sql = "UPDATE nodes SET audit_retention_days = $2 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(account).bind(days).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The account's domains, in order.
pub(crate) async fn domains_of(ex: Ex<'_>, account: Uuid) -> Result<Vec<String>> {
    let sql = "SELECT domain FROM account_domains WHERE account_id = $1 ORDER BY domain";
    Ok(on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(account).fetch_all(&mut *c).await)?)
}

/// The account a domain belongs to, if any.
pub(crate) async fn owner_of(ex: Ex<'_>, domain: &str) -> Result<Option<Uuid>> {
    let sql = "SELECT account_id FROM account_domains WHERE domain = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, Uuid>(sql).bind(domain).fetch_optional(&mut *c).await)?)
}

/// Gives the account exactly these domains (each free or already its own).
pub(crate) async fn replace_domains(
    ex: Ex<'_>,
    account: Uuid,
    domains: &[String],
    now: i64,
) -> Result<()> {
    on!(ex, c => {
        sqlx::query("DELETE FROM account_domains WHERE account_id = $1").bind(account).execute(&mut *c).await?;
        for d in domains {
            sqlx::query("INSERT INTO account_domains (domain, account_id, created_at) VALUES ($1, $2, $3)")
                .bind(d).bind(account).bind(now).execute(&mut *c).await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}
