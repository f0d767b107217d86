//! Writing audit events: every change, with before and after, in the change's transaction.

use serde_json::Value;
use uuid::Uuid;

use crate::domain::{Actor, Credential};
use crate::error::Result;
use crate::model::Timestamp;
use crate::store::{self, Ex, audit::NewAuditEvent};

/// One audit event: who did what to which target, with what it was before and after (JSON;
/// Null where it does not apply), written in the change's own transaction.
///
/// ```ignore
/// audit::Event::new(actor, "user.update")
///     .target("user", user.id, Some(user.node_id))
///     .before(user_json(&before))
///     .after(user_json(&after))
///     .write(tx.ex(), now)
///     .await?;
/// ```
pub(crate) struct Event<'a> {
    actor: &'a Actor,
    action: &'a str,
    target_kind: &'a str,
    target_id: String,
    node: Option<Uuid>,
    before: Value,
    after: Value,
}

impl<'a> Event<'a> {
    pub(crate) fn new(actor: &'a Actor, action: &'a str) -> Event<'a> {
        Event {
            actor,
            action,
            target_kind: "",
            target_id: String::new(),
            node: None,
            before: Value::Null,
            after: Value::Null,
        }
    }

    /// What the event is about (`user`, `node`, …), and the node it belongs to.
    pub(crate) fn target(mut self, kind: &'a str, id: Uuid, node: Option<Uuid>) -> Event<'a> {
        self.target_kind = kind;
        self.target_id = id.to_string();
        self.node = node;
        self
    }

    pub(crate) fn before(mut self, v: Value) -> Event<'a> {
        self.before = v;
        self
    }

    pub(crate) fn after(mut self, v: Value) -> Event<'a> {
        self.after = v;
        self
    }

    pub(crate) async fn write(self, ex: Ex<'_>, at: Timestamp) -> Result<()> {
        let text = |v: Value| {
            if v.is_null() {
                String::new()
            } else {
                v.to_string()
            }
        };
        let actor = self.actor;
        // A provider signs with its token's name ("SCIM: Okta"), everyone else with their
        // address.
        let label = match &actor.credential {
            Credential::Scim { .. } => &actor.display_name,
            _ => &actor.email,
        };
        store::audit::insert_audit_event(
            ex,
            NewAuditEvent {
                at: at.millis(),
                actor_user_id: actor.audit_id(),
                actor_label: label,
                credential_id: actor.credential.token_id(),
                action: self.action,
                target_kind: self.target_kind,
                target_id: self.target_id,
                node_id: self.node,
                before: text(self.before),
                after: text(self.after),
                ip: &actor.ip,
                outcome: "ok",
            },
        )
        .await
    }
}
