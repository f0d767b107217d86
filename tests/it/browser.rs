//! Browser tests: headless chromium through chromedriver, against the real server.

use roster_core::model::UserType;

use crate::support::browser::Browser;
use crate::support::server::ADMIN_PASSWORD;
use crate::support::{Engine, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_sign_in_tabs_dutch_and_logout() {
    let server = TestServer::builder(Engine::Sqlite).start().await;
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

async fn browser_sign_in(browser: &Browser, server: &TestServer, email: &str) {
    browser.goto(&format!("{}/signin", server.url)).await;
    browser.type_into("#email", email).await;
    browser
        .type_into("#password", crate::support::org::PW)
        .await;
    browser.click("#signin").await;
    browser.wait_for_text("nav.tabs", "Devices").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_admin_adds_invoice_recipients_adds_a_unit_user_and_moves_a_user() {
    let server = TestServer::builder(Engine::Sqlite).admin().start().await;
    let org = crate::support::org::Org::build(&server).await;
    let browser = Browser::start().await;
    browser_sign_in(&browser, &server, "acct@a.test").await;

    // A new Administrator who receives paid invoices by e-mail.
    browser.click("nav.tabs a[href='/users']").await;
    browser.wait_for_text("h1", "Users").await;
    browser
        .click(&format!("a.icon[href='/users/add?node={}']", org.a))
        .await;
    browser.wait_for_text("h1", "Add user").await;
    browser.type_into("#first_name", "Ivy").await;
    browser.type_into("#last_name", "Invoice").await;
    browser.type_into("#email", "ivy@a.test").await;
    browser
        .click("#user_type option[value=administrator]")
        .await;
    browser.click("#receive_invoices").await;
    browser.click("#add-user").await;
    browser.wait_for_text("h1", "User added").await;
    let ivy = server.user("ivy@a.test").await;
    assert!(ivy.user_type == UserType::Administrator && ivy.receive_invoices);

    // Tick the box for an existing administrator.
    browser
        .goto(&format!("{}/users/{}", server.url, org.account_admin))
        .await;
    browser.wait_for_text("#settings-title", "Settings").await;
    browser.click("#receive_invoices").await;
    browser.click("#save-settings").await;
    browser
        .wait_for_text("#settings .notice", "The settings have been saved.")
        .await;
    assert!(server.user("acct@a.test").await.receive_invoices);

    // "Add users": under a unit, keep the generated password, give SMS.
    browser
        .goto(&format!("{}/users/add?node={}", server.url, org.u1))
        .await;
    browser.wait_for_text("h1", "Add user").await;
    // The calling codes are countries by name, the account's own first chosen; typing finds one.
    assert_eq!(browser.value("#phone_country").await, "SE");
    assert_eq!(
        browser.text("#phone_country option:checked").await,
        "Sweden +46"
    );
    browser.keys("#phone_country", "Norw").await;
    assert_eq!(browser.value("#phone_country").await, "NO");
    browser.type_into("#email", "sam@a.test").await;
    browser.click("input[name=access][value=password]").await;
    browser.click("input[name=services][value=sms]").await;
    browser.click("#add-user").await;
    browser.wait_for_text("h1", "User added").await;
    let shown = browser.text("#shown-password").await;
    assert_eq!(
        shown.len(),
        19,
        "the generated password is shown: {shown:?}"
    );
    assert_eq!(server.user("sam@a.test").await.services, ["sms"]);
    browser.screenshot("user-created").await;

    // Organizational belonging: move the target user from Stockholm to Sales.
    browser
        .goto(&format!("{}/users/{}", server.url, org.target))
        .await;
    browser
        .click(&format!("#move-node option[value='{}']", org.u))
        .await;
    browser.click("#move-user").await;
    browser
        .wait_for_text("#belonging .notice", "The user has been moved.")
        .await;
    assert_eq!(server.user("target@a.test").await.node_name, "Sales");
    browser.screenshot("user-page").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_administrator_sees_only_their_subtree() {
    let server = TestServer::builder(Engine::Sqlite).admin().start().await;
    crate::support::org::Org::build(&server).await;
    let browser = Browser::start().await;
    browser_sign_in(&browser, &server, "unit@a.test").await;
    browser.click("nav.tabs a[href='/users']").await;
    browser.wait_for_text(".tree", "Nordics").await;
    let tree = browser.text(".tree").await;
    assert!(tree.contains("Stockholm"), "{tree}");
    assert!(
        !tree.contains("Sales") && !tree.contains("Acme") && !tree.contains("Beta"),
        "{tree}"
    );
    let list = browser.text("#users").await;
    assert!(
        list.contains("target@a.test") && list.contains("unit@a.test"),
        "{list}"
    );
    assert!(
        !list.contains("plain@a.test") && !list.contains("acct@a.test"),
        "{list}"
    );
    assert!(!browser.exists("nav.tabs a[href='/management']").await);
    browser.screenshot("unit-admin-users").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_user_follows_the_link_sets_a_password_and_signs_in() {
    let server = TestServer::builder(Engine::Sqlite)
        .admin()
        .mail()
        .start()
        .await;
    let org = crate::support::org::Org::build(&server).await;
    let browser = Browser::start().await;
    browser_sign_in(&browser, &server, "acct@a.test").await;
    browser
        .goto(&format!("{}/users/add?node={}", server.url, org.u))
        .await;
    browser.wait_for_text("h1", "Add user").await;
    browser.type_into("#first_name", "Ines").await;
    browser.type_into("#email", "ines@a.test").await;
    browser.type_into("#message", "Welcome to the team!").await;
    browser.click("#add-user").await;
    browser.wait_for_text("h1", "User added").await;
    browser.click("#logout").await;
    browser
        .wait_for_text(".notice", "You have signed out.")
        .await;

    let mails = server.mails(1).await;
    assert!(
        mails[0]
            .part("text/plain")
            .contains("> Welcome to the team!")
    );
    let link = mails[0]
        .link(&format!("{}/invitation?token=", server.url))
        .unwrap();
    browser.goto(&link).await;
    browser.wait_for_text("h1", "Welcome to Roster").await;
    browser.type_into("#password", "blue harbour at dawn").await;
    browser
        .type_into("#password_repeat", "blue harbour at dawn")
        .await;
    browser.click("#save-password").await;
    browser
        .wait_for_text(".notice", "Your password has been saved.")
        .await;
    browser.type_into("#email", "ines@a.test").await;
    browser.type_into("#password", "blue harbour at dawn").await;
    browser.click("#signin").await;
    browser.wait_for_text("nav.tabs", "Devices").await;
    assert_eq!(
        server
            .text("SELECT status FROM users WHERE email = 'ines@a.test'")
            .await,
        "active"
    );
    browser.quit().await;
}

/// Signs in with email and password only (a second step follows).
async fn browser_password(browser: &Browser, base: &str, email: &str, password: &str) {
    browser.goto(&format!("{base}/signin")).await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", password).await;
    browser.click("#signin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_enrols_an_authenticator_app_then_signs_in_with_it() {
    use roster_core::domain::mfa::Require;
    let server = TestServer::builder(Engine::Sqlite)
        .admin()
        .options(crate::sign_in::requiring(Require::Administrators))
        .start()
        .await;
    let browser = Browser::start().await;
    let email = crate::support::server::ADMIN_EMAIL;
    browser_password(&browser, &server.url, email, ADMIN_PASSWORD).await;
    browser.wait_for_text("h1", "Set up a second factor").await;
    browser.screenshot("mfa-enrol").await;
    browser.click("#add-totp").await;
    browser
        .wait_for_text("h1", "Set up an authenticator app")
        .await;
    assert!(browser.exists("svg.qr").await, "the QR code");
    browser.screenshot("mfa-totp-qr").await;
    let secret = browser.text("#totp-secret").await;
    let code = crate::sign_in::totp_at(&secret, server.clock.now().millis());
    browser.type_into("#code", &code).await;
    browser.click("#confirm-totp").await;
    browser.wait_for_text("h1", "Your recovery codes").await;
    let codes = browser.text("#recovery-codes").await;
    assert_eq!(codes.lines().count(), 10, "{codes}");
    browser.click("#continue").await;
    browser.wait_for_text("nav.tabs", "Management").await;

    browser.click("#logout").await;
    browser.wait_for_text(".notice", "signed out").await;
    browser_password(&browser, &server.url, email, ADMIN_PASSWORD).await;
    browser.wait_for_text("h1", "Confirm it is you").await;
    server.clock.advance(30);
    let code = crate::sign_in::totp_at(&secret, server.clock.now().millis());
    browser.type_into("#totp-code", &code).await;
    browser.screenshot("mfa-verify").await;
    browser.click("#verify-totp").await;
    browser.wait_for_text("nav.tabs", "Management").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_code_sent_by_sms() {
    let server = TestServer::builder(Engine::Sqlite)
        .admin()
        .mail()
        .start()
        .await;
    let admin = server.admin_client().await;
    crate::sign_in::add_sms(&server, &admin).await;
    let browser = Browser::start().await;
    let email = crate::support::server::ADMIN_EMAIL;
    browser_password(&browser, &server.url, email, ADMIN_PASSWORD).await;
    browser.wait_for_text("h1", "Confirm it is you").await;
    // Two SMS so far: the phone verification, and this sign-in's code.
    let sms = server.texts(2).await;
    browser.type_into("#sms-code", &sms[1].code()).await;
    browser.click("#verify-sms").await;
    browser.wait_for_text("nav.tabs", "Management").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_is_registered_and_signs_in_with_a_virtual_authenticator() {
    // Passkeys need a host name: this server's public address is http://localhost:PORT.
    let server = TestServer::builder(Engine::Sqlite)
        .admin()
        .options(crate::support::server::Options {
            localhost: true,
            ..Default::default()
        })
        .start()
        .await;
    let base = server.public_url.clone();
    let browser = Browser::start().await;
    let authenticator = browser.add_virtual_authenticator().await;
    let email = crate::support::server::ADMIN_EMAIL;
    browser_password(&browser, &base, email, ADMIN_PASSWORD).await;
    browser.wait_for_text("nav.tabs", "Management").await;
    browser.goto(&format!("{base}/toolbox#factors")).await;
    browser.type_into("#passkey-name", "Laptop").await;
    browser.click("#add-passkey").await;
    browser.wait_for_text("h1", "Your recovery codes").await;
    assert_eq!(browser.authenticator_credentials(&authenticator).await, 1);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM factors WHERE kind = 'passkey' AND name = 'Laptop'")
            .await,
        1
    );
    browser.click("#continue").await;
    browser.wait_for_text("#factor-list", "Passkey").await;

    browser.click("#logout").await;
    browser_password(&browser, &base, email, ADMIN_PASSWORD).await;
    browser.wait_for_text("h1", "Confirm it is you").await;
    browser.click("#use-passkey").await;
    browser.wait_for_text("nav.tabs", "Management").await;
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa' AND after_data LIKE '%passkey%'")
            .await,
        1
    );
    browser.quit().await;
}

/// Every page a person reaches, at desktop and phone width (`screenshot` fails when a page is
/// wider than the phone's screen); the pictures are kept under target/screenshots/.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_desktop_and_a_phone() {
    let server = TestServer::builder(Engine::Sqlite).admin().start().await;
    let org = crate::support::org::Org::build(&server).await;
    // The toured user has both services, so their settings sections are on the page.
    let op = crate::support::org::root_actor(&server);
    let d = server.user("target@a.test").await;
    roster_core::domain::user::update_user(
        &server.ctx,
        &op,
        d.id,
        d.version,
        &roster_core::domain::user::UserChange {
            services: Some(vec!["sms".into(), "fax".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A shared address book with contacts, a number and a public address, so that the
    // Resources, Add number and address book pages show them.
    use roster_core::domain::{address, public_address, resource};
    let book = resource::create_book(&server.ctx, &op, resource::Owner::Node(org.a), "Customers")
        .await
        .unwrap();
    for (name, mobile) in [("Anna Andersson", "+46701112233"), ("Bert Berg", "")] {
        let contact = resource::NewContact {
            name: name.into(),
            mobile: mobile.into(),
            email: "anna@customer.example".into(),
            notes: "Prefers fax".into(),
            ..Default::default()
        };
        resource::add_contact(&server.ctx, &op, book, &contact)
            .await
            .unwrap();
    }
    let number = address::NewNumber {
        number: "+46707654321".into(),
        label: "Fax desk".into(),
        services: vec!["fax".into()],
        ..Default::default()
    };
    address::add_number(&server.ctx, &op, d.id, &number)
        .await
        .unwrap();
    public_address::add_public_address(&server.ctx, &op, org.u, "support@acme.example", "Support")
        .await
        .unwrap();
    // Three weeks of usage reported by the SMS service, rolled up, for the Statistics pages.
    let usage = crate::support::org::service_token(
        &server,
        org.a,
        "smsgw",
        roster_core::domain::api_token::TokenScope::Usage,
    )
    .await;
    let today = server.ctx.clock.now();
    let events: Vec<serde_json::Value> = (0..21i64)
        .flat_map(|d| {
            let at = today.plus_secs(-d * 86_400).to_rfc3339();
            [
                ("sms-sent", (d * 7) % 23 + 3),
                ("sms-parts", (d * 11) % 31 + 4),
            ]
            .into_iter()
            .map(move |(kind, count)| {
                serde_json::json!({ "user": { "email": "target@a.test" }, "service": "sms",
                        "kind": kind, "count": count, "at": at, "id": format!("{kind}-{d}") })
            })
        })
        .collect();
    let reported = crate::api::call(
        &server,
        reqwest::Method::POST,
        "/api/v1/usage",
        &usage,
        Some(serde_json::json!({ "events": events })),
        &[],
    )
    .await;
    assert_eq!(reported.status, 200, "{:?}", reported.body);
    roster_core::domain::statistics::roll_up(&server.ctx)
        .await
        .unwrap();
    let browser = Browser::start().await;
    let base = server.url.clone();

    // Signed out.
    for (path, name, heading) in [
        ("/signin", "page-signin", "Sign in"),
        ("/reset", "page-reset", "password"),
        ("/api/v1/docs", "page-api-reference", "Roster API reference"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        browser.wait_for_text("h1", heading).await;
        browser.screenshot(name).await;
    }

    // An account's Administrator.
    browser_sign_in(&browser, &server, "acct@a.test").await;
    let pages = [
        ("/devices".to_string(), "page-devices"),
        ("/users".to_string(), "page-users"),
        (format!("/users/{}", org.target), "page-user"),
        (format!("/users/{}/logs", org.target), "page-user-logs"),
        (
            format!("/users/{}/statistics", org.target),
            "page-user-statistics",
        ),
        (
            format!("/nodes/{}/statistics", org.a),
            "page-account-statistics",
        ),
        (format!("/nodes/{}/logs", org.u), "page-unit-logs"),
        (format!("/users/add?node={}", org.u1), "page-user-add"),
        (format!("/units/{}", org.u), "page-unit"),
        (
            format!("/users/{}/toolbox", org.target),
            "page-user-toolbox",
        ),
        ("/account".to_string(), "page-account"),
        (format!("/books/{book}"), "page-book"),
        ("/management/deliveries".to_string(), "page-deliveries"),
        ("/toolbox".to_string(), "page-toolbox"),
    ];
    for (path, name) in &pages {
        browser.goto(&format!("{base}{path}")).await;
        browser.find("main h1").await;
        let heading = browser.text("main h1").await;
        assert!(
            !browser.exists("main section[role=alert]").await,
            "{path} is an error page: {heading}"
        );
        browser.screenshot(name).await;
    }
    // The Account tab's allowed second factors: each box beside its own label.
    browser.goto(&format!("{base}/account")).await;
    browser.find("input[name=mfa_factors]").await;
    let gap = browser
        .script(
            "const box = document.querySelector('input[name=mfa_factors]');\
             const label = box.closest('label').getBoundingClientRect();\
             return Math.abs(box.getBoundingClientRect().top - label.top) < 12 \
                 && box.getBoundingClientRect().width < 40;",
        )
        .await;
    assert_eq!(
        gap,
        serde_json::json!(true),
        "a checkbox stands apart from its label"
    );
    // A user's Logs follow new entries as they are written, without a reload.
    browser
        .goto(&format!("{base}/users/{}/logs", org.target))
        .await;
    browser.find("#timeline[sse-connect]").await;
    let token = crate::api::bearer(&server, org.account_admin, None, false, None).await;
    let path = format!("/api/v1/users/{}", org.target);
    let got = crate::api::call(&server, reqwest::Method::GET, &path, &token, None, &[]).await;
    let tag = got.header("etag");
    let changed = crate::api::call(
        &server,
        reqwest::Method::PATCH,
        &path,
        &token,
        Some(serde_json::json!({ "friendly_name": "Seen live" })),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(changed.status, 200);
    browser.wait_for_text("#timeline", "Seen live").await;
    browser.screenshot("page-user-logs-live").await;
    browser.click("#logout").await;

    // Operator staff.
    browser.goto(&format!("{base}/signin")).await;
    browser
        .type_into("#email", crate::support::server::ADMIN_EMAIL)
        .await;
    browser.type_into("#password", ADMIN_PASSWORD).await;
    browser.click("#signin").await;
    browser.wait_for_text("nav.tabs", "Management").await;
    browser.goto(&format!("{base}/management")).await;
    browser.find("main h1").await;
    browser.screenshot("page-management").await;
    browser.quit().await;
}
