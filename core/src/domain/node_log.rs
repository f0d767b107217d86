//! A unit's or account's log, for its administrators: every audit event that happened in it or
//! anywhere under it, newest first, with the user's timeline's filters and paging. On the
//! operator's root it is the deployment's whole audit (events outside any unit included).

use std::collections::BTreeSet;

use uuid::Uuid;

use super::Actor;
use super::timeline::{Entry, Filter, Kind, Target, Timeline, event_entry};
use crate::context::Ctx;
use crate::error::Result;
use crate::model::NodeId;
use crate::store::{self, timeline::Whose};

/// A node's log for an administrator of it (404 for anyone else). Messages and usage belong to
/// a user's own log; asking a node's log for them finds nothing.
pub async fn node_timeline(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    filter: &Filter,
) -> Result<Timeline> {
    let mut conn = ctx.db.conn().await?;
    let row = super::timeline::readable_node(&mut conn, actor, node).await?;
    if matches!(filter.kind, Some(Kind::Messages | Kind::Usage)) {
        return Ok(Timeline {
            entries: vec![],
            next: None,
        });
    }
    let whose = if row.kind == "operator" {
        Whose::All
    } else {
        Whose::Under(&row.path)
    };
    let page = filter.page();
    let rows = store::timeline::events_of(conn.ex(), whose, &filter.narrow()).await?;
    let more = rows.len() > page;
    let mut entries: Vec<Entry> = rows
        .into_iter()
        .take(page)
        .map(|e| {
            let target = Target {
                kind: e.target_kind.clone(),
                id: e.target_id.clone(),
                label: String::new(),
            };
            let mut entry = event_entry(e, Uuid::nil(), false);
            entry.target = Some(target);
            entry
        })
        .collect();
    // The users the page is about, by name, in one read.
    let users: Vec<Uuid> = entries
        .iter()
        .filter_map(|e| e.target.as_ref())
        .filter(|t| t.kind == "user")
        .filter_map(|t| Uuid::parse_str(&t.id).ok())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names = store::timeline::names_of(conn.ex(), &users).await?;
    for t in entries.iter_mut().filter_map(|e| e.target.as_mut()) {
        if t.kind == "user"
            && let Some((_, name)) = names.iter().find(|(id, _)| id.to_string() == t.id)
        {
            t.label = name.clone();
        }
    }
    let next = more.then(|| entries.last().map(Entry::cursor)).flatten();
    Ok(Timeline { entries, next })
}
