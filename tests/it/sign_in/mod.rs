//! Signing in, on SQLite and PostgreSQL: the password step, sessions, second factors and their
//! enrolment, and the password reset.

mod enrolment;
mod password;
mod reset;
mod second_factor;
mod sessions;

use roster_core::domain::mfa::Require;

use crate::support::server::Options;
use crate::support::{Client, TestServer, input_value};

/// The code an authenticator app shows for `secret` (base32) at `millis`.
pub fn totp_at(secret: &str, millis: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32"))
        .build()
        .expect("totp");
    totp.generate(millis as u64 / 1000).to_string()
}

/// Server options under which `who` must use a second factor where no account chose.
pub fn requiring(who: Require) -> Options {
    Options {
        mfa_default: who,
        ..Default::default()
    }
}

pub(crate) fn now(server: &TestServer) -> i64 {
    server.clock.now().millis()
}

/// The text between `<code id="ID">` and `</code>`.
pub(crate) fn code_text(html: &str, id: &str) -> String {
    html.split(&format!("<code id=\"{id}\">"))
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .unwrap_or_default()
        .to_string()
}

/// The id of the first factor listed in a toolbox page.
pub(crate) fn factor_id(html: &str) -> String {
    html.split("action=\"/toolbox/factors/")
        .filter_map(|s| s.split_once("/rename\""))
        .map(|(id, _)| id.to_string())
        .next()
        .expect("a factor in the list")
}

pub(crate) fn recovery_codes(html: &str) -> Vec<String> {
    html.split("id=\"recovery-codes\"")
        .nth(1)
        .unwrap_or_default()
        .split("</ol>")
        .next()
        .unwrap_or_default()
        .split("<code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap_or_default().to_string())
        .collect()
}

/// Adds an authenticator app from the toolbox (or the enrolment page); returns its secret and
/// the page that follows the right code (recovery codes for a first factor).
pub async fn add_totp(server: &TestServer, client: &Client, from: &str) -> (String, String) {
    let page = client.get(from).await;
    let started = client
        .post_form("/toolbox/factors/totp", &page.body, &[])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let setup = client.get(&started.location()).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert!(setup.body.contains("<svg"), "a QR code");
    let secret = code_text(&setup.body, "totp-secret");
    assert_eq!(secret.len(), 32, "160 bits in base32");
    // A wrong first code changes nothing.
    let wrong = client
        .post_form(
            &started.location(),
            &setup.body,
            &[("name", "Phone"), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("This code is not right."));
    let done = client
        .post_form(
            &started.location(),
            &setup.body,
            &[("name", "Phone"), ("code", &totp_at(&secret, now(server)))],
        )
        .await;
    (secret, done.body)
}

/// Adds a Dutch mobile number, verifies it with the code from the gateway, and makes it the
/// way sign-in codes come (the server must deliver SMS: `with_mail`).
pub async fn add_sms(server: &TestServer, admin: &Client) {
    // A number, verified with a code, then used for sign-in codes.
    let page = admin.get("/toolbox").await;
    let v = input_value(&page.body, "version").unwrap();
    let saved = admin
        .post_form(
            "/toolbox/profile",
            &page.body,
            &[
                ("version", &v),
                ("first_name", "Olga"),
                ("language", "en"),
                ("phone_country", "NL"),
                ("phone_number", "06 12345678"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = admin.get("/toolbox").await;
    // Not verified yet: no SMS factor.
    let early = admin
        .post_form("/toolbox/factors/sms", &page.body, &[])
        .await;
    assert_eq!(early.status, 409);
    admin
        .post_form("/toolbox/phone/send-code", &page.body, &[])
        .await;
    let sms = server.texts(1).await;
    admin
        .post_form(
            "/toolbox/phone/verify",
            &page.body,
            &[("code", &sms[0].code())],
        )
        .await;
    let added = admin
        .post_form("/toolbox/factors/sms", &page.body, &[])
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(recovery_codes(&added.body).len(), 10);
}

/// Signs in with the password only; the answer is the step that follows.
pub(crate) async fn password_step(
    server: &TestServer,
    email: &str,
    password: &str,
) -> (Client, String) {
    let client = server.client();
    let res = client.sign_in(email, password).await;
    assert_eq!(res.status, 303, "{}", res.body);
    (client, res.location())
}

pub(crate) async fn answer(
    client: &Client,
    method: &str,
    code: &str,
) -> crate::support::client::Page {
    let page = client.get("/signin/verify").await;
    assert_eq!(page.status, 200, "{}", page.body);
    client
        .post_form(
            "/signin/verify",
            &page.body,
            &[("method", method), ("code", code), ("next", "/users")],
        )
        .await
}
