//! SCIM users. A provisioned user is a Roster person user plus what the provider keeps beside
//! it (`scim_users`): its `userName` and its document — every attribute as it was sent. The
//! answer is that document with Roster's fields laid over it: where the document still says
//! what Roster holds (the same address, the same mobile number once normalised, the same
//! language, …) it is returned as sent; where Roster holds something else (changed in the
//! portal, pending confirmation, or not usable by Roster) Roster's value is shown.
//!
//! Mapping (RFC 7643): `userName` = the provider's (else the email address); `emails` primary
//! (else first) value = the email address (a new one applies at once and the old address is
//! told: the provider is the organization's directory); `name.givenName`, `name.familyName`; `displayName` = the
//! friendly name; the first `phoneNumbers` entry typed `mobile` (or untyped) that is a valid
//! number = the mobile phone (other numbers stay provider data); `preferredLanguage` (en, nl,
//! sv; else the account's language); `userType` Administrator or not; `active` = not disabled
//! (an invited user is active: they may still accept); `externalId` (unique per account);
//! `groups` (read-only) = the user's unit when it is below the token's node. Everything else
//! (the enterprise extension, addresses, title, …) is the provider's, returned as sent.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{ENTERPRISE, ROSTER_EXT, USER_SCHEMA, field, text, ts};
use crate::context::Ctx;
use crate::domain::Actor;
use crate::domain::user::{
    self, EmailChange, NewUser, PasswordChoice, ProfileInput, UserChange, UserDetail,
};
use crate::error::{Error, Result};
use crate::model::{Email, Lang, UserId, UserStatus, UserType, phone};
use crate::scim::filter::{Filter, Lookup};
use crate::store;
use crate::store::Tx;
use crate::store::node::NodeRow;
use crate::store::scim::Within;

/// A provider's document for one user is at most this long (JSON text).
const DOCUMENT_MAX: usize = 32 * 1024;
/// Users examined at most for a filter that no index answers whole (or a list sorted by
/// something else than userName); more is refused as too many.
pub const SCAN_LIMIT: usize = 10_000;
/// Attributes of a body that are not the provider's data: Roster sets them, keeps them
/// elsewhere, or ignores them (a password: users set their own).
const NOT_KEPT: [&str; 8] = [
    "schemas",
    "id",
    "meta",
    "password",
    "groups",
    "externalId",
    "userName",
    ROSTER_EXT,
];

/// What the provider keeps beside a user.
#[derive(Debug, Clone)]
pub struct Provided {
    pub user_name: String,
    pub document: Value,
}

/// Everything besides the user that its SCIM representation needs.
pub struct Shown<'a> {
    pub provided: Option<&'a Provided>,
    pub external_id: Option<&'a str>,
    /// The account's language and country (what an absent language means; how a national
    /// number is read).
    pub default_lang: &'a str,
    pub country: &'a str,
    /// The user's unit, when it is a group of the token (below the token's node).
    pub group: Option<(Uuid, &'a str)>,
    pub base: &'a str,
}

/// Sets (Some) or removes (None) an attribute, its name compared without case.
fn put(o: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    let key = o
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string());
    match value {
        Some(v) => {
            o.insert(key, v);
        }
        None => {
            o.remove(&key);
        }
    }
}

fn nonempty(s: &str) -> Option<Value> {
    (!s.is_empty()).then(|| json!(s))
}

