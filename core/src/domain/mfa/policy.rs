//! Who must use a second factor, and which factors are allowed: a policy per node, inherited
//! down the tree (an account chooses over the operator's default; a unit only tightens).

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorKind {
    Sms,
    Totp,
    Passkey,
}

impl FactorKind {
    pub const ALL: [FactorKind; 3] = [FactorKind::Sms, FactorKind::Totp, FactorKind::Passkey];

    pub fn parse(s: &str) -> Option<FactorKind> {
        match s {
            "sms" => Some(FactorKind::Sms),
            "totp" => Some(FactorKind::Totp),
            "passkey" => Some(FactorKind::Passkey),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Sms => "sms",
            FactorKind::Totp => "totp",
            FactorKind::Passkey => "passkey",
        }
    }
}

pub(super) fn parse_factors(s: &str) -> Vec<FactorKind> {
    s.split(',')
        .filter_map(|k| FactorKind::parse(k.trim()))
        .collect()
}

pub(super) fn factors_text(kinds: &[FactorKind]) -> String {
    FactorKind::ALL
        .iter()
        .filter(|k| kinds.contains(k))
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The policy in force at a node, and what the node itself sets (None: inherited).
#[derive(Clone, Debug)]
pub struct Policy {
    pub require: Require,
    pub factors: Vec<FactorKind>,
    pub own_require: Option<Require>,
    pub own_factors: Option<Vec<FactorKind>>,
}

impl Policy {
    pub fn allows(&self, kind: FactorKind) -> bool {
        self.factors.contains(&kind)
    }

    /// `allows` by the factor's name ("sms", "totp", "passkey"), for templates.
    pub fn allows_named(&self, kind: &str) -> bool {
        FactorKind::parse(kind).is_some_and(|k| self.allows(k))
    }

    /// What this node itself says about who must use a factor: "inherit" or the choice.
    pub fn own_require_name(&self) -> &'static str {
        self.own_require.map(Require::as_str).unwrap_or("inherit")
    }

    pub(super) fn requires(&self, is_admin: bool, switched_on: bool) -> bool {
        match self.require {
            Require::Everyone => true,
            Require::Administrators => is_admin || switched_on,
            Require::Users => switched_on,
        }
    }
}

/// The policy in force at `node`. An account (and the operator root) chooses for itself, over
/// the operator's default; a unit only tightens what it inherits: it may require more, never
/// less, and allow only some of the factors allowed above it (should a parent later narrow its
/// factors to none the unit allows, the parent's stand).
pub(super) async fn policy_at(h: &mut impl Handle, ctx: &Ctx, node: Uuid) -> Result<Policy> {
    let rows = store::node::mfa_settings_up(h.ex(), node).await?;
    let own = rows
        .first()
        .map(|(_, p, f)| (p.clone(), f.clone()))
        .unwrap_or((None, None));
    let (require, factors) = inherited(ctx.settings.mfa_default, rows.iter().rev());
    Ok(Policy {
        require,
        factors,
        own_require: own.0.as_deref().and_then(Require::parse),
        own_factors: own.1.as_deref().map(parse_factors),
    })
}

/// Folds the settings of a chain of nodes, root first, into the policy at its end.
pub(super) fn inherited<'a>(
    default: Require,
    top_down: impl Iterator<Item = &'a (String, Option<String>, Option<String>)>,
) -> (Require, Vec<FactorKind>) {
    let mut require = default;
    let mut factors = FactorKind::ALL.to_vec();
    for (kind, own_require, own_factors) in top_down {
        let unit = kind == "unit";
        if let Some(r) = own_require.as_deref().and_then(Require::parse) {
            require = if unit { require.max(r) } else { r };
        }
        if let Some(f) = own_factors.as_deref().map(parse_factors) {
            if !unit {
                factors = f;
            } else {
                let narrowed: Vec<FactorKind> =
                    factors.iter().copied().filter(|k| f.contains(k)).collect();
                if !narrowed.is_empty() {
                    factors = narrowed;
                }
            }
        }
    }
    (require, factors)
}

/// Whether a user must use a second factor, with the policy that says so.
pub(super) async fn requirement(
    h: &mut impl Handle,
    ctx: &Ctx,
    user: &UserRow,
) -> Result<(bool, Policy)> {
    let policy = policy_at(h, ctx, user.node_id).await?;
    // Whether the user administers anything matters only when nothing else decides.
    let required = match policy.require {
        Require::Everyone => true,
        _ if user.mfa_required => true,
        Require::Users => false,
        Require::Administrators => {
            user.user_type == "administrator" || store::grant::holds_grants(h.ex(), user.id).await?
        }
    };
    Ok((required, policy))
}

