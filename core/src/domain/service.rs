//! Service settings inherited down the tree: the account's standard settings are what new
//! users get; a unit overrides any value for everything below it; a user's own settings
//! override for that user. A value resolves user → nearest unit up the tree → account → the
//! service's default, and each resolved value says where it came from.

use serde_json::{Map, Value, json};

use crate::context::Ctx;
use crate::domain::node::node_in_scope;
use crate::domain::rank::{Need, user_to_change};
use crate::domain::user::user_in_scope;
use crate::domain::{Actor, audit};
use crate::error::{Error, Problems, Result};
use crate::model::{NodeId, UserId};
use crate::services::Service;
use crate::store::{self, Handle, Tx};

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The user's own setting.
    User,
    /// Set on a unit or on the account (by kind: `unit`, `account`).
    Node {
        id: NodeId,
        name: String,
        kind: String,
    },
    /// Nobody set it: the service's default.
    Default,
}

/// One setting as it applies, with what it would be without the level asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub id: &'static str,
    pub value: Value,
    pub source: Source,
    /// What applies from above when this level sets nothing (the value offered by "use the
    /// inherited value").
    pub inherited: Value,
    pub inherited_from: Source,
}

impl Resolved {
    /// Whether the level asked about sets this value itself.
    pub fn set_here(&self) -> bool {
        self.source != self.inherited_from || self.value != self.inherited
    }
}

/// One service's settings as they apply at a node or for a user.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSettings {
    pub service: &'static str,
    pub values: Vec<Resolved>,
    /// The version (ETag) of the level they were read at: the node or the user.
    pub version: i64,
}

/// One service out of a level's, or `missing`.
fn take(all: Vec<ServiceSettings>, service: &str, missing: Error) -> Result<ServiceSettings> {
    all.into_iter()
        .find(|s| s.service == service)
        .ok_or(missing)
}

/// A layer of settings: its object for one service and where it comes from.
struct Layer {
    values: Map<String, Value>,
    source: Source,
}

/// A stored layer: its settings of every service (`{"sms": {…}}`) and where they come from.
struct Stored {
    all: Map<String, Value>,
    source: Source,
}

impl Stored {
    fn layer(&self, service: &str) -> Layer {
        Layer {
            values: match self.all.get(service) {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            },
            source: self.source.clone(),
        }
    }
}

/// Stored settings: a JSON object ("" is empty). Anything else is a fault, never written over
/// as if it were empty.
fn object(text: &str) -> Result<Map<String, Value>> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::internal(
            "stored service settings are not a JSON object",
        )),
    }
}

/// The levels from the node at `path` up to its account that set anything, deepest first,
/// each parsed once.
async fn stored_up(h: &mut impl Handle, path: &str) -> Result<Vec<Stored>> {
    stored(store::setting::settings_up(h.ex(), path).await?)
}

fn stored(rows: Vec<store::setting::NodeSettingsRow>) -> Result<Vec<Stored>> {
    let mut out = vec![];
    for r in rows.into_iter().filter(|r| r.kind != "operator") {
        out.push(Stored {
            all: object(&r.settings)?,
            source: Source::Node {
                id: NodeId(r.id),
                name: r.name,
                kind: r.kind,
            },
        });
    }
    Ok(out)
}

/// Resolves each setting of `service` through `layers` (the level asked about first): a
/// stored value the schema no longer accepts counts as not set.
fn resolve(service: &Service, layers: &[Layer], version: i64) -> ServiceSettings {
    let values = service
        .settings
        .iter()
        .map(|d| {
            let found = |layers: &[Layer]| {
                layers
                    .iter()
                    .find_map(|l| {
                        let v = l.values.get(d.id)?;
                        d.kind.check(d.id, v).ok().map(|v| (v, l.source.clone()))
                    })
                    .unwrap_or((d.default.clone(), Source::Default))
            };
            let (value, source) = found(layers);
            let (inherited, inherited_from) = found(layers.get(1..).unwrap_or(&[]));
            Resolved {
                id: d.id,
                value,
                source,
                inherited,
                inherited_from,
            }
        })
        .collect();
    ServiceSettings {
        service: service.id,
        values,
        version,
    }
}

fn service_of<'c>(ctx: &'c Ctx, id: &str) -> Result<&'c Service> {
    ctx.settings
        .catalog
        .service(id)
        .ok_or(Error::field("service", "setting-service-unknown"))
}

