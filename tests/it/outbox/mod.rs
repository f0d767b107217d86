//! The outbox, on SQLite and PostgreSQL: invitations, delivery with retries over a real SMTP
//! server and SMS gateway on loopback, and every message in every language.

mod delivery;
mod invitations;
mod messages;

pub(super) async fn add_invited(
    admin: &crate::support::Client,
    node: &str,
    email: &str,
    language: &str,
    message: &str,
) -> u16 {
    let page = admin.get("/devices").await;
    let fields = [
        ("node", node),
        ("kind", "person"),
        ("first_name", "Nina"),
        ("last_name", "New"),
        ("email", email),
        ("user_type", "user"),
        ("language", language),
        ("access", "invite"),
        ("message", message),
    ];
    admin
        .post_form("/users/add", &page.body, &fields)
        .await
        .status
}
