//! Mail tests: the outbox worker delivering to a real SMTP sink on 127.0.0.1.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines};

async fn add_invited(
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

both_engines!(
    the_invitation_arrives_in_the_users_language_and_its_link_works_once,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        assert_eq!(
            add_invited(
                &admin,
                &org.u.to_string(),
                "nina@a.test",
                "sv",
                "Välkommen, <b>Nina</b>!\nVi ses."
            )
            .await,
            201
        );
        let mails = server.mails(1).await;
        let mail = &mails[0];
        assert_eq!(mail.to, vec!["nina@a.test".to_string()]);
        assert!(mail.from.contains("roster@roster.test"), "{}", mail.from);
        assert_eq!(mail.subject(), "acct Test bjuder in dig till Roster");
        let text = mail.part("text/plain");
        assert!(text.contains("Hej Nina New,"), "{text}");
        assert!(
            text.contains("> Välkommen, <b>Nina</b>!\n> Vi ses."),
            "the personal message, as typed: {text}"
        );
        let html = mail.part("text/html");
        assert!(
            html.contains("Välkommen, &lt;b&gt;Nina&lt;/b&gt;!<br>"),
            "escaped in HTML: {html}"
        );
        let link = mail
            .link(&format!("{}/invitation?token=", server.url))
            .expect("a link on the configured address");
        let token = link.rsplit('=').next().unwrap().to_string();
        assert!(token.len() >= 43);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND attempts = 1")
                .await,
            1
        );

        // The link shows a form and uses nothing; posting it sets the password.
        let nina = server.client();
        let form = nina.get_url(&link).await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("nina@a.test"));
        let again = nina.get_url(&link).await;
        assert_eq!(again.status, 200);
        let short = nina
            .post_form(
                "/invitation",
                &form.body,
                &[
                    ("token", &token),
                    ("password", "short"),
                    ("password_repeat", "short"),
                ],
            )
            .await;
        assert_eq!(short.status, 422);
        let pw = "sunrise over the harbour";
        let ok = nina
            .post_form(
                "/invitation",
                &form.body,
                &[("token", &token), ("password", pw), ("password_repeat", pw)],
            )
            .await;
        assert_eq!(
            (ok.status, ok.location().as_str()),
            (303, "/signin?notice=invitation-done")
        );
        assert_eq!(
            server
                .text("SELECT status FROM users WHERE email = 'nina@a.test'")
                .await,
            "active"
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM users WHERE email = 'nina@a.test' AND email_verified = TRUE").await, 1);
        assert_eq!(nina.sign_in("nina@a.test", pw).await.status, 303);
        // Used once: the same link again is refused, and changes nothing.
        let reused = server
            .client()
            .post_form(
                "/invitation",
                &form.body,
                &[
                    ("token", &token),
                    ("password", "another passphrase"),
                    ("password_repeat", "another passphrase"),
                ],
            )
            .await;
        assert!(matches!(reused.status, 403 | 410), "{}", reused.status);
        assert_eq!(server.client().get_url(&link).await.status, 410);
    }
);

both_engines!(
    resending_an_invitation_voids_the_old_link,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        assert_eq!(
            add_invited(&admin, &org.u.to_string(), "nina@a.test", "en", "").await,
            201
        );
        let first = server.mails(1).await[0].link(&server.url).unwrap();
        server
            .wait_count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", 1)
            .await;
        let page = admin.get("/users?q=nina").await;
        let user_path = page
            .body
            .split("<td><a href=\"/users/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let user_page = admin.get(&format!("/users/{user_path}")).await;
        assert!(
            user_page.body.contains("invitation sent"),
            "the history shows the first invitation"
        );
        let resend = admin
            .post_form(
                &format!("/users/{user_path}/invitation"),
                &user_page.body,
                &[],
            )
            .await;
        assert_eq!(resend.status, 303);
        assert_eq!(
            server.client().get_url(&first).await.status,
            410,
            "the old link dies at once"
        );
        let mails = server.mails(2).await;
        let second = mails[1].link(&server.url).unwrap();
        assert_ne!(first, second);
        assert_eq!(server.client().get_url(&second).await.status, 200);
        // An expired link says so.
        server.clock.advance(7 * 24 * 3600 + 1);
        let expired = server.client().get_url(&second).await;
        assert_eq!(expired.status, 410);
        assert!(expired.body.contains("This link has expired."));
        // (The administrator's session has long ended: a week went by.)
        let admin = signed_in(&server, "acct@a.test").await;
        let history = admin.get(&format!("/users/{user_path}")).await;
        assert!(
            history.body.contains("link expired unused"),
            "{}",
            history.body
        );
    }
);

