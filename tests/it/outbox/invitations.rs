//! Invitations: in the user's language, a link that works once, and a resend that voids the old
//! link.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines};

use super::add_invited;

both_engines!(
    the_invitation_arrives_in_the_users_language_and_its_link_works_once,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        // The inviter's friendly name signs the invitation.
        server
            .exec("UPDATE users SET friendly_name = 'Acct, kundtjänst' WHERE email = 'acct@a.test'")
            .await;
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
        assert!(text.contains("\n— Acct, kundtjänst\n"), "signed: {text}");
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