/// The policy in force at a node the actor administers.
pub async fn node_policy(ctx: &Ctx, actor: &Actor, node: NodeId) -> Result<Policy> {
    let mut conn = ctx.db.conn().await?;
    let row = store::node::get_node(conn.ex(), node.0).await?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    policy_at(&mut conn, ctx, row.id).await
}

/// Sets who must use a second factor below a node, and which factors are allowed; None
/// inherits. Accounts and units choose administrators or everyone (administrators
/// always), and at least one factor.
pub async fn set_policy(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    require: Option<&str>,
    factors: Option<&[String]>,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = store::node::find_node(tx.ex(), node.0)
        .await?
        .ok_or(Error::NotFound)?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    // A unit's own policy is set from above: its administrator could otherwise undo what the
    // level above them required of their unit.
    if row.kind == "unit"
        && let Some(parent) = row.parent_id
    {
        let parent = store::node::get_node(tx.ex(), parent).await?;
        if !actor.administers_path(&parent.path) {
            return Err(Error::Forbidden);
        }
    }
    let require = match require
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "inherit")
    {
        None => None,
        Some(s) => match Require::parse(s) {
            Some(r @ (Require::Administrators | Require::Everyone)) => Some(r),
            _ => return Err(Error::field("mfa_policy", "mfa-policy-invalid")),
        },
    };
    let factors = match factors {
        None => None,
        Some(list) => {
            let kinds: Vec<FactorKind> = list.iter().filter_map(|k| FactorKind::parse(k)).collect();
            if kinds.len() != list.len() {
                return Err(Error::field("mfa_factors", "mfa-factors-invalid"));
            }
            if kinds.is_empty() {
                return Err(Error::field("mfa_factors", "mfa-factors-none"));
            }
            Some(factors_text(&kinds))
        }
    };
    // A unit only tightens the policy above it.
    if row.kind == "unit"
        && let Some(parent) = row.parent_id
    {
        let above = policy_at(&mut tx, ctx, parent).await?;
        if require.is_some_and(|r| r < above.require) {
            return Err(Error::field("mfa_policy", "mfa-policy-weaker"));
        }
        if let Some(list) = &factors
            && parse_factors(list).iter().any(|k| !above.allows(*k))
        {
            return Err(Error::field("mfa_factors", "mfa-factors-wider"));
        }
    }
    let before = (row.mfa_policy.clone(), row.mfa_factors.clone());
    store::node::set_mfa_settings(
        tx.ex(),
        row.id,
        require.map(Require::as_str),
        factors.as_deref(),
        now.millis(),
    )
    .await?;
    audit::Event::new(actor, "mfa.policy")
        .target("node", row.id, Some(row.id))
        .before(json!({ "policy": before.0, "factors": before.1 }))
        .after(json!({ "policy": require.map(Require::as_str), "factors": factors }))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// A user still without a second factor, for the administrator's list.
#[derive(Debug, Clone)]
pub struct Unenrolled {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub invited: bool,
    pub required: bool,
}

/// Users below a node the actor administers without a second factor, required ones first.
pub async fn not_enrolled(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    limit: i64,
) -> Result<Vec<Unenrolled>> {
    let mut conn = ctx.db.conn().await?;
    let row = store::node::get_node(conn.ex(), node.0).await?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    let rows = store::node::users_without_factor(conn.ex(), &row.path, limit).await?;
    let mut policies: std::collections::HashMap<Uuid, Policy> = Default::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = policies.entry(r.node_id) {
            slot.insert(policy_at(&mut conn, ctx, r.node_id).await?);
        }
        let policy = &policies[&r.node_id];
        let is_admin = r.user_type == "administrator" || r.has_grants;
        let email = r.email.unwrap_or_default();
        let name = format!("{} {}", r.first_name, r.last_name)
            .trim()
            .to_string();
        out.push(Unenrolled {
            id: UserId(r.id),
            name: if name.is_empty() { email.clone() } else { name },
            email,
            invited: r.status == "invited",
            required: policy.requires(is_admin, r.mfa_required),
        });
    }
    out.sort_by_key(|u| !u.required);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_requires() {
        let p = |require| Policy {
            require,
            factors: FactorKind::ALL.to_vec(),
            own_require: None,
            own_factors: None,
        };
        assert!(p(Require::Administrators).requires(true, false));
        assert!(!p(Require::Administrators).requires(false, false));
        assert!(p(Require::Administrators).requires(false, true));
        assert!(p(Require::Everyone).requires(false, false));
        assert!(!p(Require::Users).requires(true, false));
        assert!(p(Require::Users).requires(false, true));
    }

    #[test]
    fn factor_lists_round_trip() {
        assert_eq!(
            parse_factors("totp, passkey,bogus"),
            vec![FactorKind::Totp, FactorKind::Passkey]
        );
        assert_eq!(
            factors_text(&[FactorKind::Passkey, FactorKind::Sms]),
            "sms,passkey"
        );
    }
}
