//! Browser tests: headless chromium through chromedriver, against the real server.

use crate::support::browser::Browser;
use crate::support::server::ADMIN_PASSWORD;
use crate::support::{Engine, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_sign_in_tabs_dutch_and_logout() {
    let server = TestServer::start(Engine::Sqlite).await;
    let link = server.setup_link.clone().unwrap();
    let browser = Browser::start().await;

    browser.goto(&link).await;
    browser.wait_for_text("h1", "Set up Roster").await;
    browser.type_into("#first_name", "Olga").await;
    browser.type_into("#last_name", "Operator").await;
    browser.type_into("#email", "olga@roster.test").await;
    browser.type_into("#password", ADMIN_PASSWORD).await;
    browser.type_into("#password_repeat", ADMIN_PASSWORD).await;
    browser.click("#create-admin").await;

    browser
        .wait_for_text(".notice", "The administrator has been created")
        .await;
    browser.type_into("#email", "olga@roster.test").await;
    browser.type_into("#password", ADMIN_PASSWORD).await;
    browser.click("#signin").await;

    browser.wait_for_text("nav.tabs", "Management").await;
    let tabs = browser.text("nav.tabs").await;
    for tab in ["Devices", "Users", "Account", "Management"] {
        assert!(tabs.contains(tab), "{tab} not in {tabs:?}");
    }
    assert!(browser.exists("#logout").await);
    browser.screenshot("shell-english").await;

    // Choosing Dutch in the selector sends its form (roster.js); the button works without it.
    browser.click("#lang-select option[value=nl]").await;
    browser.wait_for_text("nav.tabs", "Gebruikers").await;
    assert_eq!(browser.text("#logout").await, "Uitloggen");
    browser.click("nav.tabs a[href='/account']").await;
    browser.wait_for_text("h1", "Operator").await;
    browser.screenshot("shell-dutch").await;

    browser.click("#logout").await;
    browser.wait_for_text(".notice", "U bent uitgelogd").await;
    browser.goto(&format!("{}/users", server.url)).await;
    browser.wait_for_text("h1", "Inloggen").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    browser.quit().await;
}
