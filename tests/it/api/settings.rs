//! Service settings through the API: per node and per user, each value with its source; a
//! unit administrator's token reaches their subtree only; a bad value names its field and
//! changes nothing.

use reqwest::Method;
use roster_core::domain::user::{self, UserChange};
use serde_json::json;

use super::{bearer, call, get};
use crate::support::org::{Org, root_actor};
use crate::support::{TestServer, both_engines};

both_engines!(
    settings_are_inherited_and_changed_through_the_api,
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
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        let unit_admin = server.user("unit@a.test").await.id;
        let unit = bearer(&server, unit_admin, None, false, None).await;

        // The account's standard sender id.
        let path = format!("/api/v1/nodes/{}/settings/sms", org.a);
        let shown = get(&server, &path, &acct).await;
        assert_eq!(shown.status, 200, "{:?}", shown.body);
        let tag = shown.header("etag").to_string();
        let res = call(
            &server,
            Method::PATCH,
            &path,
            &acct,
            Some(json!({"settings": {"sender_id": "ACME"}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        let sender = |body: &serde_json::Value| {
            body["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == "sender_id")
                .unwrap()
                .clone()
        };
        assert_eq!(sender(&res.body)["value"], "ACME");
        assert_eq!(sender(&res.body)["source"]["kind"], "account");

        // The unit administrator overrides it for their unit; the user shows "from unit Nordics".
        let upath = format!("/api/v1/nodes/{}/settings/sms", org.u1);
        let tag = get(&server, &upath, &unit).await.header("etag").to_string();
        let res = call(
            &server,
            Method::PATCH,
            &upath,
            &unit,
            Some(json!({"settings": {"sender_id": "NORDICS"}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        let mine = get(
            &server,
            &format!("/api/v1/users/{}/settings/sms", d.id),
            &acct,
        )
        .await;
        assert_eq!(mine.status, 200, "{:?}", mine.body);
        assert_eq!(sender(&mine.body)["value"], "NORDICS");
        assert_eq!(sender(&mine.body)["source"]["name"], "Nordics");
        assert_eq!(sender(&mine.body)["inherited"], "NORDICS");

        // Above their unit, nothing: not the account, not a unit beside it.
        let before = server.fingerprint().await;
        let tag = get(&server, &path, &acct).await.header("etag").to_string();
        let res = call(
            &server,
            Method::PATCH,
            &path,
            &unit,
            Some(json!({"settings": {"sender_id": "MINE"}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 404);
        assert_eq!(get(&server, &path, &unit).await.status, 404);
        // A bad value beside a good one: 422 naming it, nothing kept.
        let res = call(
            &server,
            Method::PATCH,
            &path,
            &acct,
            Some(json!({"settings": {"sender_id": "OK", "max_parts": 11}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        assert_eq!(
            res.body["error"]["fields"][0]["field"], "max_parts",
            "{:?}",
            res.body
        );
        // A number as text is not a number in the API; an unknown setting is refused.
        let res = call(
            &server,
            Method::PATCH,
            &path,
            &acct,
            Some(json!({"settings": {"max_parts": "4", "colour": 1}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        // A stale version, an unknown service, a user without the service.
        let res = call(
            &server,
            Method::PATCH,
            &path,
            &acct,
            Some(json!({"settings": {"sender_id": "OK"}})),
            &[("if-match", "\"v999\"")],
        )
        .await;
        assert_eq!(res.status, 412, "{:?}", res.body);
        assert_eq!(
            get(
                &server,
                &format!("/api/v1/nodes/{}/settings/telex", org.a),
                &acct
            )
            .await
            .status,
            404
        );
        let plain = get(
            &server,
            &format!("/api/v1/users/{}/settings/sms", org.plain),
            &acct,
        )
        .await;
        assert_eq!(plain.status, 409, "{:?}", plain.body);
        assert_eq!(server.fingerprint().await, before, "nothing changed");

        // The user's own value, then back to the inherited one with null.
        let upath = format!("/api/v1/users/{}/settings/sms", d.id);
        let tag = get(&server, &upath, &acct).await.header("etag").to_string();
        let res = call(
            &server,
            Method::PATCH,
            &upath,
            &acct,
            Some(json!({"settings": {"sender_id": "TARGET"}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(sender(&res.body)["source"]["kind"], "user");
        let tag = res.header("etag").to_string();
        let res = call(
            &server,
            Method::PATCH,
            &upath,
            &acct,
            Some(json!({"settings": {"sender_id": null}})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(sender(&res.body)["value"], "NORDICS");
    }
);