/// The address a document names: the primary `emails` value, else the first.
fn email_of(doc: &Value) -> String {
    let Some(list) = field(doc, "emails").and_then(Value::as_array) else {
        return String::new();
    };
    list.iter()
        .find(|e| field(e, "primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| list.first())
        .map(|e| text(e, &["value"]).trim().to_lowercase())
        .unwrap_or_default()
}

/// A `phoneNumbers` entry Roster may take as the mobile number: typed `mobile`, or untyped.
fn mobile_candidate(entry: &Value) -> bool {
    let t = text(entry, &["type"]);
    t.is_empty() || t.eq_ignore_ascii_case("mobile")
}

/// The mobile number a document names, in E.164: the first candidate that is a valid number
/// (national numbers read in `country`); "" when there is none.
fn mobile_of(doc: &Value, country: &str) -> String {
    let Some(list) = field(doc, "phoneNumbers").and_then(Value::as_array) else {
        return String::new();
    };
    list.iter()
        .filter(|e| mobile_candidate(e))
        .find_map(|e| {
            let v = text(e, &["value"]);
            let v = v.trim();
            let v = v.strip_prefix("tel:").unwrap_or(v);
            phone::parse_phone("phoneNumbers", country, v)
                .ok()
                .flatten()
        })
        .unwrap_or_default()
}

/// `true`/`false`, also as the strings some providers send.
fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A user as SCIM shows it.
pub fn user_json(d: &UserDetail, s: &Shown) -> Value {
    let provided = s.provided.is_some();
    let doc = s
        .provided
        .map(|p| p.document.clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let mut o = doc.as_object().cloned().unwrap_or_default();
    let formatted = format!("{} {}", d.first_name, d.last_name)
        .trim()
        .to_string();

    let names_kept = text(&doc, &["name", "givenName"]).trim() == d.first_name
        && text(&doc, &["name", "familyName"]).trim() == d.last_name;
    if !(provided && names_kept) {
        let mut name = field(&doc, "name")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        put(&mut name, "givenName", nonempty(&d.first_name));
        put(&mut name, "familyName", nonempty(&d.last_name));
        put(&mut name, "formatted", nonempty(&formatted));
        put(
            &mut o,
            "name",
            (!name.is_empty()).then_some(Value::Object(name)),
        );
    }

    if !(provided && text(&doc, &["displayName"]).trim() == d.friendly_name) {
        let shown = if !d.friendly_name.is_empty() {
            nonempty(&d.friendly_name)
        } else if !provided {
            nonempty(&formatted)
        } else {
            None
        };
        put(&mut o, "displayName", shown);
    }

    if !(provided && email_of(&doc) == d.email) {
        put(
            &mut o,
            "emails",
            Some(json!([{"value": d.email, "type": "work", "primary": true}])),
        );
    }

    if !(provided && mobile_of(&doc, s.country) == d.phone) {
        let mut list: Vec<Value> = field(&doc, "phoneNumbers")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter(|e| !mobile_candidate(e)).cloned().collect())
            .unwrap_or_default();
        if !d.phone.is_empty() {
            let mut entry = json!({"value": d.phone, "type": "mobile"});
            if list.is_empty() {
                entry["primary"] = json!(true);
            }
            list.insert(0, entry);
        }
        put(
            &mut o,
            "phoneNumbers",
            (!list.is_empty()).then_some(Value::Array(list)),
        );
    }

    let lang = text(&doc, &["preferredLanguage"]);
    let lang_kept = match Lang::parse(&lang) {
        Some(l) => l.code() == d.language,
        None => lang.is_empty() && d.language == s.default_lang,
    };
    if !(provided && lang_kept) {
        put(&mut o, "preferredLanguage", nonempty(&d.language));
    }

    let admin = d.user_type == UserType::Administrator;
    if !(provided && text(&doc, &["userType"]).eq_ignore_ascii_case("administrator") == admin) {
        put(
            &mut o,
            "userType",
            Some(json!(if admin { "Administrator" } else { "User" })),
        );
    }

    let active = d.status != UserStatus::Disabled;
    let sent = field(&doc, "active");
    let active_kept = match sent {
        None => active,
        Some(Value::Bool(b)) => *b == active,
        Some(_) => false,
    };
    if !(provided && active_kept) {
        put(&mut o, "active", Some(json!(active)));
    }

    let user_name = s
        .provided
        .map_or(d.email.as_str(), |p| p.user_name.as_str());
    put(&mut o, "userName", Some(json!(user_name)));
    put(&mut o, "externalId", s.external_id.map(|e| json!(e)));
    put(
        &mut o,
        "groups",
        s.group.map(|(id, name)| {
            json!([{"value": id.to_string(), "$ref": format!("{}/Groups/{id}", s.base),
                    "display": name, "type": "direct"}])
        }),
    );
    let mut schemas = vec![json!(USER_SCHEMA)];
    match field(&doc, ENTERPRISE).and_then(Value::as_object) {
        Some(ext) if !ext.is_empty() => schemas.push(json!(ENTERPRISE)),
        _ => put(&mut o, ENTERPRISE, None),
    }
    o.insert("schemas".into(), Value::Array(schemas));
    o.insert("id".into(), json!(d.id.0.to_string()));
    o.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": ts(d.created_at),
            "lastModified": ts(d.updated_at),
            "version": format!("W/\"v{}\"", d.version),
            "location": format!("{}/Users/{}", s.base, d.id.0),
        }),
    );
    Value::Object(o)
}

