//! "Resources": address books and their contacts. A book belongs to a user (theirs alone) or
//! to a unit or account (shared with everyone below it). Whoever administers the owning node
//! manages a shared book; a user's own book is theirs and their administrators' to manage.
//! A book's contacts come and go one by one or by CSV (import all or nothing, export with
//! formulas neutralised).

use serde_json::json;
use uuid::Uuid;

use super::node::node_in_scope;
use super::rank::{Need, user_to_change};
use super::user::user_in_scope;
use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, FieldError, Problems, Result};
use crate::model::{Email, NodeId, Timestamp, UserId, csv, parse_line, parse_text, phone};
use crate::store::{
    self, Handle, node::NodeRow, resource::ContactRow, resource::PlacedBook, user::UserRow,
};

/// A book's contacts at most, and an owner's books.
pub const MAX_CONTACTS: i64 = 10_000;
pub const MAX_BOOKS: i64 = 50;
/// The columns of a book's CSV, in order.
pub const CSV_COLUMNS: [&str; 5] = ["name", "mobile", "fax", "email", "notes"];

/// Whom a book belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Node(NodeId),
    User(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub id: Uuid,
    pub name: String,
    pub owner: Owner,
    /// The unit or account it belongs to, or the owner's unit, and that node's kind.
    pub node_name: String,
    pub node_kind: String,
    pub contacts: i64,
    pub version: i64,
    pub created_at: Timestamp,
}

impl Book {
    /// Shared with everyone below its unit or account.
    pub fn shared(&self) -> bool {
        matches!(self.owner, Owner::Node(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: Uuid,
    pub name: String,
    pub mobile: String,
    pub fax: String,
    pub email: String,
    pub notes: String,
}

/// A contact as typed: numbers in E.164 or national after `country`.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    pub name: String,
    pub mobile: String,
    pub fax: String,
    pub email: String,
    pub notes: String,
}

/// A CSV import refused at one line (1-based, the header being line 1), with its problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub problems: Vec<FieldError>,
}

fn book_of(p: PlacedBook) -> Book {
    let owner = match (p.book.owner_node_id, p.book.owner_user_id) {
        (Some(n), _) => Owner::Node(NodeId(n)),
        (None, Some(u)) => Owner::User(UserId(u)),
        (None, None) => Owner::Node(NodeId(p.book.account_id)),
    };
    Book {
        id: p.book.id,
        name: p.book.name,
        owner,
        node_name: p.node_name,
        node_kind: p.node_kind,
        contacts: p.contacts,
        version: p.book.version,
        created_at: Timestamp::from_millis(p.book.created_at),
    }
}

fn contact_of(r: ContactRow) -> Contact {
    Contact {
        id: r.id,
        name: r.name,
        mobile: r.mobile,
        fax: r.fax,
        email: r.email,
        notes: r.notes,
    }
}

/// A book the actor may manage: a shared one of a node they administer, their own, or one of
/// a user they may change (else 404 out of sight, 403 outranked).
async fn book_to_manage(
    h: &mut impl Handle,
    actor: &Actor,
    id: Uuid,
    now: i64,
) -> Result<PlacedBook> {
    let book = store::resource::find_book(h.ex(), id)
        .await?
        .ok_or(Error::NotFound)?;
    match (book.book.owner_node_id, book.book.owner_user_id) {
        (Some(_), _) if actor.administers_path(&book.node_path) => Ok(book),
        (None, Some(u)) if u == actor.user_id.0 => Ok(book),
        (None, Some(u)) => {
            user_to_change(h, actor, u, Need::Any, now).await?;
            Ok(book)
        }
        _ => Err(Error::NotFound),
    }
}

/// The books a node itself shares.
pub async fn books_of_node(ctx: &Ctx, actor: &Actor, node: NodeId) -> Result<Vec<Book>> {
    let mut conn = ctx.db.conn().await?;
    let row = node_in_scope(conn.ex(), actor, node.0).await?;
    let books = store::resource::books_for(conn.ex(), &[row.path], None).await?;
    Ok(books.into_iter().map(book_of).collect())
}

/// The actor themself, with their node.
async fn oneself(h: &mut impl Handle, actor: &Actor) -> Result<(UserRow, NodeRow)> {
    let row = store::user::find_user(h.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)?;
    let node = store::node::get_node(h.ex(), row.node_id).await?;
    Ok((row, node))
}

/// Every book a user can use: their own, and those shared by their unit and every unit and
/// account above it (nearest last).
pub async fn books_of_user(ctx: &Ctx, actor: &Actor, user: UserId) -> Result<Vec<Book>> {
    let mut conn = ctx.db.conn().await?;
    let (row, node) = if user == actor.user_id {
        oneself(&mut conn, actor).await?
    } else {
        user_in_scope(&mut conn, actor, user.0).await?
    };
    let paths = store::setting::ancestor_paths(&node.path);
    let books = store::resource::books_for(conn.ex(), &paths, Some(row.id)).await?;
    Ok(books.into_iter().map(book_of).collect())
}

/// Makes an address book for a unit or account the actor administers, or for a user.
pub async fn create_book(ctx: &Ctx, actor: &Actor, owner: Owner, name: &str) -> Result<Uuid> {
    let name = parse_line("name", name, 100)?;
    if name.is_empty() {
        return Err(Error::field("name", "field-required"));
    }
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let (node_id, user_id, account_id, audit_node) = match owner {
            Owner::Node(n) => {
                let row = node_in_scope(tx.ex(), actor, n.0).await?;
                if row.kind == "operator" {
                    return Err(Error::field("node_id", "book-needs-account"));
                }
                (Some(row.id), None, row.account_id, row.id)
            }
            Owner::User(u) => {
                let (row, node) = if u == actor.user_id {
                    oneself(tx, actor).await?
                } else {
                    user_to_change(tx, actor, u.0, Need::Any, now.millis()).await?
                };
                (None, Some(row.id), row.account_id, node.id)
            }
        };
        if store::resource::count_books(tx.ex(), node_id, user_id).await? >= MAX_BOOKS {
            return Err(Error::field("name", "book-too-many"));
        }
        let id = Uuid::now_v7();
        store::resource::insert_book(
            tx.ex(),
            &store::resource::BookRow {
                id,
                owner_node_id: node_id,
                owner_user_id: user_id,
                account_id,
                name: name.clone(),
                version: 1,
                created_at: now.millis(),
                updated_at: now.millis(),
            },
        )
        .await?;
        audit::Event::new(actor, "book.create")
            .target("book", id, Some(audit_node))
            .after(json!({ "name": name, "owner_node": node_id, "owner_user": user_id }))
            .write(tx.ex(), now)
            .await?;
        Ok(id)
    })
    .await
}

