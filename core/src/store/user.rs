use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub account_id: Option<Uuid>,
    pub kind: String,
    pub email: Option<String>,
    pub login: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub user_type: String,
    pub status: String,
    pub password_hash: Option<String>,
}

macro_rules! columns {
    () => {
        "id, node_id, account_id, kind, email, login, first_name, last_name, language, \
         user_type, status, password_hash"
    };
}

pub(crate) struct NewPerson<'a> {
    pub id: Uuid,
    pub node_id: Uuid,
    pub account_id: Option<Uuid>,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub language: &'a str,
    pub user_type: &'a str,
    pub status: &'a str,
    pub password_hash: Option<&'a str>,
    pub now: i64,
}

pub(crate) async fn insert_person(ex: Ex<'_>, u: NewPerson<'_>) -> Result<()> {
    let sql = "INSERT INTO users (id, node_id, account_id, kind, email, email_verified, \
               first_name, last_name, language, user_type, status, password_hash, \
               password_changed_at, created_at, updated_at) \
               VALUES ($1, $2, $3, 'person', $4, TRUE, $5, $6, $7, $8, $9, $10, $11, $11, $11)";
    on!(ex, c => sqlx::query(sql)
        .bind(u.id).bind(u.node_id).bind(u.account_id).bind(u.email).bind(u.first_name)
        .bind(u.last_name).bind(u.language).bind(u.user_type).bind(u.status)
        .bind(u.password_hash).bind(u.now)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_user_by_email(ex: Ex<'_>, email: &str) -> Result<Option<UserRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE email = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, UserRow>(sql).bind(email).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn find_user(ex: Ex<'_>, id: Uuid) -> Result<Option<UserRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, UserRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn update_language(ex: Ex<'_>, id: Uuid, language: &str, now: i64) -> Result<()> {
    let sql =
        "UPDATE users SET language = $2, updated_at = $3, version = version + 1 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(language).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Replaces the hash without touching the version: a rehash at sign-in is no edit.
pub(crate) async fn update_password_hash(ex: Ex<'_>, id: Uuid, hash: &str) -> Result<()> {
    let sql = "UPDATE users SET password_hash = $2 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(hash).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Users whose node lies in the subtree at `path`, ordered by name, first `limit`.
pub(crate) async fn list_users_in_subtree(
    ex: Ex<'_>,
    path: &str,
    limit: i64,
) -> Result<Vec<UserRow>> {
    let sql = "SELECT u.id, u.node_id, u.account_id, u.kind, u.email, u.login, u.first_name, \
               u.last_name, u.language, u.user_type, u.status, u.password_hash \
               FROM users u JOIN nodes n ON n.id = u.node_id \
               WHERE n.path >= $1 AND n.path < $2 \
               ORDER BY u.last_name, u.first_name, u.id LIMIT $3";
    let end = super::node::subtree_end(path);
    Ok(
        on!(ex, c => sqlx::query_as::<_, UserRow>(sql).bind(path).bind(&end).bind(limit)
        .fetch_all(&mut *c).await)?,
    )
}