both_engines!(
    a_refusing_mail_server_means_retries_then_failed_then_resend,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        server.sink().refuse(true);
        assert_eq!(
            add_invited(&admin, &org.u.to_string(), "nina@a.test", "en", "").await,
            201
        );
        // Each run of the outbox is one try; a failed try waits 30 s, then 60 s.
        let attempts = || server.count("SELECT COALESCE(MAX(attempts), 0) FROM outbox");
        assert_eq!(server.deliver_outbox().await, 0);
        assert_eq!(attempts().await, 1);
        assert_eq!(server.text("SELECT state FROM outbox").await, "queued");
        server.deliver_outbox().await;
        assert_eq!(attempts().await, 1, "not due again yet");
        server.clock.advance(30);
        server.deliver_outbox().await;
        assert_eq!(attempts().await, 2);
        server.clock.advance(60);
        server.deliver_outbox().await;
        assert_eq!(attempts().await, 3);
        assert_eq!(server.text("SELECT state FROM outbox").await, "failed");
        assert!(
            server
                .text("SELECT last_error FROM outbox")
                .await
                .contains("try again later")
        );
        let op = server.admin_client().await;
        let deliveries = op.get("/management/deliveries?state=failed").await;
        assert!(
            deliveries.body.contains("nina@a.test") && deliveries.body.contains("Failed"),
            "{}",
            deliveries.body
        );
        // Another account's administrator sees none of it.
        let other = signed_in(&server, "badmin@b.test").await;
        assert!(
            !other
                .get("/management/deliveries")
                .await
                .body
                .contains("nina@a.test")
        );
        let other_page = other.get("/devices").await;
        let foreign_id = deliveries
            .body
            .split("/management/deliveries/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            other
                .post_form(
                    &format!("/management/deliveries/{foreign_id}/resend"),
                    &other_page.body,
                    &[]
                )
                .await
                .status,
            404
        );
        server.sink().refuse(false);
        let id = deliveries
            .body
            .split("/management/deliveries/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let resend = op
            .post_form(
                &format!("/management/deliveries/{id}/resend"),
                &deliveries.body,
                &[],
            )
            .await;
        assert_eq!(resend.status, 303);
        let mails = server.mails(1).await;
        assert_eq!(mails.len(), 1);
        assert!(mails[0].link(&server.url).is_some());
        assert_eq!(server.text("SELECT state FROM outbox").await, "sent");
    }
);

