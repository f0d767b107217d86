//! Second factors: sign-in with each, wrong, expired and replayed codes, attempt limits,
//! recovery codes, forced enrolment, the policy, the per-user switch, and an administrator's
//! reset — each on SQLite and PostgreSQL, through the real server.

use roster_core::domain::mfa::Require;

use crate::support::org::{Org, PW, signed_in};
use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD, Options};
use crate::support::{Client, TestServer, both_engines, input_value};

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

fn now(server: &TestServer) -> i64 {
    server.clock.now().millis()
}

/// The text between `<code id="ID">` and `</code>`.
fn code_text(html: &str, id: &str) -> String {
    html.split(&format!("<code id=\"{id}\">"))
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .unwrap_or_default()
        .to_string()
}

/// The id of the first factor listed in a toolbox page.
fn factor_id(html: &str) -> String {
    html.split("action=\"/toolbox/factors/")
        .filter_map(|s| s.split_once("/rename\""))
        .map(|(id, _)| id.to_string())
        .next()
        .expect("a factor in the list")
}

fn recovery_codes(html: &str) -> Vec<String> {
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
async fn password_step(server: &TestServer, email: &str, password: &str) -> (Client, String) {
    let client = server.client();
    let res = client.sign_in(email, password).await;
    assert_eq!(res.status, 303, "{}", res.body);
    (client, res.location())
}

async fn answer(client: &Client, method: &str, code: &str) -> crate::support::client::Page {
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

both_engines!(
    an_administrator_without_a_factor_is_led_through_enrolment,
    |engine| async move {
        // The product's default: administrators must use a second factor.
        let server = TestServer::builder(engine)
            .admin()
            .options(requiring(Require::Administrators))
            .start()
            .await;
        let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(next, "/mfa/enrol");
        // Nothing else opens before a factor is set up.
        for path in ["/users", "/toolbox", "/management", "/account"] {
            let res = client.get(path).await;
            assert_eq!(
                (res.status, res.location().as_str()),
                (303, "/mfa/enrol"),
                "{path}"
            );
        }
        let hx = client.get_with("/users", &[("hx-request", "true")]).await;
        assert_eq!(hx.header("hx-redirect"), "/mfa/enrol");
        let enrol = client.get("/mfa/enrol").await;
        assert!(enrol.body.contains("Set up a second factor"));
        let before = server.fingerprint().await;
        let add = client
            .post_form(
                "/users/add",
                &enrol.body,
                &[("email", "x@roster.test"), ("first_name", "X")],
            )
            .await;
        assert_eq!(add.status, 303);
        assert_eq!(server.fingerprint().await, before, "nothing changed");

        let (secret, done) = add_totp(&server, &client, "/mfa/enrol").await;
        let codes = recovery_codes(&done);
        assert_eq!(codes.len(), 10, "{done}");
        assert!(codes.iter().all(|c| c.len() == 14));
        // The seed is sealed at rest (24-byte nonce, 20-byte seed, 16-byte tag), never in clear.
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM factors WHERE kind = 'totp' AND confirmed AND LENGTH(secret) = 60")
                .await,
            1
        );
        assert!(!secret.is_empty());
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM recovery_codes WHERE code_hash LIKE '$argon2id$%'")
                .await,
            10
        );
        let old_cookie = client.session_cookie();
        let finished = client.post_form("/mfa/enrol/done", &done, &[]).await;
        assert_eq!(finished.status, 303, "{}", finished.body);
        assert_ne!(client.session_cookie(), old_cookie, "a new session id");
        assert_eq!(client.get("/users").await.status, 200);
        // The old id opens nothing.
        let stale = server.client();
        stale.set_session_cookie(&old_cookie);
        assert_eq!(
            stale.get("/users").await.location(),
            "/signin?next=%2Fusers"
        );
    }
);

both_engines!(
    totp_sign_in_refuses_wrong_and_replayed_codes,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let admin = server.admin_client().await;
        let (secret, done) = add_totp(&server, &admin, "/toolbox").await;
        assert_eq!(recovery_codes(&done).len(), 10);
        let toolbox = admin.get("/toolbox").await;
        assert!(
            toolbox.body.contains("Authenticator app"),
            "{}",
            toolbox.body
        );
        admin.sign_out().await;

        let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(next.starts_with("/signin/verify"), "{next}");
        // A password alone opens nothing.
        assert_eq!(client.get("/users").await.location(), "/signin/verify");
        let wrong = answer(&client, "totp", "123456").await;
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("This code is not right."));
        // The code the first sign-in's step used is refused: skew back one step, still fresh.
        let code = totp_at(&secret, now(&server));
        let used = answer(&client, "totp", &code).await;
        assert_eq!(used.status, 401, "the enrolment used this time step");
        assert!(used.body.contains("used already"), "{}", used.body);
        server.clock.advance(30);
        let code = totp_at(&secret, now(&server));
        let ok = answer(&client, "totp", &code).await;
        assert_eq!((ok.status, ok.location().as_str()), (303, "/users"));
        assert_eq!(client.get("/users").await.status, 200);
        client.sign_out().await;
        // The same code again, in a new sign-in: replay refused.
        let (again, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let replay = answer(&again, "totp", &code).await;
        assert_eq!(replay.status, 401);
        assert!(replay.body.contains("used already"));
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa.failed'")
                .await,
            3
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa'")
                .await,
            1
        );
    }
);

