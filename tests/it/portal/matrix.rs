//! The authorization matrix, from outside over HTTP: every route of the users issue × every
//! kind of actor. `Y` is allowed; `N` is refused with 403 or 404 and changes nothing; `F` is
//! refused as a field error (422: "no such user in your administration", the same answer as
//! for an unknown address) and changes nothing; the anonymous column is always refused (a page
//! sends to sign-in, a form post is 403).

use crate::support::org::{Org, signed_in};
use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{Client, TestServer, both_engines, input_value};

/// Columns: operator, account administrator, unit administrator (of U1), delegate (Access to
/// the target user in U2), plain user, administrator of another account.
const ACTORS: [&str; 6] = [
    "operator",
    "account admin",
    "unit admin",
    "delegate",
    "plain user",
    "other account admin",
];

struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    form: Vec<(&'static str, String)>,
    /// Whether the request needs the target user's current version.
    versioned: bool,
    expect: &'static str,
}

fn cases(org: &Org) -> Vec<Case> {
    let get = |what, path: String, expect| Case {
        what,
        method: "GET",
        path,
        form: vec![],
        versioned: false,
        expect,
    };
    let post = |what, path: String, form: Vec<(&'static str, String)>, versioned, expect| Case {
        what,
        method: "POST",
        path,
        form,
        versioned,
        expect,
    };
    let t = org.target.to_string();
    vec![
        //                                                                                         op acct unit dlg plain other
        get("users list", "/users".into(), "Y  Y    Y    N   N     Y"),
        get(
            "users of U2",
            format!("/users?node={}", org.u2),
            "Y  Y    Y    N   N     N",
        ),
        get(
            "users of the account",
            format!("/users?node={}", org.a),
            "Y  Y    N    N   N     N",
        ),
        get(
            "users of B",
            format!("/users?node={}", org.b),
            "Y  N    N    N   N     Y",
        ),
        get(
            "target's page",
            format!("/users/{t}"),
            "Y  Y    Y    Y   N     N",
        ),
        get(
            "plain user's page (in U)",
            format!("/users/{}", org.plain),
            "Y  Y    N    N   N     N",
        ),
        get(
            "B user's page",
            format!("/users/{}", org.b_user),
            "Y  N    N    N   N     Y",
        ),
        get(
            "add user under U2",
            format!("/users/add?node={}", org.u2),
            "Y  Y    Y    N   N     N",
        ),
        get(
            "unit U1",
            format!("/units/{}", org.u1),
            "Y  Y    Y    N   N     N",
        ),
        get(
            "unit U",
            format!("/units/{}", org.u),
            "Y  Y    N    N   N     N",
        ),
        get(
            "account A",
            format!("/account?node={}", org.a),
            "Y  Y    N    N   N     N",
        ),
        get(
            "management",
            "/management".into(),
            "Y  N    N    N   N     N",
        ),
        get(
            "delete target (confirm)",
            format!("/users/{t}/delete"),
            "Y  Y    Y    Y   N     N",
        ),
        post(
            "target's notes",
            format!("/users/{t}/notes"),
            vec![("notes", "seen".into())],
            true,
            "Y  Y    Y    Y   N     N",
        ),
        post(
            "target's services",
            format!("/users/{t}/services"),
            vec![("services", "sms".into())],
            true,
            "Y  Y    Y    Y   N     N",
        ),
        post(
            "target's password",
            format!("/users/{t}/password"),
            vec![("password", "a brand new passphrase".into())],
            true,
            "Y  Y    Y    Y   N     N",
        ),
        post(
            "move target to U1",
            format!("/users/{t}/move"),
            vec![("node", org.u1.to_string())],
            true,
            "Y  Y    Y    N   N     N",
        ),
        post(
            "add user under U2",
            "/users/add".into(),
            vec![
                ("node", org.u2.to_string()),
                ("email", "new-{who}@a.test".into()),
                ("user_type", "user".into()),
                ("language", "en".into()),
                ("access", "invite".into()),
            ],
            false,
            "Y  Y    Y    N   N     N",
        ),
        post(
            "add unit under U1",
            "/units".into(),
            vec![
                ("parent", org.u1.to_string()),
                ("name", "Unit {who}".into()),
            ],
            false,
            "Y  Y    Y    N   N     N",
        ),
        post(
            "add unit under the account",
            "/units".into(),
            vec![("parent", org.a.to_string()), ("name", "Top {who}".into())],
            false,
            "Y  Y    N    N   N     N",
        ),
        post(
            "make target admin of U2",
            format!("/nodes/{}/admins", org.u2),
            vec![("email", "target@a.test".into())],
            false,
            "Y  Y    Y    N   N     N",
        ),
        post(
            "give plain Access to target",
            format!("/users/{t}/access"),
            vec![("email", "plain@a.test".into())],
            false,
            "Y  Y    F    N   N     N",
        ),
        post(
            "make a new user account admin",
            format!("/nodes/{}/admins", org.a),
            vec![("email", "new-operator@a.test".into())],
            false,
            "Y  Y    N    N   N     N",
        ),
        post(
            "edit account A",
            format!("/account/{}", org.a),
            vec![
                ("name", "Acme".into()),
                ("default_language", "en".into()),
                ("default_country", "SE".into()),
                ("version", "{node_version}".into()),
            ],
            false,
            "Y  Y    N    N   N     N",
        ),
        post(
            "create an account",
            "/management/accounts".into(),
            vec![
                ("name", "New {who}".into()),
                ("default_language", "en".into()),
                ("version", "0".into()),
            ],
            false,
            "Y  N    N    N   N     N",
        ),
    ]
}

