//! "Administered": when an account is set as Administered, its contact (name, email, phone) is
//! told to someone who tries to use the services from an address in one of the account's email
//! domains without being a user, so they know whom to ask for access. The operator sets the
//! switch and the domains; a domain belongs to one account.

use serde_json::json;

use crate::context::Ctx;
use crate::domain::node::node_in_scope;
use crate::domain::{Actor, audit};
use crate::error::{Error, Result};
use crate::model::{NodeId, NodeKind};
use crate::store;

/// An account's domains at most.
pub const MAX_DOMAINS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administered {
    pub on: bool,
    pub domains: Vec<String>,
    /// Days the account's audit events are kept (None: the deployment's default).
    pub retention_days: Option<i64>,
}

/// The longest retention an operator may set, in days (ten years).
pub const MAX_RETENTION_DAYS: i64 = 3650;

/// Days to keep audit events, as typed: empty for the deployment's default, else 1–3650.
pub fn parse_retention(text: &str) -> Result<Option<i64>> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<i64>() {
        Ok(n) if (1..=MAX_RETENTION_DAYS).contains(&n) => Ok(Some(n)),
        _ => Err(Error::field("retention_days", "retention-invalid")),
    }
}

/// One email domain, in lower case: labels of a-z, 0-9 and `-` (not at either end), at least
/// two of them, at most 253 characters.
fn parse_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_start_matches('@').to_ascii_lowercase();
    let labels: Vec<&str> = d.split('.').collect();
    let ok = d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    ok.then_some(d)
}

/// The domains written one a line (or separated by commas or spaces), each once, in order.
pub fn parse_domains(text: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = vec![];
    for part in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        let d = parse_domain(part).ok_or(Error::field("domains", "domain-invalid"))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    if out.len() > MAX_DOMAINS {
        return Err(Error::field("domains", "domains-too-many"));
    }
    out.sort();
    Ok(out)
}

async fn account_in_scope(
    ex: store::Ex<'_>,
    actor: &Actor,
    id: NodeId,
) -> Result<store::node::NodeRow> {
    let row = node_in_scope(ex, actor, id.0).await?;
    if row.kind != NodeKind::Account.as_str() {
        return Err(Error::NotFound);
    }
    Ok(row)
}

/// The switch and the domains of an account the actor administers.
pub async fn administered(ctx: &Ctx, actor: &Actor, account: NodeId) -> Result<Administered> {
    let mut conn = ctx.db.conn().await?;
    let row = account_in_scope(conn.ex(), actor, account).await?;
    let on = store::account_domain::administered(conn.ex(), row.id).await?;
    let domains = store::account_domain::domains_of(conn.ex(), row.id).await?;
    let retention_days = store::account_domain::retention_of(conn.ex(), row.id).await?;
    Ok(Administered {
        on,
        domains,
        retention_days,
    })
}

/// Sets an account as Administered (or not) with its email domains: operator staff only (the
/// account's administrators see it); a domain of another account is refused on the field;
/// nothing changes when anything is refused.
pub async fn set_administered(
    ctx: &Ctx,
    actor: &Actor,
    account: NodeId,
    version: i64,
    on: bool,
    domains: &str,
    retention: &str,
) -> Result<()> {
    ctx.write(async |tx| {
        let now = ctx.clock.now();
        let row = account_in_scope(tx.ex(), actor, account).await?;
        if !actor.is_operator() {
            return Err(Error::Forbidden);
        }
        let domains = parse_domains(domains)?;
        let retention_days = parse_retention(retention)?;
        for d in &domains {
            if store::account_domain::owner_of(tx.ex(), d)
                .await?
                .is_some_and(|owner| owner != row.id)
            {
                return Err(Error::field("domains", "domain-taken"));
            }
        }
        if version != row.version {
            return Err(Error::Conflict("error-changed-meanwhile"));
        }
        let before = Administered {
            on: store::account_domain::administered(tx.ex(), row.id).await?,
            domains: store::account_domain::domains_of(tx.ex(), row.id).await?,
            retention_days: store::account_domain::retention_of(tx.ex(), row.id).await?,
        };
        let after = Administered {
            on,
            domains,
            retention_days,
        };
        if before == after {
            return Ok(());
        }
        store::account_domain::set_administered(tx.ex(), row.id, on, now.millis()).await?;
        store::account_domain::replace_domains(tx.ex(), row.id, &after.domains, now.millis())
            .await?;
        store::account_domain::set_retention(tx.ex(), row.id, after.retention_days).await?;
        audit::Event::new(actor, "account.administered")
            .target("node", row.id, Some(row.id))
            .before(json!({"administered": before.on, "domains": before.domains,
                           "retention_days": before.retention_days}))
            .after(json!({"administered": after.on, "domains": after.domains,
                          "retention_days": after.retention_days}))
            .write(tx.ex(), now)
            .await
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn domains_are_checked_and_kept_once_in_lower_case() {
        let d = super::parse_domains("Example.com, @sales.example.com\nexample.com").unwrap();
        assert_eq!(d, ["example.com", "sales.example.com"]);
        assert!(super::parse_domains("localhost").is_err());
        assert!(super::parse_domains("-bad.com").is_err());
        assert!(super::parse_domains("a b.c").is_err());
        assert!(super::parse_domains("").unwrap().is_empty());
        let many: Vec<String> = (0..21).map(|i| format!("d{i}.test")).collect();
        assert!(super::parse_domains(&many.join(" ")).is_err());
    }
}