both_engines!(
    wrong_answers_end_the_half_signed_in_session_then_wait,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let admin = server.admin_client().await;
        add_totp(&server, &admin, "/toolbox").await;
        admin.sign_out().await;
        let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for _ in 0..4 {
            assert_eq!(answer(&client, "totp", "000000").await.status, 401);
        }
        let last = answer(&client, "totp", "000000").await;
        assert_eq!(
            (last.status, last.location().as_str()),
            (303, "/signin?notice=mfa-too-many")
        );
        assert_eq!(
            client.get("/signin/verify").await.location(),
            "/signin?next=%2Fsignin%2Fverify"
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa.locked'")
                .await,
            1
        );
        // The user's count carries over to the next sign-in: it now waits.
        let (next, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let waiting = answer(&next, "totp", "000000").await;
        assert_eq!(waiting.status, 429);
        assert!(!waiting.header("retry-after").is_empty());
    }
);

both_engines!(a_recovery_code_works_once, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let admin = server.admin_client().await;
    let (_, done) = add_totp(&server, &admin, "/toolbox").await;
    let codes = recovery_codes(&done);
    admin.sign_out().await;
    let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Typed in lower case with spaces: the same code.
    let typed = codes[3].to_lowercase().replace('-', " ");
    let ok = answer(&client, "recovery", &typed).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let toolbox = client.get("/toolbox").await;
    assert!(
        toolbox.body.contains("Recovery codes left: 9"),
        "{}",
        toolbox.body
    );
    client.sign_out().await;
    let (again, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let twice = answer(&again, "recovery", &codes[3]).await;
    assert_eq!(twice.status, 401);
    // New codes replace the old ones.
    let ok = answer(&again, "recovery", &codes[4]).await;
    assert_eq!(ok.status, 303);
    let toolbox = again.get("/toolbox").await;
    let renewed = again
        .post_form("/toolbox/factors/recovery", &toolbox.body, &[])
        .await;
    let fresh = recovery_codes(&renewed.body);
    assert_eq!(fresh.len(), 10);
    again.sign_out().await;
    let (third, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(answer(&third, "recovery", &codes[5]).await.status, 401);
    assert_eq!(answer(&third, "recovery", &fresh[0]).await.status, 303);
});

both_engines!(sign_in_with_a_code_sent_by_sms, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    let admin = server.admin_client().await;
    add_sms(&server, &admin).await;
    admin.sign_out().await;

    // SMS is the only factor: the code goes out with the password step.
    let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(next.starts_with("/signin/verify"));
    let sms = server.texts(2).await;
    assert_eq!(sms[1].to, "+31612345678");
    assert!(sms[1].text.contains("sign-in code"), "{}", sms[1].text);
    let code = sms[1].code();
    let page = client.get("/signin/verify").await;
    assert!(page.body.contains("••78"), "the number, masked");
    // A new code at most once a minute.
    let resend = client
        .post_form("/signin/verify/sms", &page.body, &[])
        .await;
    assert_eq!(resend.status, 429);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(answer(&client, "sms", wrong).await.status, 401);
    // Expired after five minutes.
    server.clock.advance(5 * 60 + 1);
    let late = answer(&client, "sms", &code).await;
    assert_eq!(late.status, 401);
    assert!(late.body.contains("expired"), "{}", late.body);
    let resend = client
        .post_form("/signin/verify/sms", &page.body, &[])
        .await;
    assert_eq!(resend.status, 303);
    let sms = server.texts(3).await;
    let ok = answer(&client, "sms", &sms[2].code()).await;
    assert_eq!((ok.status, ok.location().as_str()), (303, "/users"));
    // Used once.
    client.sign_out().await;
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM sms_codes WHERE purpose = 'sign-in-code' AND used_at IS NOT NULL")
            .await,
        2,
        "the first code was voided by the second, the second used"
    );
});

