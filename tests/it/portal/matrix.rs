//! The authorization matrix, from outside over HTTP: every route of the users issue × every
//! kind of actor. `Y` is allowed; `N` is refused with 403 or 404 and changes nothing; `F` is
//! refused as a field error (422: "no such user in your administration", the same answer as
//! for an unknown address) and changes nothing; the anonymous column is always refused (a page
//! sends to sign-in, a form post is 403).

use roster_core::domain::{node, user};

use crate::support::org::{Org, person, root_actor, signed_in};
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

/// What a destructive row acts on, made anew for every actor: a user in U2 (`{victim}`) to
/// whom the plain user has Access (so in those rows the plain user is the victim's delegate:
/// they may edit settings and photo, never disable, delete or hand out rights), and a unit
/// under U2 (`{vunit}`) with its own administrator (`{vadmin}`), and an empty one (`{vempty}`).
struct Fresh {
    victim: String,
    vunit: String,
    vadmin: String,
    vempty: String,
}

async fn fresh(server: &TestServer, org: &Org, n: usize) -> Fresh {
    let op = root_actor(server);
    let email = format!("victim{n}@a.test");
    let victim = person(server, &op, org.u2, &email, false).await;
    user::add_access(&server.ctx, &op, victim, "plain@a.test")
        .await
        .unwrap();
    let vunit = node::create_unit(&server.ctx, &op, org.u2, &format!("Fresh {n}"))
        .await
        .unwrap();
    let admin_email = format!("vadmin{n}@a.test");
    let vadmin = person(server, &op, org.u2, &admin_email, false).await;
    user::add_node_admin(&server.ctx, &op, vunit, &admin_email)
        .await
        .unwrap();
    let vempty = node::create_unit(&server.ctx, &op, org.u2, &format!("Empty {n}"))
        .await
        .unwrap();
    Fresh {
        victim: victim.to_string(),
        vunit: vunit.to_string(),
        vadmin: vadmin.to_string(),
        vempty: vempty.to_string(),
    }
}

/// A path with the fresh fixture's ids in it.
fn with_fresh(path: &str, f: &Fresh) -> String {
    path.replace("{victim}", &f.victim)
        .replace("{vunit}", &f.vunit)
        .replace("{vadmin}", &f.vadmin)
        .replace("{vempty}", &f.vempty)
}

