//! Accounts and units in the portal: operators create accounts, units are created, moved,
//! renamed and deleted only when empty.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(
    units_are_created_moved_renamed_and_deleted_only_when_empty,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct.get("/users").await;
        assert_eq!(
            acct.post_form(
                "/units",
                &page.body,
                &[("parent", &org.a.to_string()), ("name", "Support")]
            )
            .await
            .status,
            303
        );
        let dup = acct
            .post_form(
                "/units",
                &page.body,
                &[("parent", &org.a.to_string()), ("name", "support")],
            )
            .await;
        assert_eq!(dup.status, 422);
        assert!(
            dup.body
                .contains("There is already a unit with this name here.")
        );
        // A unit with users cannot be deleted.
        let u1 = acct.get(&format!("/units/{}", org.u1)).await;
        let refused = acct
            .post_form(&format!("/units/{}/delete", org.u1), &u1.body, &[])
            .await;
        assert_eq!(refused.status, 409);
        assert!(refused.body.contains("still has users or units"));
        // Never under itself.
        let v = input_value(&u1.body, "version").unwrap();
        let cycle = acct
            .post_form(
                &format!("/units/{}/move", org.u),
                &u1.body,
                &[("version", &v), ("parent", &org.u2.to_string())],
            )
            .await;
        assert!(matches!(cycle.status, 409 | 422), "{}", cycle.status);
        // Move U2 (with its user) directly under the account: paths follow, scope follows.
        let u2 = acct.get(&format!("/units/{}", org.u2)).await;
        let v = input_value(&u2.body, "version").unwrap();
        assert_eq!(
            acct.post_form(
                &format!("/units/{}/move", org.u2),
                &u2.body,
                &[("version", &v), ("parent", &org.a.to_string())]
            )
            .await
            .status,
            303
        );
        let unit_admin = signed_in(&server, "unit@a.test").await;
        assert_eq!(
            unit_admin
                .get(&format!("/users/{}", org.target))
                .await
                .status,
            404,
            "U2 left U1: its users left the U1 administrator's scope"
        );
        let list = acct.get(&format!("/users?node={}", org.a)).await;
        assert!(list.body.contains("Stockholm"));
    }
);

both_engines!(
    operators_create_accounts_and_bad_input_names_the_field,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let op = server.admin_client().await;
        let page = op.get("/management").await;
        let bad = op
            .post_form(
                "/management/accounts",
                &page.body,
                &[
                    ("version", "0"),
                    ("name", "Gamma"),
                    ("contact_email", "nope"),
                    ("default_language", "en"),
                    ("default_country", "SE"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.body.contains("Enter an email address") && bad.body.contains("value=\"Gamma\"")
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM nodes WHERE kind = 'account'")
                .await,
            0
        );
        let ok = op
            .post_form(
                "/management/accounts",
                &page.body,
                &[
                    ("version", "0"),
                    ("name", "Gamma"),
                    ("contact_email", "it@gamma.test"),
                    ("default_language", "sv"),
                    ("default_country", "SE"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303);
        let management = op.get("/management").await;
        assert!(management.body.contains("Gamma"));
        assert_eq!(
            server
                .text("SELECT default_language FROM nodes WHERE name = 'Gamma'")
                .await,
            "sv"
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'account.create'")
                .await,
            1
        );
    }
);