/// Every message kind in every language, compared with the files under `tests/it/snapshots/`.
/// A missing file is written (outside CI) for review and commit; a changed text fails.
#[test]
fn snapshots_of_every_message_in_every_language() {
    use roster_core::model::Lang;
    use roster_core::outbox::mail;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots/mail");
    std::fs::create_dir_all(&dir).unwrap();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut problems = vec![];
    for lang in Lang::ALL {
        let messages = [
            (
                "invitation",
                mail::invitation(
                    lang,
                    "Nina New",
                    "Olga Operator",
                    "Welcome!\nSee you <soon>.",
                    "https://portal.example.com/invitation?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "mfa-changed",
                mail::mfa_changed(lang, "Nina New", "added", "totp"),
            ),
            (
                "mfa-reset",
                mail::mfa_changed(lang, "Nina New", "reset", ""),
            ),
            (
                "password-set-by-admin",
                mail::password_set_by_admin(lang, "Nina New", "Olga Operator"),
            ),
            (
                "password-reset",
                mail::password_reset(
                    lang,
                    "Nina New",
                    "https://portal.example.com/reset/confirm?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "email-verify",
                mail::email_verify(
                    lang,
                    "Nina New",
                    "nina@new.example",
                    "https://portal.example.com/email/confirm?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "email-change-notice",
                mail::email_change_notice(
                    lang,
                    "Nina New",
                    "nina@new.example",
                    "https://portal.example.com/email/cancel?token=TOKEN",
                    "2026-12-02 10:00 UTC",
                ),
            ),
            (
                "email-changed",
                mail::email_changed(lang, "Nina New", "nina@new.example", "Okta"),
            ),
        ];
        for (kind, m) in messages {
            let text = format!(
                "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}",
                m.subject, m.text, m.html
            );
            let path = dir.join(format!("{kind}.{}.txt", lang.code()));
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == text => {}
                Ok(_) => problems.push(format!("{} changed", path.display())),
                Err(_) if !ci => std::fs::write(&path, &text).unwrap(),
                Err(_) => problems.push(format!("{} is missing", path.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:?}");
}

both_engines!(
    a_password_reset_never_says_whether_an_address_exists_and_signs_nobody_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        Org::build(&server).await;
        let elsewhere = signed_in(&server, "plain@a.test").await;
        let strip = |body: &str| {
            body.lines()
                .filter(|l| {
                    !l.contains("csrf")
                        && !l.contains("X-CSRF-Token")
                        && !l.contains("name=\"email\"")
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let known = server.client();
        let form = known.get("/reset").await;
        // The link host comes from configuration, whatever the request says.
        let csrf = crate::support::input_value(&form.body, "csrf").unwrap();
        let a = known
            .post_raw(
                "/reset",
                &[("csrf", &csrf), ("email", "plain@a.test")],
                &[
                    ("host", "evil.test"),
                    ("x-forwarded-host", "evil.test"),
                    ("forwarded", "host=evil.test"),
                ],
            )
            .await;
        let unknown = server.client();
        let form2 = unknown.get("/reset").await;
        let b = unknown
            .post_form("/reset", &form2.body, &[("email", "nobody@a.test")])
            .await;
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(strip(&a.body), strip(&b.body));
        assert!(
            a.body
                .contains("If this address belongs to a user, a link is on its way.")
        );
        let mails = server.mails(1).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["plain@a.test".to_string()]);
        let link = mails[0]
            .link(&format!("{}/reset/confirm?token=", server.url))
            .unwrap();
        let token = link.rsplit('=').next().unwrap().to_string();

        let page = known.get_url(&link).await;
        assert_eq!(page.status, 200);
        let new = "the harbour at noon";
        let done = known
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
        assert_eq!(
            (done.status, done.location().as_str()),
            (303, "/signin?notice=reset-done")
        );
        assert!(
            !done
                .set_cookies()
                .iter()
                .any(|c| c.starts_with("roster=") && !c.contains("Max-Age=0")),
            "no sign-in cookie"
        );
        assert_eq!(
            elsewhere.get("/devices").await.status,
            303,
            "every other session ended"
        );
        assert_eq!(
            server
                .client()
                .sign_in("plain@a.test", crate::support::org::PW)
                .await
                .status,
            401
        );
        assert_eq!(
            server.client().sign_in("plain@a.test", new).await.status,
            303
        );
        assert_eq!(
            server.client().get_url(&link).await.status,
            410,
            "used once"
        );
    }
);

both_engines!(reset_links_expire_within_the_hour, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    Org::build(&server).await;
    let client = server.client();
    let form = client.get("/reset").await;
    client
        .post_form("/reset", &form.body, &[("email", "plain@a.test")])
        .await;
    let link = server.mails(1).await[0].link(&server.url).unwrap();
    server.clock.advance(3600 + 1);
    let page = server.client().get_url(&link).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("This link has expired."));
});

both_engines!(
    an_email_change_waits_for_the_new_address_and_the_old_one_can_cancel_it,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let path = format!("/users/{}", org.target);
        let page = admin.get(&path).await;
        let version = crate::support::input_value(&page.body, "version").unwrap();
        let res = admin
            .post_form(
                &format!("{path}/email"),
                &page.body,
                &[("version", &version), ("email", "Target.New@a.test")],
            )
            .await;
        assert_eq!(res.status, 303);
        let page = admin.get(&path).await;
        assert!(
            page.body
                .contains("Waiting for confirmation: target.new@a.test")
        );
        let mails = server.mails(2).await;
        let verify = mails
            .iter()
            .find(|m| m.to == ["target.new@a.test"])
            .expect("to the new address");
        let notice = mails
            .iter()
            .find(|m| m.to == ["target@a.test"])
            .expect("to the old address");
        // Until confirmed, the old address stays in force.
        assert_eq!(
            server
                .client()
                .sign_in("target@a.test", crate::support::org::PW)
                .await
                .status,
            303
        );
        let confirm = verify
            .link(&format!("{}/email/confirm?token=", server.url))
            .unwrap();
        let cancel = notice
            .link(&format!("{}/email/cancel?token=", server.url))
            .unwrap();
        let owner = server.client();
        let shown = owner.get_url(&confirm).await;
        assert_eq!(shown.status, 200);
        assert!(shown.body.contains("target.new@a.test"));
        let token = confirm.rsplit('=').next().unwrap();
        let done = owner
            .post_form("/email/confirm", &shown.body, &[("token", token)])
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(
            server
                .client()
                .sign_in("target.new@a.test", crate::support::org::PW)
                .await
                .status,
            303
        );
        assert_eq!(
            server
                .client()
                .sign_in("target@a.test", crate::support::org::PW)
                .await
                .status,
            401
        );
        assert_eq!(
            server.client().get_url(&cancel).await.status,
            410,
            "the cancel link dies with the confirmation"
        );

        // Another change, this time stopped from the old address.
        let page = admin.get(&path).await;
        let version = crate::support::input_value(&page.body, "version").unwrap();
        admin
            .post_form(
                &format!("{path}/email"),
                &page.body,
                &[("version", &version), ("email", "third@a.test")],
            )
            .await;
        let mails = server.mails(4).await;
        let notice = mails
            .iter()
            .rev()
            .find(|m| m.to == ["target.new@a.test"])
            .unwrap();
        let verify = mails.iter().find(|m| m.to == ["third@a.test"]).unwrap();
        let cancel = notice
            .link(&format!("{}/email/cancel?token=", server.url))
            .unwrap();
        let shown = owner.get_url(&cancel).await;
        let token = cancel.rsplit('=').next().unwrap();
        assert_eq!(
            owner
                .post_form("/email/cancel", &shown.body, &[("token", token)])
                .await
                .status,
            303
        );
        let confirm = verify.link(&server.url).unwrap();
        assert_eq!(
            server.client().get_url(&confirm).await.status,
            410,
            "the confirmation link is void"
        );
        assert!(
            !admin
                .get(&path)
                .await
                .body
                .contains("Waiting for confirmation")
        );
        assert_eq!(
            server
                .text("SELECT email FROM users WHERE first_name = 'target'")
                .await,
            "target.new@a.test"
        );
    }
);

/// Two nodes on one PostgreSQL database share the outbox: every message goes out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_message_once() {
    use crate::support::Engine;
    use roster_core::domain::user;
    let server = TestServer::builder(Engine::Postgres)
        .admin()
        .mail()
        .worker()
        .start()
        .await;
    let org = Org::build(&server).await;
    // A second node: its own pool and worker, the same database and mail server.
    let db = roster_core::Db::connect(&server.db_url).await.unwrap();
    let mut ctx = server.ctx.clone();
    ctx.db = db;
    let transport =
        roster_core::outbox::Transport::smtp(&server.sink().url(), "Roster <roster@roster.test>")
            .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(roster_core::outbox::worker::run(
        ctx,
        transport,
        std::time::Duration::from_millis(10),
        stopped,
    ));
    let op = crate::support::org::root_actor(&server);
    for i in 0..30 {
        let new = user::NewUser {
            profile: user::ProfileInput {
                first_name: format!("n{i}"),
                user_type: "user".into(),
                language: "en".into(),
                ..Default::default()
            },
            email: format!("n{i}@a.test"),
            ..Default::default()
        };
        user::create_user(&server.ctx, &op, org.u, &new)
            .await
            .unwrap();
    }
    server
        .wait_count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", 30)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut to: Vec<String> = server
        .sink()
        .received()
        .iter()
        .map(|m| m.to[0].clone())
        .collect();
    assert_eq!(to.len(), 30, "one message per user");
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 30, "nobody got two");
}