/// A book the actor manages, with its contacts.
pub async fn book(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<(Book, Vec<Contact>)> {
    let now = ctx.clock.now().millis();
    let mut conn = ctx.db.conn().await?;
    let book = book_to_manage(&mut conn, actor, id, now).await?;
    let contacts = store::resource::contacts_of(conn.ex(), id).await?;
    Ok((
        book_of(book),
        contacts.into_iter().map(contact_of).collect(),
    ))
}

/// Deletes a book with its contacts.
pub async fn delete_book(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let book = book_to_manage(tx, actor, id, now.millis()).await?;
        store::resource::delete_book(tx.ex(), id).await?;
        audit::Event::new(actor, "book.delete")
            .target("book", id, Some(book.node_id))
            .before(json!({ "name": book.book.name, "contacts": book.contacts }))
            .write(tx.ex(), now)
            .await
    })
    .await
}

/// A number of a contact: E.164, or national in the book's account's country; "" for none.
fn contact_number(field: &'static str, country: &str, typed: &str, p: &mut Problems) -> String {
    p.check(phone::parse_phone(field, country, typed))
        .flatten()
        .unwrap_or_default()
}

/// Checks one contact; its problems, or the row to store.
fn checked_contact(
    input: &NewContact,
    country: &str,
    book: Uuid,
    now: i64,
) -> std::result::Result<ContactRow, Vec<FieldError>> {
    let mut p = Problems::default();
    let name = p
        .check(parse_line("name", &input.name, 100))
        .unwrap_or_default();
    if name.is_empty() && input.name.trim().is_empty() {
        p.add("name", "field-required");
    }
    let mobile = contact_number("mobile", country, &input.mobile, &mut p);
    let fax = contact_number("fax", country, &input.fax, &mut p);
    let email = if input.email.trim().is_empty() {
        String::new()
    } else {
        p.check(Email::parse("email", &input.email))
            .map(|e| e.as_str().to_string())
            .unwrap_or_default()
    };
    let notes = p
        .check(parse_text("notes", &input.notes, 1000))
        .unwrap_or_default();
    match p.finish() {
        Ok(()) => Ok(ContactRow {
            id: Uuid::now_v7(),
            book_id: book,
            name,
            mobile,
            fax,
            email,
            notes,
            created_at: now,
        }),
        Err(Error::Invalid(list)) => Err(list),
        Err(_) => Err(vec![]),
    }
}