/// Users examined a query at most (the `IN` list of one batch).
const BATCH: usize = 500;

/// The users with these ids that are persons in the token's scope, as SCIM JSON with their
/// versions, in the order of `ids`; the others are left out. One query a batch, whatever its
/// size (and one for the account).
async fn load(ctx: &Ctx, actor: &Actor, ids: &[Uuid], base: &str) -> Result<Vec<(Value, i64)>> {
    use std::collections::HashMap;
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?;
    let mut conn = ctx.db.conn().await?;
    let account = store::node::get_node(conn.ex(), actor.account_id.0).await?;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let views: HashMap<Uuid, store::user::ScimView> = store::user::scim_views(conn.ex(), chunk)
            .await?
            .into_iter()
            .map(|v| (v.user.id, v))
            .collect();
        for id in chunk {
            let Some(view) = views.get(id) else { continue };
            if view.user.kind != "person" || !actor.administers_path(&view.node_path) {
                continue;
            }
            let provided = view.scim_user_name.as_ref().map(|user_name| Provided {
                user_name: user_name.clone(),
                document: view
                    .scim_document
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_else(|| json!({})),
            });
            let d = user::detail_of(view.user.clone(), view.node_name.clone());
            let group = (d.node_id != scope.node_id).then_some((d.node_id.0, d.node_name.as_str()));
            let v = user_json(
                &d,
                &Shown {
                    provided: provided.as_ref(),
                    external_id: view.scim_external_id.as_deref(),
                    default_lang: &account.default_language,
                    country: country_of(&d, &account),
                    group,
                    base,
                },
            );
            out.push((v, d.version));
        }
    }
    Ok(out)
}

/// One user in the token's scope, as SCIM JSON, with its version.
pub async fn get_user(ctx: &Ctx, actor: &Actor, id: Uuid, base: &str) -> Result<(Value, i64)> {
    load(ctx, actor, &[id], base)
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// The country a user's national numbers are read in: theirs, else the account's.
fn country_of<'a>(d: &'a UserDetail, account: &'a NodeRow) -> &'a str {
    if d.country_code.is_empty() {
        &account.default_country
    } else {
        &d.country_code
    }
}

/// The `[lo, hi)` range of lower-case userNames an index lookup covers.
fn name_range(lookup: Lookup<'_>) -> Option<(String, String)> {
    match lookup {
        Lookup::UserNameEq(s) => {
            let k = s.trim().to_lowercase();
            let hi = format!("{k}\u{1}");
            Some((k, hi))
        }
        Lookup::UserNameSw(s) => {
            let k = s.to_lowercase();
            let hi = format!("{k}\u{10FFFF}");
            Some((k, hi))
        }
        Lookup::ExternalIdEq(_) => None,
    }
}

/// Every userName: the range of an unfiltered list.
fn all_names() -> (String, String) {
    (String::new(), "\u{10FFFF}".into())
}

/// What a list asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// One page from `start` (1-based), at most `count`, in userName order (descending when
    /// asked).
    Page {
        start: usize,
        count: usize,
        descending: bool,
    },
    /// Every match, for the caller to sort and cut (at most `SCAN_LIMIT` users examined).
    All,
}

