//! First run: the operator root, the one-time set-up link, and the first operator administrator.

use uuid::Uuid;

use crate::context::Ctx;
use crate::error::{Error, Problems, Result};
use crate::model::{Email, Lang, NodeKind, Timestamp, UserId};
use crate::password;
use crate::secret;
use crate::store::{
    self, Ex, Tx, audit::NewAuditEvent, link::NewLinkToken, node::NodeRow, user::UserRow,
};

pub(crate) const PURPOSE: &str = "setup";

/// The link printed at first start.
#[derive(Debug, Clone)]
pub struct SetupLink {
    pub url: String,
    pub expires_at: Timestamp,
}

/// What a person enters to become the first operator administrator.
#[derive(Debug, Clone, Default)]
pub struct FirstAdmin {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub password: String,
    pub password_repeat: String,
    pub lang: Lang,
}

/// Creates the operator root when missing. When nobody administers it yet, voids any older
/// set-up link and returns a fresh one; otherwise returns None.
pub async fn prepare_first_run(ctx: &Ctx) -> Result<Option<SetupLink>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let root = ensure_operator_root(&mut tx, now).await?;
    if store::grant::count_active_admins_of_node(tx.ex(), root).await? > 0 {
        tx.commit().await?;
        return Ok(None);
    }
    store::link::void_node_tokens(tx.ex(), PURPOSE, root, now.millis()).await?;
    let token = secret::new_token()?;
    let expires_at = now.plus_secs(ctx.settings.setup_link_secs);
    store::link::insert_link_token(
        tx.ex(),
        NewLinkToken {
            token_hash: &secret::hash_token(&token),
            purpose: PURPOSE,
            user_id: None,
            node_id: Some(root),
            data: "",
            now: now.millis(),
            expires_at: expires_at.millis(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(SetupLink {
        url: ctx.settings.link(&format!("/setup?token={token}")),
        expires_at,
    }))
}

/// Checks a set-up link without using it (the page shows its form only for a live link).
pub async fn check_setup_link(ctx: &Ctx, token: &str) -> Result<()> {
    let mut conn = ctx.db.conn().await?;
    live_token(conn.ex(), token, ctx.clock.now())
        .await
        .map(|_| ())
}

/// Uses the set-up link once: creates the first operator administrator.
pub async fn complete_setup(
    ctx: &Ctx,
    token: &str,
    input: &FirstAdmin,
    ip: &str,
) -> Result<UserId> {
    let email = validate(
        &input.first_name,
        &input.last_name,
        &input.email,
        &input.password,
        &input.password_repeat,
    )?;
    let now = ctx.clock.now();
    let hash = crate::domain::hasher::hash(ctx, &input.password).await?;
    let mut tx = ctx.db.begin().await?;
    let root = live_token(tx.ex(), token, now).await?;
    if !store::link::use_link_token(tx.ex(), &secret::hash_token(token), now.millis()).await? {
        return Err(Error::Unauthenticated("link-used"));
    }
    if store::grant::count_active_admins_of_node(tx.ex(), root).await? > 0 {
        return Err(Error::Unauthenticated("link-used"));
    }
    let user =
        insert_operator_admin(&mut tx, root, &email, input, &hash, now, "set-up link", ip).await?;
    tx.commit().await?;
    Ok(user)
}

/// `roster admin create`: adds an operator administrator from the command line.
pub async fn create_operator_admin(ctx: &Ctx, input: &FirstAdmin) -> Result<UserId> {
    let email = validate(
        &input.first_name,
        &input.last_name,
        &input.email,
        &input.password,
        &input.password_repeat,
    )?;
    let now = ctx.clock.now();
    let hash = crate::domain::hasher::hash(ctx, &input.password).await?;
    let mut tx = ctx.db.begin().await?;
    let root = ensure_operator_root(&mut tx, now).await?;
    if store::user::find_user_by_email(tx.ex(), email.as_str())
        .await?
        .is_some()
    {
        return Err(Error::field("email", "error-email-taken"));
    }
    let user =
        insert_operator_admin(&mut tx, root, &email, input, &hash, now, "command line", "").await?;
    // Whoever held the printed set-up link no longer needs it.
    store::link::void_node_tokens(tx.ex(), PURPOSE, root, now.millis()).await?;
    tx.commit().await?;
    Ok(user)
}

fn validate(first: &str, last: &str, email: &str, pw: &str, pw_repeat: &str) -> Result<Email> {
    let mut problems = Problems::default();
    for (field, value) in [("first_name", first), ("last_name", last)] {
        if value.chars().count() > 100 || value.chars().any(char::is_control) {
            problems.add(field, "field-name-invalid");
        }
    }
    let email = problems.check(Email::parse("email", email));
    problems.check(password::check_new(
        "password",
        pw,
        email.as_ref().map(Email::as_str),
    ));
    if pw != pw_repeat {
        problems.add("password_repeat", "password-mismatch");
    }
    problems.finish()?;
    email.ok_or(Error::field("email", "field-email-invalid"))
}

/// The token's node when the link is live; the reason otherwise.
async fn live_token(ex: Ex<'_>, token: &str, now: Timestamp) -> Result<Uuid> {
    let row = store::link::find_link_token(ex, &secret::hash_token(token)).await?;
    let Some(row) = row.filter(|r| r.purpose == PURPOSE) else {
        return Err(Error::Unauthenticated("link-invalid"));
    };
    if row.used_at.is_some() {
        return Err(Error::Unauthenticated("link-used"));
    }
    if row.expires_at <= now.millis() {
        return Err(Error::Unauthenticated("link-expired"));
    }
    row.node_id.ok_or(Error::Unauthenticated("link-invalid"))
}

pub(crate) async fn ensure_operator_root(tx: &mut Tx, now: Timestamp) -> Result<Uuid> {
    if let Some(root) = store::node::find_operator_root(tx.ex()).await? {
        return Ok(root.id);
    }
    let id = Uuid::now_v7();
    let row = NodeRow {
        id,
        parent_id: None,
        kind: NodeKind::Operator.as_str().into(),
        name: "Operator".into(),
        path: format!("/{}/", id.simple()),
        depth: 0,
        account_id: id,
        contact_name: String::new(),
        contact_email: String::new(),
        contact_phone: String::new(),
        default_language: Lang::En.code().into(),
        default_country: String::new(),
        user_count: 0,
        version: 1,
        created_at: now.millis(),
        mfa_policy: None,
        mfa_factors: None,
    };
    store::node::insert_node(tx.ex(), &row, now.millis()).await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn insert_operator_admin(
    tx: &mut Tx,
    root: Uuid,
    email: &Email,
    input: &FirstAdmin,
    hash: &str,
    now: Timestamp,
    via: &str,
    ip: &str,
) -> Result<UserId> {
    let id = Uuid::now_v7();
    let (first, last) = (
        input.first_name.trim().to_string(),
        input.last_name.trim().to_string(),
    );
    let row = UserRow {
        id,
        node_id: root,
        account_id: root,
        kind: "person".into(),
        email: Some(email.as_str().to_string()),
        email_verified: true,
        email_pending: None,
        login: None,
        sort_name: super::user::sort_name_of(&first, &last, email.as_str()),
        first_name: first,
        last_name: last,
        friendly_name: String::new(),
        phone: None,
        country_code: String::new(),
        language: input.lang.code().into(),
        user_type: "administrator".into(),
        status: "active".into(),
        password_hash: Some(hash.to_string()),
        password_must_change: false,
        notes: String::new(),
        receive_invoices: false,
        notifications_enabled: false,
        notify_email: false,
        notify_sms: false,
        mfa_required: false,
        invite_message: String::new(),
        version: 1,
        created_at: now.millis(),
        updated_at: now.millis(),
    };
    store::user::insert_user(tx.ex(), &row, false).await?;
    store::node::adjust_user_count(tx.ex(), root, 1).await?;
    store::user::replace_terms(tx.ex(), id, root, &super::user::search_terms_of(&row)).await?;
    store::grant::insert_node_grant(tx.ex(), id, "administrator", root, None, now.millis()).await?;
    let after = serde_json::json!({
        "email": email.as_str(), "first_name": row.first_name, "last_name": row.last_name,
        "language": input.lang.code(), "user_type": "administrator",
        "grant": {"role": "administrator", "node": root.to_string()}, "via": via,
    });
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: None,
            actor_label: via,
            action: "user.create",
            target_kind: "user",
            target_id: id.to_string(),
            node_id: Some(root),
            after: after.to_string(),
            ip,
            outcome: "ok",
            ..Default::default()
        },
    )
    .await?;
    Ok(UserId(id))
}

/// The operator root's id and path (for the command line's actor).
pub async fn operator_root(ctx: &Ctx) -> Result<(crate::model::NodeId, String)> {
    let mut conn = ctx.db.conn().await?;
    let root = store::node::find_operator_root(conn.ex())
        .await?
        .ok_or(Error::NotFound)?;
    Ok((crate::model::NodeId(root.id), root.path))
}
