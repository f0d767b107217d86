//! The services' settings sections on the Account tab, a unit's page and a user's page: the
//! account's standard settings, a unit's override, the user's own value, each saying where it
//! comes from; "Use the inherited value"; a bad value named and nothing changed; a unit
//! administrator's reach.

use roster_core::domain::user::{self, UserChange};

use crate::support::org::{Org, root_actor, signed_in};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(
    settings_sections_inherit_down_the_tree,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let d = server.user("target@a.test").await;
        user::update_user(
            &server.ctx,
            &op,
            d.id,
            d.version,
            &UserChange {
                services: Some(vec!["sms".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let admin = signed_in(&server, "acct@a.test").await;

        // The Account tab: "SMS Settings" and "Fax Coverpage", the standard settings.
        let page = admin.get("/account").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("SMS Settings") && page.body.contains("Fax Coverpage"));
        assert!(
            page.body
                .contains("new users get these settings by default")
        );
        let version = |body: &str, service: &str| {
            let at = body.find(&format!("id=\"settings-{service}\"")).unwrap();
            input_value(&body[at..], "version").unwrap()
        };
        let v = version(&page.body, "sms");
        let res = admin
            .post_form(
                &format!("/nodes/{}/settings/sms", org.a),
                &page.body,
                &[
                    ("version", &v),
                    ("back", "/account"),
                    ("value:sender_id", "ACME"),
                    ("value:max_parts", "5"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        assert_eq!(res.location(), "/account?saved=settings#settings-sms");
        let page = admin.get("/account?saved=settings").await;
        assert!(page.body.contains("The service settings have been saved."));
        assert!(page.body.contains("value=\"ACME\""));

        // A unit overrides it; its page says what it sets itself.
        let unit_path = format!("/units/{}", org.u);
        let page = admin.get(&unit_path).await;
        assert!(
            page.body.contains("account default"),
            "the account's value shows where it comes from: {}",
            &page.body[page.body.find("settings-sms").unwrap_or(0)..]
        );
        let v = version(&page.body, "sms");
        let res = admin
            .post_form(
                &format!("/nodes/{}/settings/sms", org.u),
                &page.body,
                &[
                    ("version", &v),
                    ("back", &unit_path),
                    ("value:sender_id", "SALES"),
                    ("value:max_parts", "5"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let page = admin.get(&unit_path).await;
        assert!(page.body.contains("set here"));

        // The user in a unit below shows "from unit Sales"; max_parts, left as it was, stays
        // inherited from the account (the form never copies an inherited value down).
        let user_path = format!("/users/{}", d.id);
        let page = admin.get(&user_path).await;
        assert!(page.body.contains("SMS settings"), "{}", page.body);
        assert!(page.body.contains("from unit Sales"));
        let mine = roster_core::domain::service::user_settings(&server.ctx, &op, d.id, "sms")
            .await
            .unwrap();
        let parts = mine.values.iter().find(|v| v.id == "max_parts").unwrap();
        assert!(
            matches!(&parts.source, roster_core::domain::service::Source::Node { kind, .. } if kind == "account")
        );

        // A bad value: named, nothing changed.
        let before = server.fingerprint().await;
        let v = version(&page.body, "sms");
        let res = admin
            .post_form(
                &format!("/users/{}/settings/sms", d.id),
                &page.body,
                &[
                    ("version", &v),
                    ("back", &user_path),
                    ("value:sender_id", "ME"),
                    ("value:max_parts", "12"),
                ],
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        assert!(
            res.body.contains("Maximum parts of a long message"),
            "the field is named"
        );
        assert_eq!(server.fingerprint().await, before, "nothing changed");

        // The user's own value, then "Use the inherited value".
        let res = admin
            .post_form(
                &format!("/users/{}/settings/sms", d.id),
                &page.body,
                &[
                    ("version", &v),
                    ("back", &user_path),
                    ("value:sender_id", "ME"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let page = admin
            .get(&format!("{user_path}?saved=service-settings"))
            .await;
        assert!(
            page.body.contains("value=\"ME\"") && page.body.contains("Use the inherited value")
        );
        let v = version(&page.body, "sms");
        let res = admin
            .post_form(
                &format!("/users/{}/settings/sms", d.id),
                &page.body,
                &[
                    ("version", &v),
                    ("back", &user_path),
                    ("value:sender_id", "ME"),
                    ("inherit", "sender_id"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let page = admin.get(&user_path).await;
        assert!(page.body.contains("value=\"SALES\""));

        // The unit administrator of Nordics cannot change Sales' or the account's settings.
        let unit_admin = signed_in(&server, "unit@a.test").await;
        let page = unit_admin.get(&format!("/units/{}", org.u1)).await;
        assert_eq!(page.status, 200);
        let before = server.fingerprint().await;
        for node in [org.u, org.a] {
            let res = unit_admin
                .post_form(
                    &format!("/nodes/{node}/settings/sms"),
                    &page.body,
                    &[
                        ("version", "1"),
                        ("back", "/account"),
                        ("value:sender_id", "MINE"),
                    ],
                )
                .await;
            assert_eq!(res.status, 404, "{}", res.body);
        }
        assert_eq!(server.fingerprint().await, before, "nothing changed");
    }
);