both_engines!(
    the_policy_and_the_switch_decide_who_must_enrol,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        // Nobody is forced under the test default: plain users sign straight in.
        let (_, next) = password_step(&server, "plain@a.test", PW).await;
        assert_eq!(next, "/");

        // A unit administrator cannot set the account's policy; nothing changes.
        let unit_admin = signed_in(&server, "unit@a.test").await;
        let page = unit_admin.get("/toolbox").await;
        let refused = unit_admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &page.body,
                &[
                    ("mfa_policy", "everyone"),
                    ("mfa_factors", "totp"),
                    ("back", "/account"),
                ],
            )
            .await;
        assert_eq!(refused.status, 404);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM nodes WHERE mfa_policy IS NOT NULL")
                .await,
            0
        );

        // The account's administrator: bad input names the field and changes nothing.
        let admin = signed_in(&server, "acct@a.test").await;
        let account = admin.get("/account").await;
        assert!(account.body.contains("Users without a second factor"));
        let bad = admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &account.body,
                &[
                    ("mfa_policy", "users"),
                    ("mfa_factors", "totp"),
                    ("back", "/account"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Choose who must use a second factor."));
        let none = admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &account.body,
                &[("mfa_policy", "everyone"), ("back", "/account")],
            )
            .await;
        assert_eq!(none.status, 422);
        assert!(none.body.contains("Allow at least one kind"));
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM nodes WHERE mfa_policy IS NOT NULL")
                .await,
            0
        );

        // Everyone, with authenticator apps only.
        let set = admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &account.body,
                &[
                    ("mfa_policy", "everyone"),
                    ("mfa_factors", "totp"),
                    ("back", "/account"),
                ],
            )
            .await;
        assert_eq!(set.location(), "/account?saved=mfa#mfa");
        let account = admin.get("/account").await;
        assert!(
            account.body.contains("plain@a.test"),
            "listed as not enrolled"
        );
        let (plain, next) = password_step(&server, "plain@a.test", PW).await;
        assert_eq!(next, "/mfa/enrol");
        let enrol = plain.get("/mfa/enrol").await;
        assert!(enrol.body.contains("Set up an app") && !enrol.body.contains("Add a passkey"));
        let sms = plain
            .post_form("/toolbox/factors/sms", &enrol.body, &[])
            .await;
        assert_eq!(sms.status, 409, "SMS is not allowed here");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.policy'")
                .await,
            1
        );
        // Users of account B are not affected.
        let (_, next) = password_step(&server, "buser@b.test", PW).await;
        assert_eq!(next, "/");

        // "Multifactor Authentication": the switch on one user, under account B's default policy.
        let b_admin = signed_in(&server, "badmin@b.test").await;
        let path = format!("/users/{}", org.b_user);
        let page = b_admin.get(&path).await;
        assert!(page.body.contains("Multifactor Authentication"));
        let v = input_value(&page.body, "version").unwrap();
        let on = b_admin
            .post_form(
                &format!("{path}/settings"),
                &page.body,
                &[
                    ("version", &v),
                    ("first_name", "buser"),
                    ("last_name", "Test"),
                    ("user_type", "user"),
                    ("language", "en"),
                    ("mfa_required", "on"),
                ],
            )
            .await;
        assert_eq!(on.status, 303, "{}", on.body);
        let (_, next) = password_step(&server, "buser@b.test", PW).await;
        assert_eq!(next, "/mfa/enrol");
    }
);

both_engines!(
    an_administrator_resets_a_users_factors_in_scope_only,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let target = signed_in(&server, "target@a.test").await;
        add_totp(&server, &target, "/toolbox").await;
        assert_eq!(server.count("SELECT COUNT(*) FROM factors").await, 1);
        let path = format!("/users/{}", org.target);

        // Another account's administrator, and a plain user: refused, nothing changes.
        for who in ["badmin@b.test", "plain@a.test"] {
            let other = signed_in(&server, who).await;
            let page = other.get("/toolbox").await;
            let res = other
                .post_form(&format!("{path}/mfa/reset"), &page.body, &[])
                .await;
            assert!(matches!(res.status, 403 | 404), "{who}: {}", res.status);
            assert_eq!(
                server.count("SELECT COUNT(*) FROM factors").await,
                1,
                "{who}"
            );
        }
        // Someone else's factor cannot be removed through one's own toolbox.
        let factor = factor_id(&target.get("/toolbox").await.body);
        let plain = signed_in(&server, "plain@a.test").await;
        let page = plain.get("/toolbox").await;
        let res = plain
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &page.body,
                &[],
            )
            .await;
        assert_eq!(res.status, 404);
        assert_eq!(server.count("SELECT COUNT(*) FROM factors").await, 1);

        // The account's administrator sees it (read-only toolbox too) and resets it.
        let admin = signed_in(&server, "acct@a.test").await;
        let page = admin.get(&path).await;
        assert!(page.body.contains("Second factors:"), "{}", page.body);
        let toolbox = admin.get(&format!("{path}/toolbox")).await;
        assert!(toolbox.body.contains("Phone") && !toolbox.body.contains("/remove"));
        let reset = admin
            .post_form(&format!("{path}/mfa/reset"), &page.body, &[])
            .await;
        assert_eq!(reset.location(), format!("{path}?saved=mfa#mfa"));
        assert_eq!(server.count("SELECT COUNT(*) FROM factors").await, 0);
        assert_eq!(server.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.reset'")
                .await,
            1
        );
        // The user's sessions ended.
        assert_eq!(
            target.get("/toolbox").await.location(),
            "/signin?next=%2Ftoolbox"
        );
    }
);

