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
        let server = TestServer::with_mail(engine).await;
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
        let mails = server.sink().wait_for(1).await;
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
        let server = TestServer::with_mail(engine).await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        assert_eq!(
            add_invited(&admin, &org.u.to_string(), "nina@a.test", "en", "").await,
            201
        );
        let first = server.sink().wait_for(1).await[0]
            .link(&server.url)
            .unwrap();
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
        let mails = server.sink().wait_for(2).await;
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
        let server = TestServer::with_mail(engine).await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        server.sink().refuse(true);
        assert_eq!(
            add_invited(&admin, &org.u.to_string(), "nina@a.test", "en", "").await,
            201
        );
        let attempts = |n: i64| {
            let server = &server;
            async move {
                for _ in 0..200 {
                    if server
                        .count("SELECT COALESCE(MAX(attempts), 0) FROM outbox")
                        .await
                        >= n
                    {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                panic!("never reached {n} attempts");
            }
        };
        attempts(1).await;
        assert_eq!(server.text("SELECT state FROM outbox").await, "queued");
        server.clock.advance(30);
        attempts(2).await;
        server.clock.advance(60);
        attempts(3).await;
        for _ in 0..100 {
            if server.text("SELECT state FROM outbox").await == "failed" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
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
        let mails = server.sink().wait_for(1).await;
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
                "password-set-by-admin",
                mail::password_set_by_admin(lang, "Nina New", "Olga Operator"),
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