/// The users matching a filter: (total, the users asked for). An unfiltered list, and a filter
/// that is `userName eq` or `userName sw` alone, are answered whole by an index (count and
/// page, in userName order, at any size). Any other filter, and every `Want::All`, examines at
/// most `SCAN_LIMIT` users of the token's scope (starting from an index when the filter has an
/// `and` with one); more is refused as too many, so no request costs more than that.
pub async fn list_users(
    ctx: &Ctx,
    actor: &Actor,
    filter: Option<&Filter>,
    want: Want,
    base: &str,
) -> Result<(usize, Vec<Value>)> {
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?.clone();
    let hint = filter.and_then(Filter::index_hint);
    // A token of the whole account needs no subtree check in the lookups.
    let within = if scope.node_id == actor.account_id {
        Within::Account
    } else {
        Within::Subtree(&scope.path)
    };
    let account = actor.account_id.0;
    let exact_range = match (filter, hint) {
        (None, _) => Some(all_names()),
        (Some(_), Some(h)) if h.exact => name_range(h.lookup),
        _ => None,
    };
    if let (
        Some((lo, hi)),
        Want::Page {
            start,
            count,
            descending,
        },
    ) = (&exact_range, want)
    {
        let range = (lo.as_str(), hi.as_str());
        let mut conn = ctx.db.conn().await?;
        let total = store::scim::count_by_name_range(conn.ex(), account, within, range).await?;
        let (limit, offset) = window(total as usize, start, count, descending);
        let mut page =
            store::scim::users_by_name_range(conn.ex(), account, within, range, limit, offset)
                .await?;
        drop(conn);
        if descending {
            page.reverse();
        }
        let out = load(ctx, actor, &page, base).await?;
        return Ok((total as usize, out.into_iter().map(|(v, _)| v).collect()));
    }
    let candidates: Vec<Uuid> = {
        let mut conn = ctx.db.conn().await?;
        match hint.map(|h| h.lookup) {
            Some(Lookup::ExternalIdEq(e)) => {
                store::scim::user_by_external_id(conn.ex(), account, e)
                    .await?
                    .into_iter()
                    .collect()
            }
            lookup => {
                let (lo, hi) = lookup.and_then(name_range).unwrap_or_else(all_names);
                let ids = store::scim::users_by_name_range(
                    conn.ex(),
                    account,
                    within,
                    (&lo, &hi),
                    SCAN_LIMIT as i64 + 1,
                    0,
                )
                .await?;
                if ids.len() > SCAN_LIMIT {
                    return Err(Error::field("filter", "scim-too-many"));
                }
                ids
            }
        }
    };
    // An id found by external id may lie outside the token's subtree: `load` leaves it out.
    let mut matching = vec![];
    for chunk in candidates.chunks(BATCH) {
        for (v, _) in load(ctx, actor, chunk, base).await? {
            if filter.is_none_or(|f| f.matches(&v)) {
                matching.push(v);
            }
        }
    }
    let total = matching.len();
    Ok(match want {
        Want::All => (total, matching),
        Want::Page {
            start,
            count,
            descending,
        } => {
            if descending {
                matching.reverse();
            }
            let page = matching
                .into_iter()
                .skip(start.saturating_sub(1))
                .take(count)
                .collect();
            (total, page)
        }
    })
}

/// The limit and offset of a page from `start` (1-based) of `count` among `total` in index
/// order; descending pages count from the end (the caller reverses what comes back).
fn window(total: usize, start: usize, count: usize, descending: bool) -> (i64, i64) {
    let skip = start.saturating_sub(1);
    if !descending {
        return (count as i64, skip as i64);
    }
    let end = total.saturating_sub(skip);
    let begin = end.saturating_sub(count);
    ((end - begin) as i64, begin as i64)
}

/// A User body as a provider sends it (create and replace).
#[derive(Debug, Clone, Default)]
pub struct ScimUserInput {
    pub user_name: String,
    /// The primary (else first) `emails` value; without `emails`, a `userName` that is an
    /// address.
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub language: String,
    pub administrator: bool,
    pub active: bool,
    pub external_id: Option<String>,
    pub invite: bool,
    /// What Roster keeps as the provider's: the body without the attributes in `NOT_KEPT`.
    pub document: Value,
}