both_engines!(
    the_last_required_factor_stays_and_changes_need_a_recent_password,
    |engine| async move {
        let server = TestServer::builder(engine)
            .admin()
            .options(requiring(Require::Administrators))
            .start()
            .await;
        let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (secret, done) = add_totp(&server, &client, "/mfa/enrol").await;
        client.post_form("/mfa/enrol/done", &done, &[]).await;
        let toolbox = client.get("/toolbox").await;
        let factor = factor_id(&toolbox.body);
        let removed = client
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert_eq!(removed.status, 409);
        assert!(removed.body.contains("at least one second factor"));
        // A second app, then the first may go; after ten minutes a password is asked again.
        server.clock.advance(30);
        let (second, _) = add_totp(&server, &client, "/toolbox").await;
        assert_ne!(second, secret);
        server.clock.advance(11 * 60);
        let toolbox = client.get("/toolbox").await;
        let asked = client
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert!(
            asked.location().starts_with("/reauth"),
            "{}",
            asked.location()
        );
        let reauth = client.get(&asked.location()).await;
        let ok = client
            .post_form(
                "/reauth",
                &reauth.body,
                &[("password", ADMIN_PASSWORD), ("next", "/toolbox")],
            )
            .await;
        assert_eq!(ok.status, 303);
        let toolbox = client.get("/toolbox").await;
        let removed = client
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        assert_eq!(server.count("SELECT COUNT(*) FROM factors").await, 1);
    }
);

both_engines!(passkeys_need_a_host_name, |engine| async move {
    // The test server's public address is an IP address: passkeys are not offered.
    let server = TestServer::builder(engine).admin().start().await;
    let admin = server.admin_client().await;
    let toolbox = admin.get("/toolbox").await;
    assert!(!toolbox.body.contains("Add a passkey"));
    let res = admin
        .post_form("/toolbox/factors/passkey/options", &toolbox.body, &[])
        .await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("host name"), "{}", res.body);
});

both_engines!(
    enrolment_by_sms_verifies_the_number_first,
    |engine| async move {
        let server = TestServer::builder(engine)
            .admin()
            .mail()
            .options(requiring(Require::Everyone))
            .start()
            .await;
        let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(next, "/mfa/enrol");
        let page = client.get("/mfa/enrol").await;
        // Bad input names the field and changes nothing.
        let bad = client
            .post_form(
                "/mfa/enrol/phone",
                &page.body,
                &[("phone_country", "NL"), ("phone_number", "12")],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.body.contains("id=\"phone_number-error\""),
            "{}",
            bad.body
        );
        let saved = client
            .post_form(
                "/mfa/enrol/phone",
                &page.body,
                &[("phone_country", "NL"), ("phone_number", "06 12345678")],
            )
            .await;
        assert_eq!(saved.location(), "/mfa/enrol?saved=phone");
        let page = client.get("/mfa/enrol").await;
        // Not verified: no SMS factor yet, and no way past enrolment.
        let early = client
            .post_form("/toolbox/factors/sms", &page.body, &[])
            .await;
        assert_eq!(early.status, 409);
        let stuck = client.post_form("/mfa/enrol/done", &page.body, &[]).await;
        assert_eq!(stuck.status, 409);
        client
            .post_form("/mfa/enrol/phone/send", &page.body, &[])
            .await;
        let sms = server.texts(1).await;
        let verified = client
            .post_form(
                "/mfa/enrol/phone/verify",
                &page.body,
                &[("code", &sms[0].code())],
            )
            .await;
        assert_eq!(verified.location(), "/mfa/enrol?saved=phone-verified");
        let page = client.get("/mfa/enrol").await;
        assert!(page.body.contains("Send sign-in codes to this number"));
        let added = client
            .post_form("/toolbox/factors/sms", &page.body, &[])
            .await;
        assert_eq!(recovery_codes(&added.body).len(), 10);
        let done = client.post_form("/mfa/enrol/done", &added.body, &[]).await;
        assert_eq!(done.status, 303);
        assert_eq!(client.get("/users").await.status, 200);
        let mails = server.mails(1).await;
        assert!(
            mails[0].data.contains("second factors changed"),
            "{}",
            mails[0].data
        );
    }
);

