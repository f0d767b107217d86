//! Writing audit events: every change, with before and after, in the change's transaction.

use serde_json::Value;
use uuid::Uuid;

use crate::domain::{Actor, Credential};
use crate::error::Result;
use crate::model::Timestamp;
use crate::store::{self, Ex, audit::NewAuditEvent};

/// One change by `actor` to `target`; `before`/`after` are JSON (Null when not applicable).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    ex: Ex<'_>,
    actor: &Actor,
    at: Timestamp,
    action: &str,
    target_kind: &str,
    target_id: Uuid,
    node: Option<Uuid>,
    before: Value,
    after: Value,
) -> Result<()> {
    let text = |v: Value| {
        if v.is_null() {
            String::new()
        } else {
            v.to_string()
        }
    };
    // A provider signs with its token's name ("SCIM: Okta"), everyone else with their address.
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
            action,
            target_kind,
            target_id: target_id.to_string(),
            node_id: node,
            before: text(before),
            after: text(after),
            ip: &actor.ip,
            outcome: "ok",
        },
    )
    .await
}
