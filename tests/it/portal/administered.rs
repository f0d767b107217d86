//! "Administered" on the Account tab: operator staff set the switch and the account's email
//! domains; a domain belongs to one account; the account's administrators see it and cannot
//! change it; a unit administrator does not reach it.

use crate::support::org::{Org, signed_in};
use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(
    operators_set_an_account_as_administered_with_its_domains,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let operator = server.client();
        assert_eq!(
            operator.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
            303
        );
        let path = format!("/account?node={}", org.a);
        let page = operator.get(&path).await;
        assert!(
            page.body
                .contains("When your account are set as Administered")
        );
        let version = input_value(&page.body, "version").unwrap();
        let res = operator
            .post_form(
                &format!("/account/{}/administered", org.a),
                &page.body,
                &[
                    ("version", &version),
                    ("administered", "on"),
                    ("domains", "a.test\nSales.A.test"),
                    ("retention_days", "90"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let page = operator.get(&format!("{path}&saved=administered")).await;
        assert!(page.body.contains("Administered has been saved."));
        assert!(
            page.body.contains("a.test\nsales.a.test"),
            "kept in lower case, one a line"
        );
        assert_eq!(
            input_value(&page.body, "retention_days").as_deref(),
            Some("90")
        );
        let audit = server
            .text("SELECT after_data FROM audit_events WHERE action = 'account.administered'")
            .await;
        assert!(audit.contains("\"retention_days\":90"), "{audit}");

        // Another account cannot take a.test; nothing changes.
        let before = server.fingerprint().await;
        let bpage = operator.get(&format!("/account?node={}", org.b)).await;
        let bversion = input_value(&bpage.body, "version").unwrap();
        let res = operator
            .post_form(
                &format!("/account/{}/administered", org.b),
                &bpage.body,
                &[
                    ("version", &bversion),
                    ("administered", "on"),
                    ("domains", "b.test a.test"),
                ],
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        assert!(res.body.contains("This domain belongs to another account."));
        let res = operator
            .post_form(
                &format!("/account/{}/administered", org.b),
                &bpage.body,
                &[("version", &bversion), ("domains", "not a domain")],
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        assert!(res.body.contains("Write each domain like example.com."));
        let res = operator
            .post_form(
                &format!("/account/{}/administered", org.b),
                &bpage.body,
                &[
                    ("version", &bversion),
                    ("domains", "b.test"),
                    ("retention_days", "0"),
                ],
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        assert!(res.body.contains("Enter a number of days from 1 to 3650"));

        // The account's administrator sees it, and cannot change it; a unit administrator does
        // not reach it.
        let admin = signed_in(&server, "acct@a.test").await;
        let page = admin.get("/account").await;
        assert!(page.body.contains("id=\"administered-state\""));
        assert!(page.body.contains("a.test, sales.a.test"));
        assert!(page.body.contains("The audit trail is kept for 90 days."));
        assert!(!page.body.contains("/administered\""), "no form for them");
        let res = admin
            .post_form(
                &format!("/account/{}/administered", org.a),
                &page.body,
                &[("version", &version), ("domains", "")],
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.body);
        let unit = signed_in(&server, "unit@a.test").await;
        let upage = unit.get("/devices").await;
        let res = unit
            .post_form(
                &format!("/account/{}/administered", org.a),
                &upage.body,
                &[("version", &version), ("domains", "")],
            )
            .await;
        assert_eq!(res.status, 404, "{}", res.body);
        assert_eq!(server.fingerprint().await, before, "nothing changed");
    }
);
