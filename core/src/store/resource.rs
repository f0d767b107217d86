//! Address books with their contacts, and the public addresses of units and accounts.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct BookRow {
    pub id: Uuid,
    pub owner_node_id: Option<Uuid>,
    pub owner_user_id: Option<Uuid>,
    pub account_id: Uuid,
    pub name: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct ContactRow {
    pub id: Uuid,
    pub book_id: Uuid,
    pub name: String,
    pub mobile: String,
    pub fax: String,
    pub email: String,
    pub notes: String,
    pub created_at: i64,
}

/// A book with the path and name of the node it belongs to (its owner node, or its owner
/// user's node).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct PlacedBook {
    #[sqlx(flatten)]
    pub book: BookRow,
    pub node_id: Uuid,
    pub node_path: String,
    pub node_name: String,
    pub node_kind: String,
    pub contacts: i64,
}

const BOOK: &str = "b.id, b.owner_node_id, b.owner_user_id, b.account_id, b.name, b.version, \
                    b.created_at, b.updated_at";

pub(crate) async fn insert_book(ex: Ex<'_>, b: &BookRow) -> Result<()> {
    let sql = "INSERT INTO address_books (id, owner_node_id, owner_user_id, account_id, name, \
               version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on!(ex, c => sqlx::query(sql).bind(b.id).bind(b.owner_node_id).bind(b.owner_user_id)
        .bind(b.account_id).bind(&b.name).bind(b.version).bind(b.created_at).bind(b.updated_at)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// One book, placed.
pub(crate) async fn find_book(ex: Ex<'_>, id: Uuid) -> Result<Option<PlacedBook>> {
    let sql = format!(
        "SELECT {BOOK}, n.id AS node_id, n.path AS node_path, n.name AS node_name, n.kind AS node_kind, \
         (SELECT COUNT(*) FROM contacts c WHERE c.book_id = b.id) AS contacts \
         FROM address_books b LEFT JOIN users u ON u.id = b.owner_user_id \
         JOIN nodes n ON n.id = COALESCE(b.owner_node_id, u.node_id) WHERE b.id = $1"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, PlacedBook>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(&mut *c).await)?,
    )
}

/// The books of the nodes at these paths (a node and those above it), and the user's own.
pub(crate) async fn books_for(
    ex: Ex<'_>,
    node_paths: &[String],
    user: Option<Uuid>,
) -> Result<Vec<PlacedBook>> {
    let marks: Vec<String> = (2..=node_paths.len() + 1)
        .map(|i| format!("${i}"))
        .collect();
    let in_nodes = if marks.is_empty() {
        "FALSE".to_string()
    } else {
        format!("n.path IN ({})", marks.join(", "))
    };
    let sql = format!(
        "SELECT {BOOK}, n.id AS node_id, n.path AS node_path, n.name AS node_name, n.kind AS node_kind, \
         (SELECT COUNT(*) FROM contacts c WHERE c.book_id = b.id) AS contacts \
         FROM address_books b LEFT JOIN users u ON u.id = b.owner_user_id \
         JOIN nodes n ON n.id = COALESCE(b.owner_node_id, u.node_id) \
         WHERE (b.owner_node_id IS NOT NULL AND {in_nodes}) OR b.owner_user_id = $1 \
         ORDER BY n.depth, b.name, b.id"
    );
    on!(ex, c => {
        // Only placeholders are written into the text; the paths are bound.
        let mut q = sqlx::query_as::<_, PlacedBook>(sqlx::AssertSqlSafe(sql.clone())).bind(user);
        for p in node_paths {
            q = q.bind(p);
        }
        q.fetch_all(&mut *c).await
    })
    .map_err(Into::into)
}

/// How many books exactly this owner (a node, or a user) has.
pub(crate) async fn count_books(ex: Ex<'_>, node: Option<Uuid>, user: Option<Uuid>) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM address_books WHERE owner_node_id = $1 OR owner_user_id = $2";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(node).bind(user).fetch_one(&mut *c).await)?,
    )
}