both_engines!(
    a_password_reset_never_skips_the_second_factor,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let admin = server.admin_client().await;
        let (secret, _) = add_totp(&server, &admin, "/toolbox").await;
        admin.sign_out().await;
        // The user is told: a factor was added (V6.3.7).
        let mails = server.mails(1).await;
        assert!(
            mails[0].data.contains("second factors changed"),
            "{}",
            mails[0].data
        );

        let client = server.client();
        let form = client.get("/reset").await;
        client
            .post_form("/reset", &form.body, &[("email", ADMIN_EMAIL)])
            .await;
        let mails = server.mails(2).await;
        let link = mails[1]
            .link(&format!("{}/reset/confirm?token=", server.url))
            .expect("a reset link");
        let token = link.rsplit('=').next().unwrap().to_string();
        let page = client.get_url(&link).await;
        let new = "the harbour at noon";
        let done = client
            .post_form(
                "/reset/confirm",
                &page.body,
                &[
                    ("token", &token),
                    ("password", new),
                    ("password_repeat", new),
                ],
            )
            .await;
        assert_eq!(done.location(), "/signin?notice=reset-done");
        assert_eq!(client.get("/users").await.status, 303, "no sign-in");
        // The next sign-in still asks for the app's code.
        let (next, step) = password_step(&server, ADMIN_EMAIL, new).await;
        assert!(step.starts_with("/signin/verify"), "{step}");
        server.clock.advance(30);
        let ok = answer(&next, "totp", &totp_at(&secret, now(&server))).await;
        assert_eq!(ok.status, 303);
    }
);

both_engines!(
    codes_are_bound_to_their_purpose_attempt_and_time,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let admin = server.admin_client().await;
        add_sms(&server, &admin).await;
        let (secret, _) = add_totp(&server, &admin, "/toolbox").await;
        admin.sign_out().await;

        // A TOTP code from 90 s ago is refused; one from 30 s ago still counts.
        server.clock.advance(120);
        let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let old = totp_at(&secret, now(&server) - 90_000);
        let late = answer(&client, "totp", &old).await;
        assert_eq!(late.status, 401);

        // The phone-verification code is no sign-in code.
        let first = server.texts(1).await;
        assert_eq!(answer(&client, "sms", &first[0].code()).await.status, 401);

        // A code asked for in attempt A does not open attempt B.
        let page = client.get("/signin/verify").await;
        let sent = client
            .post_form("/signin/verify/sms", &page.body, &[])
            .await;
        assert_eq!(sent.status, 303);
        let sms = server.texts(2).await;
        let (other, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(answer(&other, "sms", &sms[1].code()).await.status, 401);
        let ok = answer(&client, "sms", &sms[1].code()).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        // A new session id at the second step.
        let before = other.session_cookie();
        server.clock.advance(30);
        let ok = answer(&other, "totp", &totp_at(&secret, now(&server))).await;
        assert_eq!(ok.status, 303);
        assert_ne!(other.session_cookie(), before);
        let stale = server.client();
        stale.set_session_cookie(&before);
        assert_eq!(stale.get("/signin/verify").await.status, 303);

        // A removed factor stops working at once.
        let toolbox = other.get("/toolbox").await;
        let totp_id = toolbox
            .body
            .split("action=\"/toolbox/factors/")
            .filter_map(|s| s.split_once("/rename\""))
            .map(|(id, _)| id.to_string())
            .nth(1)
            .expect("the app, listed second");
        let removed = other
            .post_form(
                &format!("/toolbox/factors/{totp_id}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        other.sign_out().await;
        let (third, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        server.clock.advance(30);
        let gone = answer(&third, "totp", &totp_at(&secret, now(&server))).await;
        assert_eq!(gone.status, 401);
        let told = server.mails(3).await;
        assert_eq!(
            told.iter()
                .filter(|m| m.data.contains("second factors changed"))
                .count(),
            3,
            "added SMS, added app, removed app"
        );
    }
);
