use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub account_id: Uuid,
    pub kind: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub email_pending: Option<String>,
    pub login: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub friendly_name: String,
    pub sort_name: String,
    pub phone: Option<String>,
    pub country_code: String,
    pub language: String,
    pub user_type: String,
    pub status: String,
    pub password_hash: Option<String>,
    pub password_must_change: bool,
    pub notes: String,
    pub receive_invoices: bool,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub mfa_required: bool,
    pub invite_message: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "id, node_id, account_id, kind, email, email_verified, email_pending, login, first_name, \
         last_name, friendly_name, sort_name, phone, country_code, language, user_type, status, \
         password_hash, password_must_change, notes, receive_invoices, notifications_enabled, \
         notify_email, notify_sms, mfa_required, invite_message, version, created_at, updated_at"
    };
}

pub(crate) use columns as user_columns;

/// Inserts a user; `scim_named` says an identity provider names it (its userName is the
/// provider's, kept in `scim_users`).
pub(crate) async fn insert_user(ex: Ex<'_>, u: &UserRow, scim_named: bool) -> Result<()> {
    let sql = concat!(
        "INSERT INTO users (",
        columns!(),
        ", scim_named) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, \
         $30)"
    );
    on!(ex, c => sqlx::query(sql)
        .bind(u.id).bind(u.node_id).bind(u.account_id).bind(&u.kind).bind(&u.email)
        .bind(u.email_verified).bind(&u.email_pending).bind(&u.login).bind(&u.first_name)
        .bind(&u.last_name).bind(&u.friendly_name).bind(&u.sort_name).bind(&u.phone)
        .bind(&u.country_code).bind(&u.language).bind(&u.user_type).bind(&u.status)
        .bind(&u.password_hash).bind(u.password_must_change).bind(&u.notes)
        .bind(u.receive_invoices).bind(u.notifications_enabled).bind(u.notify_email)
        .bind(u.notify_sms).bind(u.mfa_required).bind(&u.invite_message).bind(u.version)
        .bind(u.created_at).bind(u.updated_at).bind(scim_named)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes every editable column when the stored version is still `expected_version`, and
/// bumps it; false when someone else saved in between.
pub(crate) async fn update_user(ex: Ex<'_>, u: &UserRow, expected_version: i64) -> Result<bool> {
    // A changed phone number is no longer verified.
    let sql = "UPDATE users SET node_id = $2, account_id = $3, email = $4, email_verified = $5, \
               phone_verified = CASE WHEN COALESCE(phone, '') = COALESCE($11, '') THEN phone_verified ELSE FALSE END, \
               email_pending = $6, first_name = $7, last_name = $8, friendly_name = $9, \
               sort_name = $10, phone = $11, country_code = $12, language = $13, user_type = $14, \
               status = $15, password_hash = $16, password_must_change = $17, notes = $18, \
               receive_invoices = $19, notifications_enabled = $20, notify_email = $21, \
               notify_sms = $22, mfa_required = $23, invite_message = $24, updated_at = $25, \
               version = version + 1 \
               WHERE id = $1 AND version = $26";
    let n = on!(ex, c => sqlx::query(sql)
        .bind(u.id).bind(u.node_id).bind(u.account_id).bind(&u.email).bind(u.email_verified)
        .bind(&u.email_pending).bind(&u.first_name).bind(&u.last_name).bind(&u.friendly_name)
        .bind(&u.sort_name).bind(&u.phone).bind(&u.country_code).bind(&u.language)
        .bind(&u.user_type).bind(&u.status).bind(&u.password_hash).bind(u.password_must_change)
        .bind(&u.notes).bind(u.receive_invoices).bind(u.notifications_enabled).bind(u.notify_email)
        .bind(u.notify_sms).bind(u.mfa_required).bind(&u.invite_message).bind(u.updated_at)
        .bind(expected_version)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn find_user(ex: Ex<'_>, id: Uuid) -> Result<Option<UserRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, UserRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

/// A user as SCIM shows it: the row, its unit, and what the provider keeps beside it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ScimView {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub node_name: String,
    pub node_path: String,
    pub scim_user_name: Option<String>,
    pub scim_document: Option<String>,
    pub scim_external_id: Option<String>,
}

/// The users with these ids as SCIM shows them, in one query (any order; unknown ids are left
/// out).
pub(crate) async fn scim_views(ex: Ex<'_>, ids: &[Uuid]) -> Result<Vec<ScimView>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        concat!(
            "SELECT ",
            columns!(),
            ", ",
            "(SELECT n.name FROM nodes n WHERE n.id = users.node_id) AS node_name, ",
            "(SELECT n.path FROM nodes n WHERE n.id = users.node_id) AS node_path, ",
            "(SELECT s.user_name FROM scim_users s WHERE s.user_id = users.id) AS scim_user_name, ",
            "(SELECT s.document FROM scim_users s WHERE s.user_id = users.id) AS scim_document, ",
            "(SELECT s.external_id FROM scim_users s WHERE s.user_id = users.id) ",
            "AS scim_external_id FROM users WHERE id IN ({})"
        ),
        super::placeholders(ids.len())
    );
    on!(ex, c => {
        let mut q = sqlx::query_as::<_, ScimView>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(&mut *c).await?)
    })
}

pub(crate) async fn find_user_by_email(ex: Ex<'_>, email: &str) -> Result<Option<UserRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE email = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, UserRow>(sql).bind(email).fetch_optional(&mut *c).await)?)
}

/// A user with the path of their node, and how they were found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PlacedUser {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub node_path: String,
    /// 0: by the user's own column (email, login, id); 1: by an alias or a number of theirs.
    pub via: i64,
}

