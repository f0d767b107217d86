use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

/// One audit event as written; `before`/`after` are JSON texts (empty when not applicable).
#[derive(Debug, Clone, Default)]
pub(crate) struct NewAuditEvent<'a> {
    pub at: i64,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: String,
    pub node_id: Option<Uuid>,
    pub before: String,
    pub after: String,
    pub ip: &'a str,
    pub outcome: &'a str,
    /// The API or SCIM token the change was made with.
    pub credential_id: Option<Uuid>,
}

/// Appends an event to its account's hash chain (see `audit_chain`): the chain's head is locked
/// for the rest of the transaction, so appends to one account are one after the other.
pub(crate) async fn insert_audit_event(ex: Ex<'_>, e: NewAuditEvent<'_>) -> Result<()> {
    let sql = "INSERT INTO audit_events (id, at, actor_user_id, actor_label, action, target_kind, \
               target_id, node_id, before_data, after_data, ip, outcome, credential_id, \
               chain_key, seq, prev_hash, hash) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
    let account = "SELECT account_id FROM nodes WHERE id = $1";
    // One statement creates the head when missing and locks it until the transaction ends
    // (PostgreSQL; SQLite has one writer), answering the number and hash to follow.
    let head = "INSERT INTO audit_chains (chain_key, seq, hash) VALUES ($1, 0, $2) \
                ON CONFLICT (chain_key) DO UPDATE SET seq = audit_chains.seq \
                RETURNING seq, hash";
    let advance = "UPDATE audit_chains SET seq = $2, hash = $3 WHERE chain_key = $1";
    let id = Uuid::now_v7();
    macro_rules! append {
        ($c:expr) => {{
            let key = match e.node_id {
                Some(n) => match known_account(n) {
                    Some(a) => a.to_string(),
                    None => {
                        let a = sqlx::query_scalar::<_, Uuid>(account)
                            .bind(n)
                            .fetch_optional(&mut *$c)
                            .await?;
                        if let Some(a) = a {
                            remember_account(n, a);
                        }
                        a.map(|a| a.to_string()).unwrap_or_default()
                    }
                },
                None => String::new(),
            };
            let (seq, prev) = sqlx::query_as::<_, (i64, Vec<u8>)>(head)
                .bind(&key)
                .bind(GENESIS.as_slice())
                .fetch_one(&mut *$c)
                .await?;
            let seq = seq + 1;
            let hash = chain_hash(
                &prev,
                &Linked {
                    id,
                    key: &key,
                    seq,
                    e: &e,
                },
            );
            sqlx::query(sql)
                .bind(id)
                .bind(e.at)
                .bind(e.actor_user_id)
                .bind(e.actor_label)
                .bind(e.action)
                .bind(e.target_kind)
                .bind(&e.target_id)
                .bind(e.node_id)
                .bind(&e.before)
                .bind(&e.after)
                .bind(e.ip)
                .bind(e.outcome)
                .bind(e.credential_id)
                .bind(&key)
                .bind(seq)
                .bind(&prev)
                .bind(hash.as_slice())
                .execute(&mut *$c)
                .await?;
            sqlx::query(advance)
                .bind(&key)
                .bind(seq)
                .bind(hash.as_slice())
                .execute(&mut *$c)
                .await?;
        }};
    }
    match ex {
        Ex::Sqlite(c) => append!(c),
        // Other nodes hear of it when this transaction commits (PostgreSQL sends one notice
        // per transaction for the same payload).
        Ex::Postgres(c) => {
            append!(c);
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::changes::CHANNEL)
                .execute(&mut *c)
                .await?;
        }
    }
    Ok(())
}

/// The account a node belongs to, as this process has seen it: a node never leaves its account
/// (units move only within one), so the answer holds for good. Bounded: forgotten at 100,000.
static ACCOUNTS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<Uuid, Uuid>>> =
    std::sync::LazyLock::new(Default::default);

fn known_account(node: Uuid) -> Option<Uuid> {
    ACCOUNTS.lock().ok()?.get(&node).copied()
}

fn remember_account(node: Uuid, account: Uuid) {
    if let Ok(mut m) = ACCOUNTS.lock() {
        if m.len() >= 100_000 {
            m.clear();
        }
        m.insert(node, account);
    }
}

/// The hash before a chain's first event.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

/// An event as its chain covers it.
pub(crate) struct Linked<'a> {
    pub id: Uuid,
    pub key: &'a str,
    pub seq: i64,
    pub e: &'a NewAuditEvent<'a>,
}

/// SHA-256 of the previous hash and every field of the event, each length-prefixed, so no two
/// different events write the same bytes.
pub(crate) fn chain_hash(prev: &[u8], l: &Linked<'_>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u32).to_be_bytes());
        h.update(b);
    };
    let uuid = |u: Option<Uuid>| u.map(|u| u.as_bytes().to_vec()).unwrap_or_default();
    let e = l.e;
    field(prev);
    field(l.id.as_bytes());
    field(l.key.as_bytes());
    field(&l.seq.to_be_bytes());
    field(&e.at.to_be_bytes());
    field(&uuid(e.actor_user_id));
    field(e.actor_label.as_bytes());
    field(e.action.as_bytes());
    field(e.target_kind.as_bytes());
    field(e.target_id.as_bytes());
    field(&uuid(e.node_id));
    field(e.before.as_bytes());
    field(e.after.as_bytes());
    field(e.ip.as_bytes());
    field(e.outcome.as_bytes());
    field(&uuid(e.credential_id));
    h.finalize().into()
}

