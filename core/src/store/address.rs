//! A user's email aliases and numbers.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct AliasRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub address: String,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct NumberRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub number: String,
    pub label: String,
    pub services: String,
    pub created_at: i64,
}

/// Holds `address` (an email address or a number) for the rest of the transaction: whoever
/// else claims it — as a sign-in address, an alias, a number or a public address, each kept in
/// its own table — waits until this one commits and then sees its claim. PostgreSQL's READ
/// COMMITTED would otherwise let two transactions each find it free; SQLite has one writer.
pub(crate) async fn hold_address(ex: Ex<'_>, address: &str) -> Result<()> {
    if let Ex::Postgres(c) = ex {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 5317))")
            .bind(address)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub(crate) async fn insert_alias(ex: Ex<'_>, a: &AliasRow) -> Result<()> {
    let sql = "INSERT INTO user_aliases (id, user_id, address, confirmed_at, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    on!(ex, c => sqlx::query(sql).bind(a.id).bind(a.user_id).bind(&a.address).bind(a.confirmed_at)
        .bind(a.created_at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user's aliases, in the order they were added.
pub(crate) async fn aliases_of(ex: Ex<'_>, user: Uuid) -> Result<Vec<AliasRow>> {
    let sql = "SELECT id, user_id, address, confirmed_at, created_at FROM user_aliases \
               WHERE user_id = $1 ORDER BY created_at, id";
    Ok(on!(ex, c => sqlx::query_as::<_, AliasRow>(sql).bind(user).fetch_all(&mut *c).await)?)
}

pub(crate) async fn find_alias(ex: Ex<'_>, id: Uuid) -> Result<Option<AliasRow>> {
    let sql = "SELECT id, user_id, address, confirmed_at, created_at FROM user_aliases \
               WHERE id = $1";
    Ok(on!(ex, c => sqlx::query_as::<_, AliasRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

/// The confirmed alias `address` is (one user's at most).
pub(crate) async fn confirmed_alias(ex: Ex<'_>, address: &str) -> Result<Option<AliasRow>> {
    let sql = "SELECT id, user_id, address, confirmed_at, created_at FROM user_aliases \
               WHERE address = $1 AND confirmed_at IS NOT NULL";
    Ok(
        on!(ex, c => sqlx::query_as::<_, AliasRow>(sql).bind(address).fetch_optional(&mut *c).await)?,
    )
}

/// Marks an alias confirmed; false when it was gone or confirmed already.
pub(crate) async fn confirm_alias(ex: Ex<'_>, id: Uuid, now: i64) -> Result<bool> {
    let sql = "UPDATE user_aliases SET confirmed_at = $2 WHERE id = $1 AND confirmed_at IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn delete_alias(ex: Ex<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM user_aliases WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every alias still waiting for `address` (other users' claims die when one is confirmed).
pub(crate) async fn delete_pending_aliases(ex: Ex<'_>, address: &str) -> Result<()> {
    let sql = "DELETE FROM user_aliases WHERE address = $1 AND confirmed_at IS NULL";
    on!(ex, c => sqlx::query(sql).bind(address).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn insert_number(ex: Ex<'_>, n: &NumberRow) -> Result<()> {
    let sql = "INSERT INTO user_numbers (id, user_id, number, label, services, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(ex, c => sqlx::query(sql).bind(n.id).bind(n.user_id).bind(&n.number).bind(&n.label)
        .bind(&n.services).bind(n.created_at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user's numbers, in the order they were added.
pub(crate) async fn numbers_of(ex: Ex<'_>, user: Uuid) -> Result<Vec<NumberRow>> {
    let sql = "SELECT id, user_id, number, label, services, created_at FROM user_numbers \
               WHERE user_id = $1 ORDER BY created_at, id";
    Ok(on!(ex, c => sqlx::query_as::<_, NumberRow>(sql).bind(user).fetch_all(&mut *c).await)?)
}

pub(crate) async fn find_number(ex: Ex<'_>, id: Uuid) -> Result<Option<NumberRow>> {
    let sql = "SELECT id, user_id, number, label, services, created_at FROM user_numbers \
               WHERE id = $1";
    Ok(on!(ex, c => sqlx::query_as::<_, NumberRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

/// The user's number `number` is, if any.
pub(crate) async fn number_owner(ex: Ex<'_>, number: &str) -> Result<Option<NumberRow>> {
    let sql = "SELECT id, user_id, number, label, services, created_at FROM user_numbers \
               WHERE number = $1";
    Ok(
        on!(ex, c => sqlx::query_as::<_, NumberRow>(sql).bind(number).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn delete_number(ex: Ex<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM user_numbers WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether a public address (email or number) is `address`.
pub(crate) async fn is_public_address(ex: Ex<'_>, address: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM public_addresses WHERE address = $1";
    let n = on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(address).fetch_one(&mut *c).await)?;
    Ok(n > 0)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct PublicRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub kind: String,
    pub address: String,
    pub label: String,
    pub created_at: i64,
}

pub(crate) async fn find_public_by_address(ex: Ex<'_>, address: &str) -> Result<Option<PublicRow>> {
    let sql = "SELECT id, node_id, kind, address, label, created_at FROM public_addresses \
               WHERE address = $1";
    Ok(
        on!(ex, c => sqlx::query_as::<_, PublicRow>(sql).bind(address).fetch_optional(&mut *c).await)?,
    )
}

/// The users who may use a public address.
pub(crate) async fn public_users(ex: Ex<'_>, address: Uuid) -> Result<Vec<Uuid>> {
    let sql = "SELECT user_id FROM public_address_users WHERE address_id = $1 ORDER BY user_id";
    Ok(on!(ex, c => sqlx::query_scalar::<_, Uuid>(sql).bind(address).fetch_all(&mut *c).await)?)
}

/// The users whose verified mobile number is `phone` (at most two: one is an answer).
pub(crate) async fn users_by_mobile(ex: Ex<'_>, phone: &str) -> Result<Vec<Uuid>> {
    let sql = "SELECT id FROM users WHERE phone = $1 AND phone_verified = TRUE LIMIT 2";
    Ok(on!(ex, c => sqlx::query_scalar::<_, Uuid>(sql).bind(phone).fetch_all(&mut *c).await)?)
}