/// What a user is found by, with their node's path, in one query.
pub(crate) enum FindBy<'a> {
    /// The sign-in address, else a confirmed alias.
    Email(&'a str),
    /// A number connected to the user.
    Number(&'a str),
    Login(&'a str),
    Id(Uuid),
}

macro_rules! placed {
    ($via:literal, $where:literal) => {
        concat!(
            "SELECT ",
            columns!(),
            ", (SELECT n.path FROM nodes n WHERE n.id = users.node_id) AS node_path, CAST(",
            $via,
            " AS BIGINT) AS via FROM users WHERE ",
            $where
        )
    };
}

pub(crate) async fn find_placed_user(ex: Ex<'_>, by: FindBy<'_>) -> Result<Option<PlacedUser>> {
    const BY_EMAIL: &str = concat!(
        placed!(0, "email = $1"),
        " UNION ALL ",
        placed!(
            1,
            "id = (SELECT a.user_id FROM user_aliases a WHERE a.address = $1 \
             AND a.confirmed_at IS NOT NULL)"
        ),
        " ORDER BY via LIMIT 1"
    );
    const BY_NUMBER: &str = placed!(
        1,
        "id = (SELECT m.user_id FROM user_numbers m WHERE m.number = $1)"
    );
    const BY_LOGIN: &str = placed!(0, "login = $1");
    const BY_ID: &str = placed!(0, "id = $1");
    let (sql, text) = match by {
        FindBy::Email(t) => (BY_EMAIL, t),
        FindBy::Number(t) => (BY_NUMBER, t),
        FindBy::Login(t) => (BY_LOGIN, t),
        FindBy::Id(id) => {
            return Ok(on!(ex, c => sqlx::query_as::<_, PlacedUser>(BY_ID).bind(id)
                .fetch_optional(&mut *c).await)?);
        }
    };
    Ok(on!(ex, c => sqlx::query_as::<_, PlacedUser>(sql).bind(text).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn find_user_by_login(ex: Ex<'_>, login: &str) -> Result<Option<UserRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE login = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, UserRow>(sql).bind(login).fetch_optional(&mut *c).await)?)
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

pub(crate) async fn delete_user(ex: Ex<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM users WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Replaces a user's search terms.
pub(crate) async fn replace_terms(
    ex: Ex<'_>,
    user: Uuid,
    account: Uuid,
    terms: &[String],
) -> Result<()> {
    let rows: Vec<(Uuid, String)> = terms.iter().map(|t| (user, t.clone())).collect();
    let delete = "DELETE FROM user_terms WHERE user_id = $1";
    match ex {
        Ex::Sqlite(c) => {
            sqlx::query(delete).bind(user).execute(&mut *c).await?;
            insert_terms_bulk(Ex::Sqlite(c), account, &rows).await
        }
        Ex::Postgres(c) => {
            sqlx::query(delete).bind(user).execute(&mut *c).await?;
            insert_terms_bulk(Ex::Postgres(c), account, &rows).await
        }
    }
}

pub(crate) async fn list_services(ex: Ex<'_>, user: Uuid) -> Result<Vec<String>> {
    let sql = "SELECT service FROM user_services WHERE user_id = $1 ORDER BY service";
    Ok(on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(user).fetch_all(&mut *c).await)?)
}

/// A change kept beside the user's row (their settings of a service): the row's version moves
/// on, behind the version the change was made from. False when it had moved already.
pub(crate) async fn touch_user(
    ex: Ex<'_>,
    id: Uuid,
    expected_version: i64,
    now: i64,
) -> Result<bool> {
    let sql =
        "UPDATE users SET updated_at = $3, version = version + 1 WHERE id = $1 AND version = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(expected_version).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives the user exactly these of the `configured` services; a service kept keeps the user's
/// settings of it, and one no longer configured stays as it was (hidden, not lost).
pub(crate) async fn set_services(
    ex: Ex<'_>,
    user: Uuid,
    services: &[String],
    configured: &[String],
) -> Result<Vec<(String, String)>> {
    // The services taken away, with the user's settings of them (for the audit trail).
    let dropped = on!(ex, c => {
        let held: Vec<(String, String)> = sqlx::query_as("SELECT service, settings FROM user_services WHERE user_id = $1")
            .bind(user).fetch_all(&mut *c).await?;
        let mut dropped = vec![];
        for (s, settings) in held.iter().filter(|(s, _)| !services.contains(s) && configured.contains(s)) {
            sqlx::query("DELETE FROM user_services WHERE user_id = $1 AND service = $2")
                .bind(user).bind(s).execute(&mut *c).await?;
            dropped.push((s.clone(), settings.clone()));
        }
        let held: Vec<String> = held.into_iter().map(|(s, _)| s).collect();
        for s in services.iter().filter(|s| !held.contains(s)) {
            sqlx::query("INSERT INTO user_services (user_id, service) VALUES ($1, $2)")
                .bind(user).bind(s).execute(&mut *c).await?;
        }
        Ok::<Vec<(String, String)>, sqlx::Error>(dropped)
    })?;
    Ok(dropped)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PhotoRow {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub updated_at: i64,
}

pub(crate) async fn upsert_photo(
    ex: Ex<'_>,
    user: Uuid,
    content_type: &str,
    bytes: &[u8],
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO user_photos (user_id, content_type, bytes, updated_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (user_id) DO UPDATE SET content_type = $2, bytes = $3, updated_at = $4";
    on!(ex, c => sqlx::query(sql).bind(user).bind(content_type).bind(bytes).bind(now)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_photo(ex: Ex<'_>, user: Uuid) -> Result<Option<PhotoRow>> {
    let sql = "SELECT content_type, bytes, updated_at FROM user_photos WHERE user_id = $1";
    Ok(on!(ex, c => sqlx::query_as::<_, PhotoRow>(sql).bind(user).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn delete_photo(ex: Ex<'_>, user: Uuid) -> Result<()> {
    let sql = "DELETE FROM user_photos WHERE user_id = $1";
    on!(ex, c => sqlx::query(sql).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Inserts many users in one statement (the data generator).
pub(crate) async fn insert_users_bulk(ex: Ex<'_>, users: &[UserRow]) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let per = 29;
    let rows: Vec<String> = (0..users.len())
        .map(|r| {
            format!(
                "({})",
                (1..=per)
                    .map(|c| format!("${}", r * per + c))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let sql = format!(
        concat!("INSERT INTO users (", columns!(), ") VALUES {}"),
        rows.join(", ")
    );
    on!(ex, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for u in users {
            q = q.bind(u.id).bind(u.node_id).bind(u.account_id).bind(&u.kind).bind(&u.email)
                .bind(u.email_verified).bind(&u.email_pending).bind(&u.login).bind(&u.first_name)
                .bind(&u.last_name).bind(&u.friendly_name).bind(&u.sort_name).bind(&u.phone)
                .bind(&u.country_code).bind(&u.language).bind(&u.user_type).bind(&u.status)
                .bind(&u.password_hash).bind(u.password_must_change).bind(&u.notes)
                .bind(u.receive_invoices).bind(u.notifications_enabled).bind(u.notify_email)
                .bind(u.notify_sms).bind(u.mfa_required).bind(&u.invite_message).bind(u.version)
                .bind(u.created_at).bind(u.updated_at);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Inserts many search terms, a thousand per statement (the data generator).
pub(crate) async fn insert_terms_bulk(
    ex: Ex<'_>,
    account: Uuid,
    terms: &[(Uuid, String)],
) -> Result<()> {
    on!(ex, c => {
        for chunk in terms.chunks(1000).filter(|c| !c.is_empty()) {
            let rows: Vec<String> = (0..chunk.len()).map(|r| format!("(${}, ${}, ${})", r * 3 + 1, r * 3 + 2, r * 3 + 3)).collect();
            let sql = format!("INSERT INTO user_terms (account_id, term, user_id) VALUES {} ON CONFLICT DO NOTHING", rows.join(", "));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (user, term) in chunk {
                q = q.bind(account).bind(term).bind(*user);
            }
            q.execute(&mut *c).await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// Marks the user's phone verified, if it is still `phone`.
pub(crate) async fn set_phone_verified(ex: Ex<'_>, id: Uuid, phone: &str) -> Result<bool> {
    let sql = "UPDATE users SET phone_verified = TRUE WHERE id = $1 AND phone = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(phone).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Whether the user's current phone number is verified.
pub(crate) async fn phone_verified(ex: Ex<'_>, id: Uuid) -> Result<bool> {
    let sql = "SELECT phone_verified FROM users WHERE id = $1";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, bool>(sql).bind(id).fetch_optional(&mut *c).await)?
            .unwrap_or(false),
    )
}

/// The data generator's shortcut: one password hash for every user of an account, all active.
pub(crate) async fn bench_set_passwords(
    ex: Ex<'_>,
    account: Uuid,
    hash: &str,
) -> Result<Vec<String>> {
    Ok(on!(ex, c => {
        sqlx::query("UPDATE users SET password_hash = $2, status = 'active' WHERE account_id = $1")
            .bind(account).bind(hash).execute(&mut *c).await?;
        sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE account_id = $1 AND email IS NOT NULL ORDER BY email")
            .bind(account).fetch_all(&mut *c).await
    })?)
}

/// The person users directly in a node (not below it), by id, at most `limit`.
pub(crate) async fn list_persons_in(ex: Ex<'_>, node: Uuid, limit: i64) -> Result<Vec<Uuid>> {
    let sql = "SELECT id FROM users WHERE node_id = $1 AND kind = 'person' \
               ORDER BY sort_name, id LIMIT $2";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, Uuid>(sql).bind(node).bind(limit).fetch_all(&mut *c).await)?,
    )
}