impl ScimUserInput {
    /// Reads a SCIM User body; `userName` is required (RFC 7643 §4.1.1), and an address
    /// (`emails`) as Roster's users sign in with one.
    pub fn from_json(v: &Value) -> Result<ScimUserInput> {
        let Some(body) = v.as_object() else {
            return Err(Error::field("userName", "field-required"));
        };
        let user_name = text(v, &["userName"]).trim().to_string();
        if user_name.is_empty() {
            return Err(Error::field("userName", "field-required"));
        }
        let mut email = email_of(v);
        if email.is_empty() && user_name.contains('@') {
            email = user_name.to_lowercase();
        }
        if email.is_empty() {
            return Err(Error::field("emails", "field-required"));
        }
        // Checked here, so a bad address changes nothing (a PUT or PATCH applies it last).
        let email = Email::parse("emails", &email)?.as_str().to_string();
        let document: Map<String, Value> = body
            .iter()
            .filter(|(k, _)| !NOT_KEPT.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let document = Value::Object(document);
        if document.to_string().len() > DOCUMENT_MAX {
            return Err(Error::field("attributes", "scim-document-too-large"));
        }
        Ok(ScimUserInput {
            user_name,
            email,
            given_name: text(v, &["name", "givenName"]),
            family_name: text(v, &["name", "familyName"]),
            display_name: text(v, &["displayName"]),
            language: text(v, &["preferredLanguage"]),
            administrator: text(v, &["userType"]).eq_ignore_ascii_case("administrator"),
            active: flag(field(v, "active")).unwrap_or(true),
            external_id: Some(text(v, &["externalId"])).filter(|e| !e.is_empty()),
            invite: flag(field(v, ROSTER_EXT).and_then(|e| field(e, "sendInvitation")))
                .unwrap_or(true),
            document,
        })
    }

    /// Roster's profile fields; `phone` is the mobile number already in E.164.
    fn profile(&self, default_lang: &str, phone: &str) -> ProfileInput {
        let language = Lang::parse(&self.language)
            .map(Lang::code)
            .unwrap_or(default_lang);
        ProfileInput {
            first_name: self.given_name.clone(),
            last_name: self.family_name.clone(),
            user_type: if self.administrator {
                "administrator"
            } else {
                "user"
            }
            .into(),
            language: language.into(),
            phone_number: phone.into(),
            ..Default::default()
        }
    }
}

/// Refuses userNames another user of the account (in the token's reach or not) already has:
/// a provider's, or the address of a user no provider named.
async fn user_names_free(
    ctx: &Ctx,
    account: &NodeRow,
    names: &[&str],
    me: Option<Uuid>,
) -> Result<()> {
    let keys: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let mut conn = ctx.db.conn().await?;
    if store::scim::any_user_name_taken(conn.ex(), account.id, &keys, me).await? {
        return Err(Error::field("userName", "scim-username-taken"));
    }
    Ok(())
}

/// Stores the provider's side of a user — userName, external id, document; another user of
/// the account with the same userName or external id refuses it (the unique indexes; the
/// caller says which, see `which_taken`).
async fn keep_provided(
    tx: &mut Tx,
    user: Uuid,
    account: &NodeRow,
    input: &ScimUserInput,
) -> Result<()> {
    let doc = input.document.to_string();
    let kept = store::scim::put_user_document(
        tx.ex(),
        user,
        account.id,
        &input.user_name,
        input.external_id.as_deref(),
        &doc,
    )
    .await?;
    if kept == store::scim::Kept::Taken {
        return Err(Error::Conflict("scim-taken"));
    }
    Ok(())
}

/// After the unique indexes refused the provider's side (the transaction rolled back): the
/// field another user of the account has.
async fn which_taken(
    ctx: &Ctx,
    account: &NodeRow,
    input: &ScimUserInput,
    me: Option<Uuid>,
) -> Error {
    if let Some(e) = &input.external_id
        && let Ok(mut conn) = ctx.db.conn().await
        && let Ok(Some(holder)) = store::scim::user_by_external_id(conn.ex(), account.id, e).await
        && Some(holder) != me
    {
        return Error::field("externalId", "scim-external-id-taken");
    }
    Error::field("userName", "scim-username-taken")
}

async fn account_of(ctx: &Ctx, actor: &Actor) -> Result<NodeRow> {
    let mut conn = ctx.db.conn().await?;
    store::node::get_node(conn.ex(), actor.account_id.0).await
}

/// Provisions a new person user into the token's node: the user, its invitation (unless the
/// request says otherwise) and the provider's side, in one transaction.
pub async fn create_user(ctx: &Ctx, actor: &Actor, input: &ScimUserInput) -> Result<UserId> {
    let mut ids = create_users(ctx, actor, std::slice::from_ref(input)).await?;
    ids.pop().ok_or(Error::NotFound)
}

/// Provisions users into the token's node, all or none, in one transaction (one user, or a
/// `/Bulk` run of creates). Any refusal — a field, a userName or address taken, also within
/// the batch — gives the error and writes nothing (a `/Bulk` run then goes one by one, so each
/// failure is told on its own operation).
pub async fn create_users(
    ctx: &Ctx,
    actor: &Actor,
    inputs: &[ScimUserInput],
) -> Result<Vec<UserId>> {
    let node = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let account = account_of(ctx, actor).await?;
    let mut news = Vec::with_capacity(inputs.len());
    for input in inputs {
        let phone = mobile_of(&input.document, &account.default_country);
        let new = NewUser {
            system: false,
            profile: input.profile(&account.default_language, &phone),
            email: input.email.clone(),
            friendly_name: input.display_name.trim().to_string(),
            provider_named: true,
            password: if input.invite {
                PasswordChoice::Invite
            } else {
                PasswordChoice::SetNow(user::generate_password()?)
            },
            // `active: false` creates the user disabled, in the same transaction.
            disabled: !input.active,
            ..Default::default()
        };
        let checked = user::check_new_user(ctx, &new).await?;
        news.push((new, checked));
    }
    // A userName taken is said before anything is written (the unique index stands behind
    // this check for a provider's userName).
    let names: Vec<&str> = inputs.iter().map(|i| i.user_name.as_str()).collect();
    user_names_free(ctx, &account, &names, None).await?;
    let mut tx = ctx.db.begin().await?;
    let mut ids = Vec::with_capacity(inputs.len());
    for ((new, checked), input) in news.into_iter().zip(inputs) {
        let created = user::insert_new_user(&mut tx, ctx, actor, node, &new, checked).await?;
        if let Err(e) = keep_provided(&mut tx, created.id.0, &account, input).await {
            drop(tx);
            return Err(match e {
                Error::Conflict("scim-taken") => which_taken(ctx, &account, input, None).await,
                other => other,
            });
        }
        ids.push(created.id);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Replaces a user's provisioned fields (PUT), or applies a PATCH's result, in one
/// transaction: Roster's fields, the status, the address and the provider's side all change,
/// or nothing does. A new address applies at once (the provider is the organization's
/// directory); the old one is told.
pub async fn replace_user(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    input: &ScimUserInput,
) -> Result<()> {
    let uid = UserId(id);
    let d = user::get_user(ctx, actor, uid).await?;
    if d.is_system {
        return Err(Error::NotFound);
    }
    if version.is_some_and(|v| v != d.version) {
        return Err(Error::Conflict("api-if-match-stale"));
    }
    let account = account_of(ctx, actor).await?;
    {
        // A userName or external id taken is said before anything is written (the unique
        // indexes stand behind these checks).
        user_names_free(ctx, &account, &[&input.user_name], Some(id)).await?;
        let mut conn = ctx.db.conn().await?;
        if let Some(e) = &input.external_id
            && store::scim::user_by_external_id(conn.ex(), account.id, e)
                .await?
                .is_some_and(|h| h != id)
        {
            return Err(Error::field("externalId", "scim-external-id-taken"));
        }
    }
    let phone = mobile_of(&input.document, country_of(&d, &account));
    let language = Lang::parse(&input.language)
        .map(Lang::code)
        .unwrap_or(&account.default_language);
    let change = UserChange {
        first_name: Some(input.given_name.clone()),
        last_name: Some(input.family_name.clone()),
        friendly_name: Some(input.display_name.clone()),
        user_type: Some(
            if input.administrator {
                "administrator"
            } else {
                "user"
            }
            .into(),
        ),
        language: Some(language.into()),
        phone: Some((String::new(), phone.clone())),
        receive_invoices: Some(d.receive_invoices && input.administrator),
        notify_sms: Some(d.notify_sms && !phone.is_empty()),
        active: ((d.status != UserStatus::Disabled) != input.active).then_some(input.active),
        email: (input.email != d.email).then(|| EmailChange::Directory(input.email.clone())),
        ..Default::default()
    };
    let written = ctx
        .write(async |tx| {
            user::update_user_in(tx, ctx, actor, uid, d.version, &change).await?;
            keep_provided(tx, id, &account, input).await
        })
        .await;
    match written {
        Err(Error::Conflict("scim-taken")) => {
            Err(which_taken(ctx, &account, input, Some(id)).await)
        }
        other => other,
    }
}

/// Deletes a provisioned user (person users only: system users are the API's, not SCIM's).
pub async fn delete_user(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    let d = user::get_user(ctx, actor, UserId(id)).await?;
    if d.is_system {
        return Err(Error::NotFound);
    }
    user::delete_user(ctx, actor, UserId(id)).await
}