/// The table: what, method, path, form fields, needs the target's version, and the expected
/// answer per actor (operator, account admin, unit admin, delegate, plain user, other admin).
#[rustfmt::skip]
fn cases(org: &Org, invitee: roster_core::model::UserId) -> Vec<Case> {
    let (t, a, b, u, u1, u2) = (org.target, org.a, org.b, org.u, org.u1, org.u2);
    let (plain, b_user) = (org.plain, org.b_user);
    let f = |pairs: &[(&'static str, &str)]| pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>();
    let row = |what, method, path: String, form, versioned, expect| Case { what, method, path, form, versioned, expect };
    vec![
        //   what                           method  path                                  form                                                                   version  op acct unit dlg plain other
        row("users list",                   "GET",  "/users".into(),                      vec![],                                                                false,  "Y  Y    Y    Y   N     Y"),
        row("users of U2",                  "GET",  format!("/users?node={u2}"),          vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("users of the account",         "GET",  format!("/users?node={a}"),           vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("users of B",                   "GET",  format!("/users?node={b}"),           vec![],                                                                false,  "Y  N    N    N   N     Y"),
        row("target's page",                "GET",  format!("/users/{t}"),                vec![],                                                                false,  "Y  Y    Y    Y   N     N"),
        row("photo of the target",          "GET",  format!("/users/{t}/photo"),          vec![],                                                                false,  "Y  Y    Y    Y   N     N"),
        row("target's toolbox (read-only)", "GET",  format!("/users/{t}/toolbox"),        vec![],                                                                false,  "Y  Y    Y    Y   N     N"),
        row("own toolbox",                  "GET",  "/toolbox".into(),                    vec![],                                                                false,  "Y  Y    Y    Y   Y     Y"),
        row("target's logs",                "GET",  format!("/users/{t}/logs"),           vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("plain user's logs (in U, own)","GET",  format!("/users/{plain}/logs"),       vec![],                                                                false,  "Y  Y    N    N   Y     N"),
        row("B user's logs",                "GET",  format!("/users/{b_user}/logs"),      vec![],                                                                false,  "Y  N    N    N   N     Y"),
        row("own logs",                     "GET",  "/toolbox/logs".into(),               vec![],                                                                false,  "Y  Y    Y    Y   Y     Y"),
        row("U1's logs",                    "GET",  format!("/nodes/{u1}/logs"),          vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("U's logs",                     "GET",  format!("/nodes/{u}/logs"),           vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("account A's logs",             "GET",  format!("/nodes/{a}/logs"),           vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("account A's logs as CSV",      "GET",  format!("/nodes/{a}/logs.csv"),       vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("U1's logs as JSON Lines",      "GET",  format!("/nodes/{u1}/logs.jsonl"),    vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("account B's logs",             "GET",  format!("/nodes/{b}/logs"),           vec![],                                                                false,  "Y  N    N    N   N     Y"),
        row("target's logs as CSV",         "GET",  format!("/users/{t}/logs.csv"),       vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("own logs as JSON Lines",       "GET",  "/toolbox/logs.jsonl".into(),         vec![],                                                                false,  "Y  Y    Y    Y   Y     Y"),
        row("target's statistics",          "GET",  format!("/users/{t}/statistics"),     vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("target's statistics CSV",      "GET",  format!("/users/{t}/statistics.csv"), vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("B user's statistics",          "GET",  format!("/users/{b_user}/statistics"),vec![],                                                                false,  "Y  N    N    N   N     Y"),
        row("own statistics",               "GET",  "/toolbox/statistics".into(),         vec![],                                                                false,  "Y  Y    Y    Y   Y     Y"),
        row("own statistics CSV",           "GET",  "/toolbox/statistics.csv".into(),     vec![],                                                                false,  "Y  Y    Y    Y   Y     Y"),
        row("U1's statistics",              "GET",  format!("/nodes/{u1}/statistics"),    vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("U's statistics",               "GET",  format!("/nodes/{u}/statistics"),     vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("account A's statistics",       "GET",  format!("/nodes/{a}/statistics"),     vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("account A's statistics CSV",   "GET",  format!("/nodes/{a}/statistics.csv"), vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("account B's statistics",       "GET",  format!("/nodes/{b}/statistics"),     vec![],                                                                false,  "Y  N    N    N   N     Y"),
        row("plain user's page (in U)",     "GET",  format!("/users/{plain}"),            vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("B user's page",                "GET",  format!("/users/{b_user}"),           vec![],                                                                false,  "Y  N    N    N   N     Y"),
        row("add user under U2 (form)",     "GET",  format!("/users/add?node={u2}"),      vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("unit U1",                      "GET",  format!("/units/{u1}"),               vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("unit U",                       "GET",  format!("/units/{u}"),                vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("account A",                    "GET",  format!("/account?node={a}"),         vec![],                                                                false,  "Y  Y    N    N   N     N"),
        row("management",                   "GET",  "/management".into(),                 vec![],                                                                false,  "Y  N    N    N   N     N"),
        row("delete target (confirm)",      "GET",  format!("/users/{t}/delete"),         vec![],                                                                false,  "Y  Y    Y    Y   N     N"),
        row("target's notes",               "POST", format!("/users/{t}/notes"),          f(&[("notes", "seen")]),                                               true,   "Y  Y    Y    Y   N     N"),
        row("target's services",            "POST", format!("/users/{t}/services"),       f(&[("services", "sms")]),                                             true,   "Y  Y    Y    Y   N     N"),
        row("target's password",            "POST", format!("/users/{t}/password"),       f(&[("password", "a brand new passphrase")]),                          true,   "Y  Y    Y    Y   N     N"),
        row("move target to U1",            "POST", format!("/users/{t}/move"),           f(&[("node", &u1.to_string())]),                                       true,   "Y  Y    Y    N   N     N"),
        row("add user under U2",            "POST", "/users/add".into(),                  f(&[("node", &u2.to_string()), ("email", "new-{who}@a.test"), ("user_type", "user"), ("language", "en"), ("access", "invite")]), false, "Y  Y    Y    N   N     N"),
        row("add unit under U1",            "POST", "/units".into(),                      f(&[("parent", &u1.to_string()), ("name", "Unit {who}")]),             false,  "Y  Y    Y    N   N     N"),
        row("add unit under the account",   "POST", "/units".into(),                      f(&[("parent", &a.to_string()), ("name", "Top {who}")]),               false,  "Y  Y    N    N   N     N"),
        row("make target admin of U2",      "POST", format!("/nodes/{u2}/admins"),        f(&[("email", "target@a.test")]),                                      false,  "Y  Y    Y    N   N     N"),
        row("give delegate Access to victim","POST", "/users/{victim}/access".into(),     f(&[("email", "delegate@a.test")]),                                    false,  "Y  Y    F    N   N     N"),
        row("make a new user account admin","POST", format!("/nodes/{a}/admins"),         f(&[("email", "new-operator@a.test")]),                                false,  "Y  Y    N    N   N     N"),
        row("edit account A",               "POST", format!("/account/{a}"),              f(&[("name", "Acme"), ("default_language", "en"), ("default_country", "SE"), ("version", "{node_version}")]), false, "Y  Y    N    N   N     N"),
        row("account A's SMS settings",     "POST", format!("/nodes/{a}/settings/sms"),   f(&[("value:signature", "Acme {who}"), ("back", "/account"), ("version", "{node_version}")]), false, "Y  Y    N    N   N     N"),
        row("unit U1's SMS settings",       "POST", format!("/nodes/{u1}/settings/sms"),  f(&[("value:signature", "U1 {who}"), ("back", "/account"), ("version", "{u1_version}")]), false, "Y  Y    Y    N   N     N"),
        row("victim's settings",            "POST", "/users/{victim}/settings".into(),    f(&[("first_name", "V"), ("user_type", "user"), ("language", "nl"), ("version", "1")]), false, "Y  Y    Y    N   Y     N"),
        row("victim's alias",               "POST", "/users/{victim}/aliases".into(),     f(&[("address", "alias-{who}@home.example")]),                         false,  "Y  Y    Y    N   Y     N"),
        row("victim's number",              "POST", "/users/{victim}/numbers".into(),     f(&[("number", "+4670123450{i}"), ("label", "Desk")]),                 false,  "Y  Y    Y    N   Y     N"),
        row("account A's address book",     "POST", format!("/nodes/{a}/books"),         f(&[("name", "Book {who}"), ("back", "/account")]),                     false,  "Y  Y    N    N   N     N"),
        row("U1's public address",          "POST", format!("/nodes/{u1}/public"),       f(&[("address", "pub-{who}@acme.example"), ("back", "/account")]),     false,  "Y  Y    Y    N   N     N"),
        row("victim's own address book",    "POST", "/users/{victim}/books".into(),       f(&[("name", "Book {who}")]),                                          false,  "Y  Y    Y    N   Y     N"),
        row("disable the victim",           "POST", "/users/{victim}/status".into(),      f(&[("active", "false"), ("version", "1")]),                           false,  "Y  Y    Y    N   N     N"),
        row("delete the victim",            "POST", "/users/{victim}/delete".into(),      vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("remove plain's Access",        "POST", format!("/users/{{victim}}/access/{plain}/remove"), vec![],                                         false,  "Y  Y    Y    N   N     N"),
        row("remove the victim's photo",    "POST", "/users/{victim}/photo/remove".into(), vec![],                                                               false,  "Y  Y    Y    N   Y     N"),
        row("rename a unit in U2",          "POST", "/units/{vunit}/rename".into(),       f(&[("name", "Renamed {who}"), ("version", "1")]),                           false,  "Y  Y    Y    N   N     N"),
        row("move a unit in U2 to U1",      "POST", "/units/{vunit}/move".into(),         f(&[("parent", &u1.to_string()), ("version", "1")]),                   false,  "Y  Y    Y    N   N     N"),
        row("delete a unit in U2",          "POST", "/units/{vempty}/delete".into(),       vec![],                                                                false,  "Y  Y    Y    N   N     N"),
        row("remove a unit's administrator","POST", "/nodes/{vunit}/admins/{vadmin}/remove".into(), vec![],                                              false,  "Y  Y    Y    N   N     N"),
        row("deliveries",                   "GET",  "/management/deliveries".into(),      vec![],                                                                false,  "Y  Y    Y    N   N     Y"),
        row("resend the invitation",        "POST", format!("/users/{invitee}/invitation"), vec![],                                                             false,  "Y  Y    Y    N   N     N"),
        row("change the victim's email",    "POST", "/users/{victim}/email".into(),       f(&[("email", "changed-{who}@a.test"), ("version", "1")]),             false,  "Y  Y    Y    N   Y     N"),
        row("create an account",            "POST", "/management/accounts".into(),        f(&[("name", "New {who}"), ("default_language", "en"), ("version", "0")]), false, "Y  N    N    N   N     N"),
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
    let server = TestServer::builder(engine).admin().start().await;
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
    let mut counter = 0;
    // The target has a photo, so that reading it can be allowed or refused.
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(4, 4)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    user::set_photo(
        &server.ctx,
        &root_actor(&server),
        org.target,
        png.into_inner(),
    )
    .await
    .unwrap();
    // Someone who was invited and has not answered yet (their invitation can be resent).
    let invitee = user::NewUser {
        profile: user::ProfileInput {
            first_name: "invitee".into(),
            user_type: "user".into(),
            language: "en".into(),
            ..Default::default()
        },
        email: "invitee@a.test".into(),
        ..Default::default()
    };
    let invitee = user::create_user(&server.ctx, &root_actor(&server), org.u2, &invitee)
        .await
        .unwrap()
        .id;
    // The account shares public addresses of its own domain.
    crate::support::org::give_domain(&server, org.a, "acme.example").await;
    for case in cases(&org, invitee) {
        let expect: Vec<&str> = case.expect.split_whitespace().collect();
        assert_eq!(expect.len(), ACTORS.len(), "{}", case.what);
        for (i, client) in clients.iter().enumerate() {
            let who = ACTORS[i].replace(' ', "-");
            let path = if case.path.contains("{v") {
                counter += 1;
                with_fresh(&case.path, &fresh(&server, &org, counter).await)
            } else {
                case.path.clone()
            };
            let mut fields: Vec<(&str, String)> = case
                .form
                .iter()
                .map(|(k, v)| (*k, v.replace("{who}", &who).replace("{i}", &i.to_string())))
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
            if fields.iter().any(|(_, v)| v == "{u1_version}") {
                let v = version_of(&clients[0], &format!("/units/{}", org.u1)).await;
                for f in fields.iter_mut().filter(|(_, v)| v == "{u1_version}") {
                    f.1 = v.clone();
                }
            }
            let before = server.fingerprint().await;
            let res = if case.method == "GET" {
                client.get(&path).await
            } else {
                // The CSRF token of this actor's own session, from a page they can open.
                let page = client.get("/devices").await;
                let pairs: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                client.post_form(&path, &page.body, &pairs).await
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
        let path = if case.path.contains("{v") {
            counter += 1;
            with_fresh(&case.path, &fresh(&server, &org, counter).await)
        } else {
            case.path.clone()
        };
        let before = server.fingerprint().await;
        let res = if case.method == "GET" {
            anonymous.get(&path).await
        } else {
            let pairs: Vec<(&str, &str)> =
                case.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            anonymous.post_raw(&path, &pairs, &[]).await
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
