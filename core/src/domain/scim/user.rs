//! SCIM users: reading them (one, or a list from an index where it can), provisioning them in
//! one transaction, replacing them whole (PUT, or a PATCH's result), deleting them. How a user
//! maps to SCIM's JSON and back is `mapping`.

use super::mapping::{Provided, ScimUserInput, Shown, country_of, mobile_of, user_json};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::context::Ctx;
use crate::domain::Actor;
use crate::domain::user::{self, EmailChange, NewUser, PasswordChoice, UserChange};
use crate::error::{Error, Result};
use crate::model::{Lang, UserId, UserStatus};
use crate::scim::filter::{Filter, Lookup};
use crate::store;
use crate::store::Tx;
use crate::store::node::NodeRow;
use crate::store::scim::Within;

/// Users examined at most for a filter that no index answers whole (or a list sorted by
/// something else than userName); more is refused as too many.
pub const SCAN_LIMIT: usize = 10_000;

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
    // The unit is checked once for the whole batch, and its count adjusted once.
    let mut unit = user::NewUsersUnit::open(&mut tx, actor, node).await?;
    let mut ids = Vec::with_capacity(inputs.len());
    for ((new, checked), input) in news.into_iter().zip(inputs) {
        let created = unit.insert(&mut tx, ctx, actor, &new, checked).await?;
        if let Err(e) = keep_provided(&mut tx, created.id.0, &account, input).await {
            drop(tx);
            return Err(match e {
                Error::Conflict("scim-taken") => which_taken(ctx, &account, input, None).await,
                other => other,
            });
        }
        ids.push(created.id);
    }
    unit.close(&mut tx).await?;
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
