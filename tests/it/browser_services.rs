//! The services in a browser, in the words of the pages: an account administrator sets the
//! account's SMS sender id, a unit overrides it, a user in the unit shows "from unit …", the
//! user's own value wins, and the services' lookup answers it; an alias is added, confirmed
//! from the mail sink, and resolves.

use roster_core::domain::user;

use crate::support::browser::Browser;
use crate::support::org::{Org, root_actor};
use crate::support::{Engine, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_down_the_tree_then_the_lookup_and_an_alias() {
    let server = TestServer::builder(Engine::Sqlite)
        .admin()
        .mail()
        .start()
        .await;
    let org = Org::build(&server).await;
    let op = root_actor(&server);
    let d = server.user("target@a.test").await;
    user::update_user(
        &server.ctx,
        &op,
        d.id,
        d.version,
        &user::UserChange {
            services: Some(vec!["sms".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let base = server.url.clone();
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/signin")).await;
    browser.type_into("#email", "acct@a.test").await;
    browser
        .type_into("#password", crate::support::org::PW)
        .await;
    browser.click("#signin").await;
    browser.wait_for_text("nav.tabs", "Devices").await;

    // The Account tab: "SMS Settings", the account's standard sender id.
    browser.goto(&format!("{base}/account")).await;
    browser
        .wait_for_text("#settings-sms-title", "SMS Settings")
        .await;
    browser.type_into("#sms-sender_id", "ACME").await;
    browser.click("#save-settings-sms").await;
    browser.wait_for_text(".notice", "saved").await;

    // Unit Nordics overrides it for everything below it.
    browser.goto(&format!("{base}/units/{}", org.u1)).await;
    browser.find("#sms-sender_id").await;
    assert_eq!(browser.value("#sms-sender_id").await, "ACME");
    browser.type_into("#sms-sender_id", "NORDICS").await;
    browser.click("#save-settings-sms").await;
    browser.wait_for_text(".notice", "saved").await;

    // The user in Stockholm (below Nordics) shows where the value comes from.
    browser.goto(&format!("{base}/users/{}", org.target)).await;
    browser
        .wait_for_text("#settings-sms-title", "SMS settings")
        .await;
    assert_eq!(browser.value("#sms-sender_id").await, "NORDICS");
    assert!(
        browser
            .text("#sms-sender_id-source")
            .await
            .contains("from unit Nordics")
    );
    browser.type_into("#sms-sender_id", "NINA").await;
    browser.click("#save-settings-sms").await;
    browser.wait_for_text(".notice", "saved").await;
    assert!(
        browser
            .text("#sms-sender_id-source")
            .await
            .contains("set here")
    );
    browser.screenshot("services-user-settings").await;

    // The services' lookup answers the user's own value, and its source.
    let auth = crate::support::org::lookup_token(&server, org.a, "smsgateway").await;
    let ask = |q: &'static str| {
        let (server, auth) = (&server, auth.clone());
        async move {
            let res =
                crate::support::json::send(server, reqwest::Method::GET, q, &auth, None, &[]).await;
            assert_eq!(res.status, 200, "{q}: {:?}", res.body);
            res.body
        }
    };
    let found = ask("/api/v1/lookup?email=target@a.test").await;
    assert_eq!(found["matched"], "email");
    let sender = found["services"][0]["settings"]["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "sender_id")
        .unwrap()
        .clone();
    assert_eq!(sender["value"], "NINA");
    assert_eq!(sender["source"]["kind"], "user");

    // "Email Alias": added on the user page, confirmed from the mail, then it resolves.
    browser
        .type_into("#alias-address", "nina@home.example")
        .await;
    browser.click("#add-alias").await;
    browser
        .wait_for_text("#alias-list", "Waiting for confirmation")
        .await;
    browser.screenshot("services-alias-waiting").await;
    let mails = server.mails(1).await;
    let link = mails
        .iter()
        .find(|m| m.to == ["nina@home.example"])
        .and_then(|m| m.link(&format!("{}/alias/confirm?token=", server.url)))
        .expect("the confirmation link");
    // The owner opens it in their mail, signed in nowhere.
    browser.click("#logout").await;
    browser.wait_for_text(".notice", "signed out").await;
    browser.goto(&link).await;
    browser.wait_for_text("h1", "Confirm an email alias").await;
    browser.click("#link-action").await;
    browser
        .wait_for_text(".notice", "The alias is confirmed.")
        .await;
    let found = ask("/api/v1/lookup?email=nina@home.example").await;
    assert_eq!(found["matched"], "alias");
    assert_eq!(found["user"]["id"], org.target.0.to_string());
    browser.quit().await;
    let alias = server
        .count("SELECT COUNT(*) FROM user_aliases WHERE confirmed_at IS NOT NULL")
        .await;
    assert_eq!(alias, 1);
}
