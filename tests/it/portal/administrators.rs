//! Administrators: nobody grants more than they hold, the last active administrator stays (even
//! against two concurrent removals), and who can administer a user and why.

use crate::support::org::{Org, person, root_actor, signed_in};
use crate::support::server::ADMIN_EMAIL;
use crate::support::{TestServer, both_engines, input_value};

use super::{add_form, post_add};

both_engines!(nobody_grants_more_than_they_hold, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let unit_admin = signed_in(&server, "unit@a.test").await;
    let before = server.fingerprint().await;
    let mut form = add_form(&org.u2.to_string(), "boss@a.test");
    form.retain(|(k, _)| *k != "user_type");
    form.push(("user_type", "administrator".into()));
    assert_eq!(
        post_add(&unit_admin, &form).await.status,
        403,
        "a unit administrator cannot create account administrators"
    );
    let page = unit_admin.get(&format!("/users/{}", org.target)).await;
    let version = input_value(&page.body, "version").unwrap();
    let res = unit_admin
        .post_form(
            &format!("/users/{}/settings", org.target),
            &page.body,
            &[
                ("version", &version),
                ("first_name", "target"),
                ("last_name", "Test"),
                ("user_type", "administrator"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    // The delegate cannot raise their user either, nor move or delete them.
    let delegate = signed_in(&server, "delegate@a.test").await;
    let page = delegate.get(&format!("/users/{}", org.target)).await;
    assert_eq!(page.status, 200);
    let res = delegate
        .post_form(
            &format!("/users/{}/settings", org.target),
            &page.body,
            &[
                ("version", &version),
                ("first_name", "target"),
                ("last_name", "Test"),
                ("user_type", "administrator"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(
        delegate
            .post_form(&format!("/users/{}/delete", org.target), &page.body, &[])
            .await
            .status,
        403
    );
    // Nobody moves a user out of their own scope.
    let page = unit_admin.get(&format!("/users/{}", org.target)).await;
    let v = input_value(&page.body, "version").unwrap();
    let out = unit_admin
        .post_form(
            &format!("/users/{}/move", org.target),
            &page.body,
            &[("version", &v), ("node", &org.u.to_string())],
        )
        .await;
    assert_eq!(out.status, 422);
    assert!(
        out.body
            .contains("This unit is not in your administration.")
    );
    // A unit administrator cannot rename or delete the unit that is their whole scope.
    let unit_page = unit_admin.get(&format!("/units/{}", org.u1)).await;
    let v = input_value(&unit_page.body, "version").unwrap();
    assert_eq!(
        unit_admin
            .post_form(
                &format!("/units/{}/rename", org.u1),
                &unit_page.body,
                &[("version", &v), ("name", "Mine")]
            )
            .await
            .status,
        403
    );
    assert_eq!(server.fingerprint().await, before);
});

both_engines!(the_last_active_administrator_stays, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let op = server.admin_client().await;
    let id = org.account_admin;
    let before = server.fingerprint().await;
    let page = op.get(&format!("/users/{id}")).await;
    let version = input_value(&page.body, "version").unwrap();
    let demote = op
        .post_form(
            &format!("/users/{id}/settings"),
            &page.body,
            &[
                ("version", &version),
                ("first_name", "acct"),
                ("last_name", "Test"),
                ("user_type", "user"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(demote.status, 409);
    assert!(demote.body.contains("at least one active administrator"));
    assert_eq!(
        op.post_form(
            &format!("/users/{id}/status"),
            &page.body,
            &[("version", &version), ("active", "false")]
        )
        .await
        .status,
        409
    );
    assert_eq!(
        op.post_form(&format!("/users/{id}/delete"), &page.body, &[])
            .await
            .status,
        409
    );
    assert_eq!(
        op.post_form(
            &format!("/nodes/{}/admins/{id}/remove", org.a),
            &page.body,
            &[]
        )
        .await
        .status,
        409
    );
    assert_eq!(server.fingerprint().await, before);
    // With a second administrator, the first may go.
    let acct = signed_in(&server, "acct@a.test").await;
    let page = acct.get(&format!("/account?node={}", org.a)).await;
    assert_eq!(
        acct.post_form(
            &format!("/nodes/{}/admins", org.a),
            &page.body,
            &[("email", "plain@a.test")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        server
            .text("SELECT user_type FROM users WHERE email = 'plain@a.test'")
            .await,
        "administrator"
    );
    let op_page = op.get(&format!("/users/{id}")).await;
    assert_eq!(
        op.post_form(&format!("/users/{id}/delete"), &op_page.body, &[])
            .await
            .status,
        303
    );
    assert_eq!(
        acct.get("/users").await.status,
        303,
        "a deleted user's session ends at once"
    );
});

both_engines!(
    two_concurrent_removals_never_leave_an_account_without_an_administrator,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let second = person(&server, &op, org.a, "second@a.test", true).await;
        // Both administrators are deleted at the same moment; one delete must lose.
        let (x, y) = tokio::join!(
            roster_core::domain::user::delete_user(&server.ctx, &op, org.account_admin),
            roster_core::domain::user::delete_user(&server.ctx, &op, second),
        );
        assert!(
            x.is_ok() != y.is_ok(),
            "exactly one removal succeeds: {x:?} {y:?}"
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE user_type = 'administrator' AND email IN ('acct@a.test', 'second@a.test')")
                .await,
            1,
            "one of the two is left, still an Administrator"
        );
    }
);

both_engines!(who_can_administer_a_user_and_why, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let op = server.admin_client().await;
    let page = op.get(&format!("/users/{}", org.target)).await;
    let section = page
        .body
        .split("id=\"reach\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap()
        .to_string();
    for expected in [
        "has Access to this user",
        "administrator of the unit Nordics",
        "administrator of the account Acme",
        "operator staff",
        "delegate@a.test",
        "unit@a.test",
        "acct@a.test",
        ADMIN_EMAIL,
    ] {
        assert!(
            section.contains(expected),
            "{expected} missing from {section}"
        );
    }
    let access = section.find("has Access").unwrap();
    let unit = section.find("unit Nordics").unwrap();
    let account = section.find("account Acme").unwrap();
    let operator = section.find("operator staff").unwrap();
    assert!(
        access < unit && unit < account && account < operator,
        "nearest first"
    );
    // Anyone but operator staff sees that staff reach the user, never who they are.
    let admin = signed_in(&server, "acct@a.test").await;
    let page = admin.get(&format!("/users/{}", org.target)).await;
    let section = page.body.split("id=\"reach\"").nth(1).unwrap();
    let section = section.split("</section>").next().unwrap();
    assert!(section.contains("operator staff"), "{section}");
    assert!(section.contains("acct@a.test"));
    assert!(
        !section.contains(ADMIN_EMAIL) && !section.contains("Olga"),
        "{section}"
    );
});