/// An event as stored, with its link in the chain.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChainedRow {
    pub id: Uuid,
    pub at: i64,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub node_id: Option<Uuid>,
    pub before_data: String,
    pub after_data: String,
    pub ip: String,
    pub outcome: String,
    pub credential_id: Option<Uuid>,
    pub seq: i64,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Up to `limit` events of a chain after `seq`, in order.
pub(crate) async fn chain_after(
    ex: Ex<'_>,
    key: &str,
    seq: i64,
    limit: i64,
) -> Result<Vec<ChainedRow>> {
    let sql = "SELECT id, at, actor_user_id, actor_label, action, target_kind, target_id, \
               node_id, before_data, after_data, ip, outcome, credential_id, seq, prev_hash, hash \
               FROM audit_events WHERE chain_key = $1 AND seq > $2 ORDER BY seq LIMIT $3";
    Ok(
        on!(ex, c => sqlx::query_as::<_, ChainedRow>(sql).bind(key).bind(seq).bind(limit)
        .fetch_all(&mut *c).await)?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub at: i64,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub ip: String,
    pub outcome: String,
}

/// The newest events, newest first.
pub(crate) async fn list_recent_audit_events(ex: Ex<'_>, limit: i64) -> Result<Vec<AuditRow>> {
    let sql = "SELECT at, actor_label, action, target_kind, target_id, ip, outcome \
               FROM audit_events ORDER BY at DESC, id DESC LIMIT $1";
    Ok(on!(ex, c => sqlx::query_as::<_, AuditRow>(sql).bind(limit).fetch_all(&mut *c).await)?)
}

/// Removes up to `batch` events written before the chains began that are older than their
/// account's retention (`default_days` where it set none); how many went.
pub(crate) async fn purge_unchained(
    ex: Ex<'_>,
    now: i64,
    default_days: i64,
    batch: i64,
) -> Result<u64> {
    let sql = "DELETE FROM audit_events WHERE id IN (SELECT e.id FROM audit_events e \
               LEFT JOIN nodes n ON n.id = e.node_id LEFT JOIN nodes a ON a.id = n.account_id \
               WHERE e.chain_key IS NULL \
               AND e.at < $1 - COALESCE(a.audit_retention_days, $2) * 86400000 LIMIT $3)";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(now).bind(default_days).bind(batch).execute(&mut *c).await
        .map(|r| r.rows_affected()))?,
    )
}

/// A chain's head as retention sees it: its key, last number, how far it was purged, and the
/// retention of its account (None: the default).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChainHead {
    pub chain_key: String,
    pub seq: i64,
    pub purged_through: i64,
    pub hash: Vec<u8>,
}

/// Every chain's head.
pub(crate) async fn chains(ex: Ex<'_>) -> Result<Vec<ChainHead>> {
    let sql = "SELECT chain_key, seq, purged_through, hash FROM audit_chains ORDER BY chain_key";
    Ok(on!(ex, c => sqlx::query_as::<_, ChainHead>(sql).fetch_all(&mut *c).await)?)
}

/// The days a chain's account keeps its events, if it set any.
pub(crate) async fn chain_retention(ex: Ex<'_>, key: &str) -> Result<Option<i64>> {
    let Ok(id) = Uuid::parse_str(key) else {
        return Ok(None);
    };
    let sql = "SELECT audit_retention_days FROM nodes WHERE id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, Option<i64>>(sql).bind(id).fetch_optional(&mut *c).await)?
        .flatten())
}

/// The number of a chain's oldest event written at or after `cutoff` (None: every event left
/// is older).
pub(crate) async fn first_kept(ex: Ex<'_>, key: &str, cutoff: i64) -> Result<Option<i64>> {
    let sql = "SELECT MIN(seq) FROM audit_events WHERE chain_key = $1 AND at >= $2";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, Option<i64>>(sql).bind(key).bind(cutoff).fetch_one(&mut *c).await)?,
    )
}

/// Removes a chain's events numbered up to `through` (its oldest: a chain is only ever cut
/// from its start, so what is left still links up), and records how far it was cut.
pub(crate) async fn purge_chain(tx: &mut super::Tx, key: &str, through: i64) -> Result<u64> {
    let delete = "DELETE FROM audit_events WHERE chain_key = $1 AND seq <= $2";
    let mark = "UPDATE audit_chains SET purged_through = $2 \
                WHERE chain_key = $1 AND purged_through < $2";
    let mut n = 0;
    for sql in [delete, mark] {
        let done = on!(tx.ex(), c => sqlx::query(sql).bind(key).bind(through).execute(&mut *c).await
            .map(|r| r.rows_affected()))?;
        if sql == delete {
            n = done;
        }
    }
    Ok(n)
}

/// Writes events outside any chain, many per statement: the data generator's (for measuring
/// reads over a long history; `roster audit verify` counts them as written before the chains).
pub(crate) async fn insert_unchained_bulk(
    mut ex: Ex<'_>,
    rows: &[NewAuditEvent<'_>],
) -> Result<()> {
    for part in rows.chunks(1_000) {
        let values: Vec<String> = (0..part.len())
            .map(|i| {
                let b = i * 9;
                let list: Vec<String> = (b + 1..=b + 9).map(|n| format!("${n}")).collect();
                format!("({})", list.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_events (id, at, actor_user_id, actor_label, action, target_kind, \
             target_id, node_id, after_data) VALUES {}",
            values.join(", ")
        );
        on!(ex.re(), c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in part {
                q = q
                    .bind(Uuid::now_v7())
                    .bind(e.at)
                    .bind(e.actor_user_id)
                    .bind(e.actor_label)
                    .bind(e.action)
                    .bind(e.target_kind)
                    .bind(e.target_id.as_str())
                    .bind(e.node_id)
                    .bind(e.after.as_str());
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}