/// Every service's settings at a level the actor reaches, read at once: an account or unit
/// they administer (every configured service), or a user they see (each service they have,
/// with their own values); in the catalog's order.
pub async fn settings_at(ctx: &Ctx, actor: &Actor, level: Level) -> Result<Vec<ServiceSettings>> {
    let catalog = &ctx.settings.catalog;
    let mut conn = ctx.db.conn().await?;
    match level {
        Level::Node(node) => {
            let row = node_in_scope(conn.ex(), actor, node.0).await?;
            if row.kind == "operator" {
                return Err(Error::NotFound);
            }
            let mut up = stored_up(&mut conn, &row.path).await?;
            // The level asked about comes first, also when it sets nothing (only levels that
            // set something are read).
            let here = Source::Node {
                id: NodeId(row.id),
                name: row.name.clone(),
                kind: row.kind.clone(),
            };
            if up.first().map(|l| &l.source) != Some(&here) {
                up.insert(
                    0,
                    Stored {
                        all: Map::new(),
                        source: here,
                    },
                );
            }
            Ok(catalog
                .services
                .iter()
                .map(|svc| {
                    let layers: Vec<Layer> = up.iter().map(|l| l.layer(svc.id)).collect();
                    resolve(svc, &layers, row.version)
                })
                .collect())
        }
        Level::User(user) => {
            let (row, node) = user_in_scope(&mut conn, actor, user.0).await?;
            effective_settings(&mut conn, ctx, row.id, &node.path, row.version).await
        }
    }
}

/// A user's effective settings of every service they have, each value with its source: the
/// one resolution that pages, the API and the services' lookup use. One read whatever the
/// depth: the user's own settings, and the levels above that set anything (by their paths).
pub(crate) async fn effective_settings(
    h: &mut impl Handle,
    ctx: &Ctx,
    user: uuid::Uuid,
    node_path: &str,
    version: i64,
) -> Result<Vec<ServiceSettings>> {
    let (own, up) = store::setting::settings_of_user(h.ex(), user, node_path).await?;
    if own.is_empty() {
        return Ok(vec![]);
    }
    let up = stored(up)?;
    let mut services = vec![];
    for svc in &ctx.settings.catalog.services {
        let Some((_, text)) = own.iter().find(|(s, _)| s == svc.id) else {
            continue;
        };
        let mut layers = vec![Layer {
            values: object(text)?,
            source: Source::User,
        }];
        layers.extend(up.iter().map(|l| l.layer(svc.id)));
        services.push(resolve(svc, &layers, version));
    }
    Ok(services)
}

/// One service's settings as they apply at a node the actor administers.
pub async fn node_settings(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    service: &str,
) -> Result<ServiceSettings> {
    let service = service_of(ctx, service)?;
    let all = settings_at(ctx, actor, Level::Node(node)).await?;
    take(all, service.id, Error::NotFound)
}

/// One service's settings as they apply for a user the actor sees; the user must have it.
pub async fn user_settings(
    ctx: &Ctx,
    actor: &Actor,
    user: UserId,
    service: &str,
) -> Result<ServiceSettings> {
    let service = service_of(ctx, service)?;
    let all = settings_at(ctx, actor, Level::User(user)).await?;
    take(
        all,
        service.id,
        Error::field("service", "setting-service-not-held"),
    )
}

/// The version (ETag) of a level the actor reaches, whatever its services.
pub async fn version_at(ctx: &Ctx, actor: &Actor, level: Level) -> Result<i64> {
    let mut conn = ctx.db.conn().await?;
    match level {
        Level::Node(node) => {
            let row = node_in_scope(conn.ex(), actor, node.0).await?;
            if row.kind == "operator" {
                return Err(Error::NotFound);
            }
            Ok(row.version)
        }
        Level::User(user) => Ok(user_in_scope(&mut conn, actor, user.0).await?.0.version),
    }
}

/// [`node_settings`] or [`user_settings`], by level.
pub async fn service_settings_at(
    ctx: &Ctx,
    actor: &Actor,
    level: Level,
    service: &str,
) -> Result<ServiceSettings> {
    match level {
        Level::Node(n) => node_settings(ctx, actor, n, service).await,
        Level::User(u) => user_settings(ctx, actor, u, service).await,
    }
}

/// The level whose settings are read or changed: an account or unit, or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Node(NodeId),
    User(UserId),
}

/// [`set_node_settings`] or [`set_user_settings`], by level.
pub async fn set_settings_at(
    ctx: &Ctx,
    actor: &Actor,
    level: Level,
    service: &str,
    version: Option<i64>,
    changes: &Map<String, Value>,
) -> Result<()> {
    match level {
        Level::Node(n) => set_node_settings(ctx, actor, n, service, version, changes).await,
        Level::User(u) => set_user_settings(ctx, actor, u, service, version, changes).await,
    }
}

