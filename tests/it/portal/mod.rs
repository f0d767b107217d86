//! Portal tests: accounts, units, users and administrators, photos, the phone number and the
//! Toolbox — who may do what, bad input, and the flows.

mod addresses;
mod administered;
mod administrators;
mod live;
mod logs;
mod matrix;
mod phone;
mod photos;
mod resources;
mod settings;
mod toolbox;
mod units;
mod users;

pub(super) fn add_form(node: &str, email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("node", node.to_string()),
        ("kind", "person".into()),
        ("first_name", "Nina".into()),
        ("last_name", "New".into()),
        ("email", email.to_string()),
        ("user_type", "user".into()),
        ("language", "sv".into()),
        ("country_code", "SE".into()),
        ("phone_country", "SE".into()),
        ("phone_number", "070-123 45 67".into()),
        ("access", "invite".into()),
        ("message", "Welcome aboard!".into()),
    ]
}

pub(super) async fn post_add(
    client: &crate::support::Client,
    fields: &[(&'static str, String)],
) -> crate::support::client::Page {
    let page = client.get("/devices").await;
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.post_form("/users/add", &page.body, &pairs).await
}