/// Adds contacts to a book in the caller's transaction (all of them or, when the book would
/// hold too many, none), moving the book's version on.
async fn add_rows(
    tx: &mut store::Tx,
    actor: &Actor,
    book: &PlacedBook,
    rows: &[ContactRow],
    action: &str,
    now: Timestamp,
) -> Result<()> {
    let held = store::resource::count_contacts(tx.ex(), book.book.id).await?;
    if held + rows.len() as i64 > MAX_CONTACTS {
        return Err(Error::field("contacts", "book-full"));
    }
    store::resource::insert_contacts(tx.ex(), rows).await?;
    if !store::resource::touch_book(tx.ex(), book.book.id, book.book.version, now.millis()).await? {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    let after = if rows.len() == 1 {
        json!({ "contact": rows[0].name })
    } else {
        json!({ "contacts": rows.len() })
    };
    audit::Event::new(actor, action)
        .target("book", book.book.id, Some(book.node_id))
        .after(after)
        .write(tx.ex(), now)
        .await
}

/// The country a book's national numbers are read in: its account's.
async fn book_country(h: &mut impl Handle, book: &PlacedBook) -> Result<String> {
    Ok(store::node::get_node(h.ex(), book.book.account_id)
        .await?
        .default_country)
}

pub async fn add_contact(ctx: &Ctx, actor: &Actor, book: Uuid, input: &NewContact) -> Result<Uuid> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let placed = book_to_manage(tx, actor, book, now.millis()).await?;
        let country = book_country(tx, &placed).await?;
        let row = checked_contact(input, &country, book, now.millis()).map_err(Error::Invalid)?;
        add_rows(
            tx,
            actor,
            &placed,
            std::slice::from_ref(&row),
            "book.contact.add",
            now,
        )
        .await?;
        Ok(row.id)
    })
    .await
}

pub async fn remove_contact(ctx: &Ctx, actor: &Actor, book: Uuid, contact: Uuid) -> Result<()> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let placed = book_to_manage(tx, actor, book, now.millis()).await?;
        if !store::resource::delete_contact(tx.ex(), book, contact).await? {
            return Err(Error::NotFound);
        }
        if !store::resource::touch_book(tx.ex(), book, placed.book.version, now.millis()).await? {
            return Err(Error::Conflict("error-changed-meanwhile"));
        }
        audit::Event::new(actor, "book.contact.remove")
            .target("book", book, Some(placed.node_id))
            .before(json!({ "contact": contact.to_string() }))
            .write(tx.ex(), now)
            .await
    })
    .await
}

/// Imports contacts from CSV: a header line naming the columns (`name` needed; `mobile`, `fax`,
/// `email`, `notes` as wanted, in any order), then one contact a line. Every line is checked
/// first; one bad line refuses the whole file and names the line. Returns how many came in.
pub async fn import_csv(
    ctx: &Ctx,
    actor: &Actor,
    book: Uuid,
    text: &str,
) -> Result<std::result::Result<usize, BadLine>> {
    let now = ctx.clock.now();
    let bad = |line: usize, field: &'static str, code: &'static str| {
        Ok(Err(BadLine {
            line,
            problems: vec![FieldError { field, code }],
        }))
    };
    let rows = match csv::parse(text) {
        Ok(rows) => rows,
        Err(csv::Bad::Quote(line)) => return bad(line, "csv", "csv-quote-open"),
        Err(csv::Bad::Wide(line)) => return bad(line, "csv", "csv-too-wide"),
    };
    let Some(((_, header), lines)) = rows.split_first() else {
        return bad(1, "csv", "csv-empty");
    };
    let columns: Vec<Option<usize>> = header
        .iter()
        .map(|h| {
            CSV_COLUMNS
                .iter()
                .position(|c| c.eq_ignore_ascii_case(h.trim()))
        })
        .collect();
    if columns.iter().any(Option::is_none) || !columns.contains(&Some(0)) {
        return bad(1, "csv", "csv-header");
    }
    if lines.len() as i64 > MAX_CONTACTS {
        return Err(Error::field("contacts", "book-full"));
    }
    ctx.write(async |tx| {
        let placed = book_to_manage(tx, actor, book, now.millis()).await?;
        let country = book_country(tx, &placed).await?;
        let mut out = Vec::with_capacity(lines.len());
        for (line, cells) in lines {
            let mut c = NewContact::default();
            for (cell, col) in cells.iter().zip(&columns) {
                let slot = match col {
                    Some(0) => &mut c.name,
                    Some(1) => &mut c.mobile,
                    Some(2) => &mut c.fax,
                    Some(3) => &mut c.email,
                    _ => &mut c.notes,
                };
                *slot = cell.clone();
            }
            match checked_contact(&c, &country, book, now.millis()) {
                Ok(row) => out.push(row),
                Err(problems) => {
                    return Ok(Err(BadLine {
                        line: *line,
                        problems,
                    }));
                }
            }
        }
        if out.is_empty() {
            return Ok(Ok(0));
        }
        add_rows(tx, actor, &placed, &out, "book.import", now).await?;
        Ok(Ok(out.len()))
    })
    .await
}

/// A book's contacts as CSV, with the header line.
pub async fn export_csv(ctx: &Ctx, actor: &Actor, book: Uuid) -> Result<(Book, String)> {
    let (book, contacts) = self::book(ctx, actor, book).await?;
    let mut rows = vec![
        CSV_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
    ];
    rows.extend(
        contacts
            .into_iter()
            .map(|c| vec![c.name, c.mobile, c.fax, c.email, c.notes]),
    );
    Ok((book, csv::write(&rows)))
}