/// Checks a change of settings: each value by its setting's type (named on its field), each
/// name known. `None` takes the level's own value away (the inherited one applies).
fn apply(
    service: &Service,
    mut own: Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>> {
    // What the service no longer has, or no longer accepts, goes at the next change.
    own.retain(|k, v| {
        service
            .setting(k)
            .is_some_and(|d| d.kind.check(d.id, v).is_ok())
    });
    let mut p = Problems::default();
    if changes.keys().any(|k| service.setting(k).is_none()) {
        // Said once, however many unknown names were sent.
        p.add("settings", "setting-unknown");
    }
    for (name, v) in changes {
        let Some(d) = service.setting(name) else {
            continue;
        };
        if v.is_null() {
            own.remove(d.id);
        } else if let Some(v) = p.check(d.kind.check(d.id, v)) {
            own.insert(d.id.to_string(), v);
        }
    }
    p.finish()?;
    Ok(own)
}

/// Sets (or, with null values, takes away) a node's own settings of a service: on the account
/// they are the standard settings every user gets unless a unit or the user says otherwise;
/// on a unit they apply to everything below it. Nothing changes when one value is refused.
pub async fn set_node_settings(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    service: &str,
    version: Option<i64>,
    changes: &Map<String, Value>,
) -> Result<()> {
    ctx.write(async |tx| {
        set_node_settings_in(tx, ctx, actor, node, service, version, changes).await
    })
    .await
}

/// [`set_node_settings`] in the caller's transaction.
pub(crate) async fn set_node_settings_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    service: &str,
    version: Option<i64>,
    changes: &Map<String, Value>,
) -> Result<()> {
    let service = service_of(ctx, service)?;
    let now = ctx.clock.now();
    let row = node_in_scope(tx.ex(), actor, node.0).await?;
    if row.kind == "operator" {
        return Err(Error::NotFound);
    }
    let mut all = object(&store::setting::node_settings(tx.ex(), row.id).await?)?;
    let before = match all.remove(service.id) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let Some(after) = next_settings(service, &before, changes, version, row.version)? else {
        return Ok(());
    };
    all.insert(service.id.to_string(), Value::Object(after.clone()));
    if !store::setting::set_node_settings(
        tx.ex(),
        row.id,
        row.version,
        &Value::Object(all).to_string(),
        now.millis(),
    )
    .await?
    {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    audit::Event::new(actor, "service.settings")
        .target("node", row.id, Some(row.id))
        .before(json!({ "service": service.id, "settings": before }))
        .after(json!({ "service": service.id, "settings": after }))
        .write(tx.ex(), now)
        .await
}

/// `changes` applied to a level's own settings, behind the version the caller read (checked
/// after the values, so that a bad value is named first): None when nothing changes.
fn next_settings(
    service: &Service,
    before: &Map<String, Value>,
    changes: &Map<String, Value>,
    version: Option<i64>,
    current: i64,
) -> Result<Option<Map<String, Value>>> {
    let after = apply(service, before.clone(), changes)?;
    if version.is_some_and(|v| v != current) {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    Ok((after != *before).then_some(after))
}

/// Sets (or, with null values, takes away) a user's own settings of a service they have.
/// Whoever may change the user's settings may (a delegate too); nothing changes when one value
/// is refused.
pub async fn set_user_settings(
    ctx: &Ctx,
    actor: &Actor,
    user: UserId,
    service: &str,
    version: Option<i64>,
    changes: &Map<String, Value>,
) -> Result<()> {
    ctx.write(async |tx| {
        set_user_settings_in(tx, ctx, actor, user, service, version, changes).await
    })
    .await
}

/// [`set_user_settings`] in the caller's transaction.
pub(crate) async fn set_user_settings_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    user: UserId,
    service: &str,
    version: Option<i64>,
    changes: &Map<String, Value>,
) -> Result<()> {
    let service = service_of(ctx, service)?;
    let now = ctx.clock.now();
    let (row, _) = user_to_change(tx, actor, user.0, Need::Any, now.millis()).await?;
    let before = object(
        &store::setting::user_settings(tx.ex(), row.id, service.id)
            .await?
            .ok_or(Error::field("service", "setting-service-not-held"))?,
    )?;
    let Some(after) = next_settings(service, &before, changes, version, row.version)? else {
        return Ok(());
    };
    store::setting::set_user_settings(
        tx.ex(),
        row.id,
        service.id,
        &Value::Object(after.clone()).to_string(),
    )
    .await?;
    if !store::user::touch_user(tx.ex(), row.id, row.version, now.millis()).await? {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    audit::Event::new(actor, "service.settings")
        .target("user", row.id, Some(row.node_id))
        .before(json!({ "service": service.id, "settings": before }))
        .after(json!({ "service": service.id, "settings": after }))
        .write(tx.ex(), now)
        .await
}