pub(crate) async fn delete_book(ex: Ex<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM address_books WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves a book's version on; false when it had moved on already.
pub(crate) async fn touch_book(ex: Ex<'_>, id: Uuid, version: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE address_books SET version = version + 1, updated_at = $3 \
               WHERE id = $1 AND version = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(version).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn contacts_of(ex: Ex<'_>, book: Uuid) -> Result<Vec<ContactRow>> {
    let sql = "SELECT id, book_id, name, mobile, fax, email, notes, created_at FROM contacts \
               WHERE book_id = $1 ORDER BY name, id";
    Ok(on!(ex, c => sqlx::query_as::<_, ContactRow>(sql).bind(book).fetch_all(&mut *c).await)?)
}

pub(crate) async fn insert_contacts(ex: Ex<'_>, rows: &[ContactRow]) -> Result<()> {
    let sql = "INSERT INTO contacts (id, book_id, name, mobile, fax, email, notes, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on!(ex, c => {
        for r in rows {
            sqlx::query(sql).bind(r.id).bind(r.book_id).bind(&r.name).bind(&r.mobile).bind(&r.fax)
                .bind(&r.email).bind(&r.notes).bind(r.created_at).execute(&mut *c).await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// Removes one contact of a book; false when the book has no such contact.
pub(crate) async fn delete_contact(ex: Ex<'_>, book: Uuid, id: Uuid) -> Result<bool> {
    let sql = "DELETE FROM contacts WHERE id = $1 AND book_id = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(book).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn count_contacts(ex: Ex<'_>, book: Uuid) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM contacts WHERE book_id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(book).fetch_one(&mut *c).await)?)
}

/// A public address with the path and name of the node that owns it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct PlacedPublic {
    pub id: Uuid,
    pub node_id: Uuid,
    pub kind: String,
    pub address: String,
    pub label: String,
    pub created_at: i64,
    pub node_path: String,
    pub node_name: String,
}

const PUBLIC: &str = "p.id, p.node_id, p.kind, p.address, p.label, p.created_at, \
                      n.path AS node_path, n.name AS node_name";

pub(crate) async fn insert_public(
    ex: Ex<'_>,
    id: Uuid,
    node: Uuid,
    kind: &str,
    address: &str,
    label: &str,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO public_addresses (id, node_id, kind, address, label, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(ex, c => sqlx::query(sql).bind(id).bind(node).bind(kind).bind(address).bind(label)
        .bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_public(ex: Ex<'_>, id: Uuid) -> Result<Option<PlacedPublic>> {
    let sql = format!(
        "SELECT {PUBLIC} FROM public_addresses p JOIN nodes n ON n.id = p.node_id WHERE p.id = $1"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, PlacedPublic>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(&mut *c).await)?,
    )
}

/// The public addresses of one node.
pub(crate) async fn publics_of_node(ex: Ex<'_>, node: Uuid) -> Result<Vec<PlacedPublic>> {
    let sql = format!(
        "SELECT {PUBLIC} FROM public_addresses p JOIN nodes n ON n.id = p.node_id \
         WHERE p.node_id = $1 ORDER BY p.kind, p.address"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, PlacedPublic>(sqlx::AssertSqlSafe(sql.clone())).bind(node).fetch_all(&mut *c).await)?,
    )
}

/// The public addresses a user may use.
pub(crate) async fn publics_of_user(ex: Ex<'_>, user: Uuid) -> Result<Vec<PlacedPublic>> {
    let sql = format!(
        "SELECT {PUBLIC} FROM public_addresses p JOIN nodes n ON n.id = p.node_id \
         JOIN public_address_users pu ON pu.address_id = p.id WHERE pu.user_id = $1 \
         ORDER BY p.kind, p.address"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, PlacedPublic>(sqlx::AssertSqlSafe(sql.clone())).bind(user).fetch_all(&mut *c).await)?,
    )
}

pub(crate) async fn delete_public(ex: Ex<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM public_addresses WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The users who may use a public address, with their sign-in address or login.
pub(crate) async fn public_users_named(ex: Ex<'_>, id: Uuid) -> Result<Vec<(Uuid, String)>> {
    let sql = "SELECT u.id, COALESCE(u.email, u.login, '') FROM public_address_users pu \
               JOIN users u ON u.id = pu.user_id WHERE pu.address_id = $1 ORDER BY 2";
    Ok(on!(ex, c => sqlx::query_as::<_, (Uuid, String)>(sql).bind(id).fetch_all(&mut *c).await)?)
}

/// Lets a user use a public address; false when they could already.
pub(crate) async fn add_public_user(ex: Ex<'_>, id: Uuid, user: Uuid) -> Result<bool> {
    let sql = "INSERT INTO public_address_users (address_id, user_id) VALUES ($1, $2) \
               ON CONFLICT DO NOTHING";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn remove_public_user(ex: Ex<'_>, id: Uuid, user: Uuid) -> Result<bool> {
    let sql = "DELETE FROM public_address_users WHERE address_id = $1 AND user_id = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Takes away every use of a public address by a user no longer below its unit (after a user
/// or a unit moved); how many went.
pub(crate) async fn prune_public_users(ex: Ex<'_>) -> Result<u64> {
    // Paths are ids and slashes: nothing in them that LIKE would read as a pattern.
    let sql = "DELETE FROM public_address_users WHERE NOT EXISTS (\
               SELECT 1 FROM public_addresses p JOIN nodes pn ON pn.id = p.node_id, \
               users u JOIN nodes un ON un.id = u.node_id \
               WHERE p.id = public_address_users.address_id \
               AND u.id = public_address_users.user_id AND un.path LIKE pn.path || '%')";
    Ok(on!(ex, c => sqlx::query(sql).execute(&mut *c).await.map(|r| r.rows_affected()))?)
}
