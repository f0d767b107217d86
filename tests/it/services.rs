//! Service settings inherited account → unit → user: each value resolves from the nearest level
//! that sets it and says which; a refused value changes nothing.

use roster_core::domain::service::{self, Source};
use roster_core::domain::user::{self, UserChange};
use roster_core::model::NodeId;
use serde_json::{Map, Value, json};

use crate::support::org::{Org, root_actor};
use crate::support::{TestServer, both_engines};

fn changes(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn node_named(s: &Source) -> Option<&str> {
    match s {
        Source::Node { name, .. } => Some(name),
        _ => None,
    }
}

both_engines!(
    settings_resolve_user_unit_account_default,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let ctx = &server.ctx;
        let d = server.user("target@a.test").await;
        user::update_user(
            ctx,
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
        let value = |s: &service::ServiceSettings, id: &str| {
            s.values.iter().find(|v| v.id == id).unwrap().clone()
        };

        // Nobody set anything: the service's defaults.
        let mine = service::user_settings(ctx, &op, d.id, "sms").await.unwrap();
        assert_eq!(value(&mine, "max_parts").value, json!(3));
        assert_eq!(value(&mine, "max_parts").source, Source::Default);

        // The account's standard settings, then a unit's override for everything below it.
        service::set_node_settings(
            ctx,
            &op,
            org.a,
            "sms",
            None,
            &changes(json!({"sender_id": "ACME", "max_parts": "5"})),
        )
        .await
        .unwrap();
        service::set_node_settings(
            ctx,
            &op,
            org.u,
            "sms",
            None,
            &changes(json!({"sender_id": "SALES"})),
        )
        .await
        .unwrap();
        let mine = service::user_settings(ctx, &op, d.id, "sms").await.unwrap();
        let sender = value(&mine, "sender_id");
        assert_eq!(sender.value, "SALES");
        assert_eq!(node_named(&sender.source), Some("Sales"), "from unit Sales");
        assert!(!sender.set_here());
        let parts = value(&mine, "max_parts");
        assert_eq!(parts.value, json!(5));
        assert_eq!(
            node_named(&parts.source),
            Some("Acme"),
            "the account's default"
        );

        // The user's own value, and what "use the inherited value" would give back.
        service::set_user_settings(
            ctx,
            &op,
            d.id,
            "sms",
            None,
            &changes(json!({"sender_id": "ME"})),
        )
        .await
        .unwrap();
        let mine = service::user_settings(ctx, &op, d.id, "sms").await.unwrap();
        let sender = value(&mine, "sender_id");
        assert_eq!(
            (sender.value.clone(), sender.source.clone()),
            (json!("ME"), Source::User)
        );
        assert_eq!(sender.inherited, "SALES");
        assert!(sender.set_here());

        // The account's default changes every user who has not overridden it.
        service::set_node_settings(
            ctx,
            &op,
            org.a,
            "sms",
            None,
            &changes(json!({"max_parts": 7})),
        )
        .await
        .unwrap();
        let mine = service::user_settings(ctx, &op, d.id, "sms").await.unwrap();
        assert_eq!(value(&mine, "max_parts").value, json!(7));

        // A unit's page shows what it sets itself and what it inherits.
        let at_unit = service::node_settings(ctx, &op, org.u1, "sms")
            .await
            .unwrap();
        assert_eq!(
            node_named(&value(&at_unit, "sender_id").source),
            Some("Sales")
        );
        assert!(
            !value(&at_unit, "sender_id").set_here(),
            "a unit that sets nothing inherits"
        );
        let at_sales = service::node_settings(ctx, &op, org.u, "sms")
            .await
            .unwrap();
        assert!(value(&at_sales, "sender_id").set_here());
        assert_eq!(value(&at_sales, "sender_id").inherited, "ACME");

        // Back to the inherited value.
        service::set_user_settings(
            ctx,
            &op,
            d.id,
            "sms",
            None,
            &changes(json!({"sender_id": null})),
        )
        .await
        .unwrap();
        let mine = service::user_settings(ctx, &op, d.id, "sms").await.unwrap();
        assert_eq!(value(&mine, "sender_id").value, "SALES");

        // Keeping the service keeps the user's settings of it; another account sees its defaults.
        service::set_user_settings(
            ctx,
            &op,
            d.id,
            "sms",
            None,
            &changes(json!({"signature": "Target"})),
        )
        .await
        .unwrap();
        let d = server.user("target@a.test").await;
        user::update_user(
            ctx,
            &op,
            d.id,
            d.version,
            &UserChange {
                services: Some(vec!["sms".into(), "fax".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mine = service::user_settings(ctx, &op, d.id, "sms").await.unwrap();
        assert_eq!(value(&mine, "signature").value, "Target");
        let b = service::node_settings(ctx, &op, org.b, "sms")
            .await
            .unwrap();
        assert_eq!(value(&b, "sender_id").source, Source::Default);

        // A service no longer configured is hidden, not lost, when the user's services change.
        server
            .exec("INSERT INTO user_services (user_id, service, settings) SELECT id, 'telex', '{}' FROM users WHERE email = 'target@a.test'")
            .await;
        let d = server.user("target@a.test").await;
        user::update_user(
            ctx,
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
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM user_services s JOIN users u ON u.id = s.user_id WHERE u.email = 'target@a.test' AND s.service IN ('sms', 'telex')")
                .await,
            2
        );

        // Taking the service away takes the user's settings of it; the audit trail keeps them.
        let d = server.user("target@a.test").await;
        user::update_user(
            ctx,
            &op,
            d.id,
            d.version,
            &UserChange {
                services: Some(vec![]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.services' AND before_data LIKE '%service_settings%Target%'")
                .await,
            1
        );
    }
);

both_engines!(
    a_refused_setting_changes_nothing_and_names_its_field,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let ctx = &server.ctx;
        let before = server.fingerprint().await;
        let field_of = |e: roster_core::Error| match e {
            roster_core::Error::Invalid(list) => {
                list.iter().map(|f| (f.field, f.code)).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        // One good value beside a bad one: neither is kept.
        let e = service::set_node_settings(
            ctx,
            &op,
            org.a,
            "sms",
            None,
            &changes(json!({"sender_id": "OK", "max_parts": 11})),
        )
        .await
        .unwrap_err();
        assert_eq!(field_of(e), [("max_parts", "setting-out-of-range")]);
        let e = service::set_node_settings(
            ctx,
            &op,
            org.a,
            "fax",
            None,
            &changes(json!({"resolution": "coarse", "colour": true})),
        )
        .await
        .unwrap_err();
        assert_eq!(
            field_of(e),
            [
                ("settings", "setting-unknown"),
                ("resolution", "setting-choice")
            ]
        );
        let e = service::set_node_settings(ctx, &op, org.a, "telex", None, &changes(json!({})))
            .await
            .unwrap_err();
        assert_eq!(field_of(e), [("service", "setting-service-unknown")]);
        // A user without the service has no settings of it.
        let e = service::set_user_settings(
            ctx,
            &op,
            org.plain,
            "sms",
            None,
            &changes(json!({"sender_id": "X"})),
        )
        .await
        .unwrap_err();
        assert_eq!(field_of(e), [("service", "setting-service-not-held")]);
        // A stale version changes nothing either.
        let e = service::set_node_settings(
            ctx,
            &op,
            org.a,
            "sms",
            Some(-1),
            &changes(json!({"sender_id": "OK"})),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, roster_core::Error::Conflict(_)), "{e:?}");
        // The operator's own node has no service settings.
        let root = server.root.clone().unwrap().0;
        assert!(matches!(
            service::node_settings(ctx, &op, NodeId(root.0), "sms").await,
            Err(roster_core::Error::NotFound)
        ));
        assert!(
            service::set_node_settings(
                ctx,
                &op,
                NodeId(root.0),
                "sms",
                None,
                &changes(json!({"sender_id": "OP"}))
            )
            .await
            .is_err()
        );
        assert_eq!(server.fingerprint().await, before, "nothing changed");
    }
);