fn allowed(status: u16, location: &str) -> bool {
    matches!(status, 200 | 201) || (status == 303 && !location.starts_with("/signin"))
}

async fn version_of(operator: &Client, path: &str) -> String {
    let page = operator.get(path).await;
    assert_eq!(page.status, 200, "{path}");
    input_value(&page.body, "version").expect("a version field")
}

both_engines!(authorization_matrix, |engine| async move {
    let server = TestServer::with_admin(engine).await;
    let org = Org::build(&server).await;
    let operator = server.client();
    assert_eq!(
        operator.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        303
    );
    let clients = [
        operator,
        signed_in(&server, "acct@a.test").await,
        signed_in(&server, "unit@a.test").await,
        signed_in(&server, "delegate@a.test").await,
        signed_in(&server, "plain@a.test").await,
        signed_in(&server, "badmin@b.test").await,
    ];
    let anonymous = server.client();
    let mut failures = vec![];
    for case in cases(&org) {
        let expect: Vec<&str> = case.expect.split_whitespace().collect();
        assert_eq!(expect.len(), ACTORS.len(), "{}", case.what);
        for (i, client) in clients.iter().enumerate() {
            let who = ACTORS[i].replace(' ', "-");
            let mut fields: Vec<(&str, String)> = case
                .form
                .iter()
                .map(|(k, v)| (*k, v.replace("{who}", &who)))
                .collect();
            if case.versioned {
                fields.push((
                    "version",
                    version_of(&clients[0], &format!("/users/{}", org.target)).await,
                ));
            }
            if fields.iter().any(|(_, v)| v == "{node_version}") {
                let v = version_of(&clients[0], &format!("/account?node={}", org.a)).await;
                for f in fields.iter_mut().filter(|(_, v)| v == "{node_version}") {
                    f.1 = v.clone();
                }
            }
            let before = server.fingerprint().await;
            let res = if case.method == "GET" {
                client.get(&case.path).await
            } else {
                // The CSRF token of this actor's own session, from a page they can open.
                let page = client.get("/devices").await;
                let pairs: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                client.post_form(&case.path, &page.body, &pairs).await
            };
            let ok = allowed(res.status, &res.location());
            let want = expect[i] == "Y";
            if ok != want {
                failures.push(format!(
                    "{} by {}: got {} (expected {})",
                    case.what, ACTORS[i], res.status, expect[i]
                ));
            }
            if !want {
                let codes: &[u16] = if expect[i] == "F" {
                    &[422]
                } else {
                    &[403, 404]
                };
                assert!(
                    codes.contains(&res.status),
                    "{} by {}: refused with {}, expected {}",
                    case.what,
                    ACTORS[i],
                    res.status,
                    expect[i]
                );
                assert_eq!(
                    server.fingerprint().await,
                    before,
                    "{} by {} changed something",
                    case.what,
                    ACTORS[i]
                );
            }
        }
        let before = server.fingerprint().await;
        let res = if case.method == "GET" {
            anonymous.get(&case.path).await
        } else {
            let pairs: Vec<(&str, &str)> =
                case.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            anonymous.post_raw(&case.path, &pairs, &[]).await
        };
        let refused =
            (case.method == "GET" && res.status == 303 && res.location().starts_with("/signin"))
                || (case.method == "POST" && res.status == 403);
        if !refused {
            failures.push(format!("{} by anonymous: got {}", case.what, res.status));
        }
        assert_eq!(
            server.fingerprint().await,
            before,
            "{} by anonymous changed something",
            case.what
        );
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );
});
