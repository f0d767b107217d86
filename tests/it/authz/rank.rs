//! The authorization matrix by rank: every write route of the portal, the API and SCIM that
//! changes a user × every kind of actor × every rank of target, from outside over HTTP.
//!
//! Three tables decide each cell, written out below:
//! - `RANK`: whether an actor may change a target of each rank at all (`Y`), sees it but is
//!   outranked (`X`: 403), or does not see it (`H`: 404);
//! - each route's row: which actors the route is for (a delegate may edit a user's settings,
//!   never disable, delete, move them or hand out their Access);
//! - a few (route, target) exceptions: a system user has no password or address, Access is
//!   never given to someone who administers (`V`: refused on the field, 422 in the portal
//!   and 409 in the API), API tokens are made only
//!   for oneself and for system users.
//!
//! Every refused cell asserts its status and that the database fingerprint is unchanged; every
//! allowed cell asserts that it was allowed. Targets are made anew after each allowed cell.

use reqwest::Method;
use roster_core::domain::{api_token, node, scim, user};
use roster_core::model::{NodeId, UserId};
use serde_json::{Value, json};

use crate::support::json::send;
use crate::support::org::{person, root_actor, signed_in};
use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{Client, TestServer, both_engines};

/// The targets, all at home in U2 but the operator: their rank is what they hold.
const TARGETS: [&str; 7] = [
    "plain",
    "delegate",
    "admin of U1",
    "admin of U3",
    "Administrator",
    "operator",
    "system",
];

/// The actors. Portal actors are signed-in browsers, API actors bearer tokens, the SCIM actor
/// a provider's token.
const ACTORS: [&str; 14] = [
    "operator",
    "account admin",
    "admin of U1",
    "admin of U2",
    "admin of U3",
    "delegate",
    "plain user",
    "other account admin",
    "account admin's token",
    "system user's token",
    "token narrowed to U2",
    "read-only token",
    "SCIM token of U1",
    "other account's SCIM token",
];

/// Who may change whom, by rank: actor rows, target columns (plain, delegate, admin of U1,
/// admin of U3, Administrator, operator, system user). The delegate actor has Access to every
/// target but the system user (given while the target held nothing; Access is never given to
/// a system user, whose tokens are credentials of their own). A system user holds no rights of its own
/// (it cannot be made an administrator), so its token reaches nobody. A read-only token is
/// refused every write before anything is looked up.
#[rustfmt::skip]
const RANK: [&str; 14] = [
    //                      plain dlg  U1  U3  Adm  op  sys
    /* operator        */ "Y     Y    Y   Y   Y    Y   Y",
    /* account admin   */ "Y     Y    Y   Y   Y    H   Y",
    /* admin of U1     */ "Y     Y    Y   Y   X    H   Y",
    /* admin of U2     */ "Y     Y    X   Y   X    H   Y",
    /* admin of U3     */ "H     H    H   H   H    H   H",
    /* delegate        */ "Y     X    X   X   X    X   H",
    /* plain user      */ "H     H    H   H   H    H   H",
    /* other account   */ "H     H    H   H   H    H   H",
    /* admin's token   */ "Y     Y    Y   Y   Y    H   Y",
    /* system token    */ "H     H    H   H   H    H   H",
    /* narrowed to U2  */ "Y     Y    X   Y   X    H   Y",
    /* read-only token */ "X     X    X   X   X    X   X",
    /* SCIM of U1      */ "Y     Y    Y   Y   X    H   H",
    /* other SCIM      */ "H     H    H   H   H    H   H",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    Portal,
    Api,
    Scim,
}

struct Route {
    what: &'static str,
    surface: Surface,
    /// Which actors the route is for, in `ACTORS` order: `Y`, `X` (403), `H` (404: the route's
    /// node is out of their sight), `-` not this surface's actor.
    for_actors: &'static str,
    /// What a target out of sight answers (`H`, or `V` where the target is named by an email
    /// address: unknown and hidden addresses get the same field error).
    hidden: char,
    /// (target, answer) where the route answers otherwise for an actor who may change it.
    exceptions: &'static [(&'static str, char)],
}

#[rustfmt::skip]
const ROUTES: [Route; 26] = [
    //                                                              op acct U1 U2 U3 dlg pln oth tok sys nar ro scim oscim
    Route { what: "settings",          surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "SMS settings",      surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "Email Alias",       surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "Add number",        surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "own address book",  surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "services",          surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "notes",             surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "password",          surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[("system", 'H')] },
    Route { what: "email",             surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[("system", 'H')] },
    Route { what: "photo removed",     surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "factors reset",     surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  Y   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "disable",           surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  X   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "move to U3",        surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  X   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[("operator", 'V')] },
    Route { what: "Access for plain",  surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  X   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[("delegate", 'V'), ("admin of U1", 'V'), ("admin of U3", 'V'), ("Administrator", 'V'), ("operator", 'V'), ("system", 'V')] },
    Route { what: "delete",            surface: Surface::Portal, for_actors: "Y  Y    Y  Y  Y  X   Y   Y   -   -   -   -  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "API PATCH",         surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "API token for",     surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[("plain", 'X'), ("delegate", 'X'), ("admin of U1", 'X'), ("admin of U3", 'X'), ("Administrator", 'X'), ("operator", 'X')] },
    Route { what: "API settings",      surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "API alias",         surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "API number",        surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "API address book",  surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "API DELETE",        surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   Y   Y   Y   Y   Y  -    -", hidden: 'H', exceptions: &[] },
    Route { what: "grant on U2",       surface: Surface::Portal, for_actors: "Y  Y    Y  Y  H  H   H   H   -   -   -   -  -    -", hidden: 'V', exceptions: &[("operator", 'V'), ("system", 'V')] },
    Route { what: "API grant on U2",   surface: Surface::Api,    for_actors: "-  -    -  -  -  -   -   H   Y   H   Y   Y  -    -", hidden: 'V', exceptions: &[("operator", 'V'), ("system", 'V')] },
    Route { what: "SCIM PATCH",        surface: Surface::Scim,   for_actors: "-  -    -  -  -  -   -   -   -   -   -   -  Y    Y", hidden: 'H', exceptions: &[] },
    Route { what: "SCIM DELETE",       surface: Surface::Scim,   for_actors: "-  -    -  -  -  -   -   -   -   -   -   -  Y    Y", hidden: 'H', exceptions: &[] },
];

/// The answer a cell expects: `Y`, `X` (403), `H` (404), `V` (422), or `-` (not this
/// surface's actor).
fn expected(route: &Route, actor: usize, target: usize) -> char {
    let for_actor = route.for_actors.split_whitespace().nth(actor).unwrap();
    if for_actor == "-" {
        return '-';
    }
    // The other account's admin is a portal actor and an API actor (with their own token).
    let rank = RANK[actor].split_whitespace().nth(target).unwrap();
    match (rank, for_actor) {
        (_, "H") => 'H',
        ("H", _) => route.hidden,
        (_, "X") => 'X',
        ("X", _) => 'X',
        _ => route
            .exceptions
            .iter()
            .find(|(t, _)| *t == TARGETS[target])
            .map(|(_, c)| *c)
            .unwrap_or('Y'),
    }
}

/// The tree and the actors.
struct World {
    a: NodeId,
    u1: NodeId,
    u2: NodeId,
    u3: NodeId,
    root: NodeId,
    /// Portal clients by actor index (operator … other account admin), with a page that
    /// carries each one's CSRF token.
    browsers: Vec<(Client, String)>,
    /// API credentials by actor index (8 …: the other account admin's token at 7).
    bearers: Vec<String>,
    scim: [String; 2],
}

async fn world(server: &TestServer) -> World {
    let op = root_actor(server);
    let account = |name: &str| node::AccountInput {
        name: name.into(),
        default_language: "en".into(),
        default_country: "SE".into(),
        ..Default::default()
    };
    let a = node::create_account(&server.ctx, &op, &account("Acme"))
        .await
        .unwrap();
    let b = node::create_account(&server.ctx, &op, &account("Beta"))
        .await
        .unwrap();
    let u = node::create_unit(&server.ctx, &op, a, "Sales")
        .await
        .unwrap();
    let u1 = node::create_unit(&server.ctx, &op, u, "Nordics")
        .await
        .unwrap();
    let u2 = node::create_unit(&server.ctx, &op, u1, "Stockholm")
        .await
        .unwrap();
    let u3 = node::create_unit(&server.ctx, &op, u2, "Kista")
        .await
        .unwrap();
    let acct = person(server, &op, a, "acct@a.test", true).await;
    for (email, unit) in [
        ("above@a.test", u1),
        ("at@a.test", u2),
        ("below@a.test", u3),
    ] {
        person(server, &op, unit, email, false).await;
        user::add_node_admin(&server.ctx, &op, unit, email)
            .await
            .unwrap();
    }
    person(server, &op, u, "delegate@a.test", false).await;
    person(server, &op, u2, "plain@a.test", false).await;
    let badmin = person(server, &op, b, "badmin@b.test", true).await;
    server
        .exec("UPDATE users SET password_must_change = FALSE")
        .await;
    let root = roster_core::domain::setup::operator_root(&server.ctx)
        .await
        .unwrap()
        .0;

    let mut browsers = vec![];
    let operator = server.client();
    assert_eq!(
        operator.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        303
    );
    browsers.push(operator);
    for email in [
        "acct@a.test",
        "above@a.test",
        "at@a.test",
        "below@a.test",
        "delegate@a.test",
        "plain@a.test",
        "badmin@b.test",
    ] {
        browsers.push(signed_in(server, email).await);
    }
    let mut with_pages = vec![];
    for c in browsers {
        let page = c.get("/devices").await.body;
        with_pages.push((c, page));
    }

    // A system user of U1, with a token.
    let sys = user::create_user(
        &server.ctx,
        &op,
        u1,
        &user::NewUser {
            system: true,
            login: "sync".into(),
            profile: user::ProfileInput {
                user_type: "user".into(),
                language: "en".into(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let mint = |user: UserId, node: Option<NodeId>, read_only: bool| {
        let ctx = server.ctx.clone();
        let op = op.clone();
        async move {
            let t = api_token::create_token(
                &ctx,
                &op,
                &api_token::NewToken {
                    user,
                    name: "matrix".into(),
                    node,
                    read_only,
                    scope: api_token::TokenScope::Admin,
                    expires_days: None,
                },
            )
            .await
            .unwrap();
            format!("Bearer {}", t.token)
        }
    };
    let mut bearers = vec![String::new(); 12];
    bearers[7] = mint(badmin, None, false).await;
    bearers[8] = mint(acct, None, false).await;
    bearers[9] = mint(sys, None, false).await;
    bearers[10] = mint(acct, Some(u2), false).await;
    bearers[11] = mint(acct, None, true).await;
    let scim_of = |n: NodeId| {
        let ctx = server.ctx.clone();
        let op = op.clone();
        async move {
            format!(
                "Bearer {}",
                scim::create_token(&ctx, &op, n, "IdP").await.unwrap()
            )
        }
    };
    let scim = [scim_of(u1).await, scim_of(b).await];
    World {
        a,
        u1,
        u2,
        u3,
        root,
        browsers: with_pages,
        bearers,
        scim,
    }
}

/// A new target of a rank: made plain, given to the delegate (Access), then raised.
async fn target(server: &TestServer, w: &World, rank: usize, n: usize) -> UserId {
    let op = root_actor(server);
    let email = format!("t{n}@a.test");
    let home = if TARGETS[rank] == "operator" {
        w.root
    } else {
        w.u2
    };
    let id = if TARGETS[rank] == "system" {
        user::create_user(
            &server.ctx,
            &op,
            home,
            &user::NewUser {
                system: true,
                login: format!("sys{n}"),
                profile: user::ProfileInput {
                    user_type: "user".into(),
                    language: "en".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
    } else {
        person(server, &op, home, &email, false).await
    };
    // Every target has the SMS service, so that its settings can be changed.
    let d = user::get_user(&server.ctx, &op, id).await.unwrap();
    user::update_user(
        &server.ctx,
        &op,
        id,
        d.version,
        &user::UserChange {
            services: Some(vec!["sms".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    if TARGETS[rank] != "system" {
        user::add_access(&server.ctx, &op, id, "delegate@a.test")
            .await
            .unwrap();
    }
    match TARGETS[rank] {
        "delegate" => {
            let ward = person(server, &op, w.u2, &format!("ward{n}@a.test"), false).await;
            user::add_access(&server.ctx, &op, ward, &email)
                .await
                .unwrap();
        }
        "admin of U1" => user::add_node_admin(&server.ctx, &op, w.u1, &email)
            .await
            .unwrap(),
        "admin of U3" => user::add_node_admin(&server.ctx, &op, w.u3, &email)
            .await
            .unwrap(),
        "Administrator" => user::add_node_admin(&server.ctx, &op, w.a, &email)
            .await
            .unwrap(),
        "operator" => user::add_node_admin(&server.ctx, &op, w.root, &email)
            .await
            .unwrap(),
        "system" => {
            api_token::create_token(
                &server.ctx,
                &op,
                &api_token::NewToken {
                    user: id,
                    name: "its own".into(),
                    node: None,
                    read_only: false,
                    scope: api_token::TokenScope::Admin,
                    expires_days: None,
                },
            )
            .await
            .unwrap();
        }
        _ => {}
    }
    server
        .exec("UPDATE users SET password_must_change = FALSE")
        .await;
    id
}

/// Sends one cell's request; its status and whether it counts as allowed.
async fn attempt(
    server: &TestServer,
    w: &World,
    route: &Route,
    actor: usize,
    id: UserId,
    n: usize,
) -> (u16, bool) {
    // A target that a wrongly allowed cell removed has no version: the cell still runs.
    let version = user::get_user(&server.ctx, &root_actor(server), id)
        .await
        .map(|d| d.version)
        .unwrap_or(0)
        .to_string();
    match route.surface {
        Surface::Portal => {
            let (client, page) = &w.browsers[actor];
            let subject = subject_of(server, id).await;
            let u3 = w.u3.to_string();
            let email = format!("new{n}@a.test");
            let alias = format!("alias{n}@home.example");
            let number = format!("+4670{}", 1_000_000 + n);
            let (path, fields): (String, Vec<(&str, &str)>) = match route.what {
                "settings" => (
                    format!("/users/{id}/settings"),
                    vec![
                        ("version", &version),
                        ("first_name", "Changed"),
                        ("user_type", "user"),
                        ("language", "nl"),
                    ],
                ),
                "services" => (
                    format!("/users/{id}/services"),
                    vec![("version", &version), ("services", "sms")],
                ),
                "SMS settings" => (
                    format!("/users/{id}/settings/sms"),
                    vec![
                        ("version", &version),
                        ("back", "/users"),
                        ("value:sender_id", "Changed"),
                    ],
                ),
                "Email Alias" => (format!("/users/{id}/aliases"), vec![("address", &alias)]),
                "own address book" => (format!("/users/{id}/books"), vec![("name", "Fax list")]),
                "Add number" => (
                    format!("/users/{id}/numbers"),
                    vec![("number", &number), ("label", "Desk"), ("services", "fax")],
                ),
                "notes" => (
                    format!("/users/{id}/notes"),
                    vec![("version", &version), ("notes", "seen")],
                ),
                "password" => (
                    format!("/users/{id}/password"),
                    vec![
                        ("version", &version),
                        ("password", "a brand new passphrase"),
                    ],
                ),
                "email" => (
                    format!("/users/{id}/email"),
                    vec![("version", &version), ("email", &email)],
                ),
                "photo removed" => (format!("/users/{id}/photo/remove"), vec![]),
                "factors reset" => (format!("/users/{id}/mfa/reset"), vec![]),
                "disable" => (
                    format!("/users/{id}/status"),
                    vec![("version", &version), ("active", "false")],
                ),
                "move to U3" => (
                    format!("/users/{id}/move"),
                    vec![("version", &version), ("node", &u3)],
                ),
                "Access for plain" => (
                    format!("/users/{id}/access"),
                    vec![("email", "plain@a.test")],
                ),
                "delete" => (format!("/users/{id}/delete"), vec![]),
                "grant on U2" => (format!("/nodes/{}/admins", w.u2), vec![("email", &subject)]),
                other => panic!("{other}"),
            };
            let res = client.post_form(&path, page, &fields).await;
            let ok = matches!(res.status, 200 | 201)
                || (res.status == 303 && !res.location().starts_with("/signin"));
            (res.status, ok)
        }
        Surface::Api => {
            let auth = &w.bearers[actor];
            let tag = format!("\"v{version}\"");
            let res = match route.what {
                "API PATCH" => {
                    send(
                        server,
                        Method::PATCH,
                        &format!("/api/v1/users/{id}"),
                        auth,
                        Some((json!({"first_name": "Changed"}), "application/json")),
                        &[("if-match", &tag)],
                    )
                    .await
                }
                "API token for" => {
                    send(
                        server,
                        Method::POST,
                        "/api/v1/tokens",
                        auth,
                        Some((
                            json!({"name": "x", "user_id": id.to_string()}),
                            "application/json",
                        )),
                        &[],
                    )
                    .await
                }
                "API grant on U2" => {
                    let subject = subject_of(server, id).await;
                    send(
                        server,
                        Method::POST,
                        &format!("/api/v1/nodes/{}/administrators", w.u2),
                        auth,
                        Some((json!({"email": subject}), "application/json")),
                        &[],
                    )
                    .await
                }
                "API settings" => {
                    send(
                        server,
                        Method::PATCH,
                        &format!("/api/v1/users/{id}/settings/sms"),
                        auth,
                        Some((
                            json!({"settings": {"sender_id": "Changed"}}),
                            "application/json",
                        )),
                        &[("if-match", &tag)],
                    )
                    .await
                }
                "API alias" => {
                    send(
                        server,
                        Method::POST,
                        &format!("/api/v1/users/{id}/aliases"),
                        auth,
                        Some((
                            json!({"address": format!("api{n}@home.example")}),
                            "application/json",
                        )),
                        &[],
                    )
                    .await
                }
                "API number" => {
                    send(
                        server,
                        Method::POST,
                        &format!("/api/v1/users/{id}/numbers"),
                        auth,
                        Some((
                            json!({"number": format!("+4673{}", 1_000_000 + n)}),
                            "application/json",
                        )),
                        &[],
                    )
                    .await
                }
                "API address book" => {
                    send(
                        server,
                        Method::POST,
                        &format!("/api/v1/users/{id}/address-books"),
                        auth,
                        Some((json!({"name": "Fax list"}), "application/json")),
                        &[],
                    )
                    .await
                }
                "API DELETE" => {
                    send(
                        server,
                        Method::DELETE,
                        &format!("/api/v1/users/{id}"),
                        auth,
                        None,
                        &[("if-match", &tag)],
                    )
                    .await
                }
                other => panic!("{other}"),
            };
            (res.status, matches!(res.status, 200 | 201 | 204))
        }
        Surface::Scim => {
            let auth = &w.scim[actor - 12];
            let res = match route.what {
                "SCIM PATCH" => {
                    let body: Value = json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "displayName", "value": "Changed"}]
                    });
                    send(
                        server,
                        Method::PATCH,
                        &format!("/scim/v2/Users/{id}"),
                        auth,
                        Some((body, "application/scim+json")),
                        &[],
                    )
                    .await
                }
                "SCIM DELETE" => {
                    send(
                        server,
                        Method::DELETE,
                        &format!("/scim/v2/Users/{id}"),
                        auth,
                        None,
                        &[],
                    )
                    .await
                }
                other => panic!("{other}"),
            };
            (res.status, matches!(res.status, 200 | 204))
        }
    }
}

/// How a target is named where a route asks for an email address (a system user has none:
/// its login stands in, which no address field takes).
async fn subject_of(server: &TestServer, id: UserId) -> String {
    user::get_user(&server.ctx, &root_actor(server), id)
        .await
        .map(|d| if d.email.is_empty() { d.login } else { d.email })
        .unwrap_or_default()
}

/// The status a refused cell answers. A refusal on a field is 422 in the portal; the API
/// answers 409 for one that is about stored data (the target administers), as every clash.
fn code_of(c: char, surface: &Surface) -> u16 {
    match c {
        'X' => 403,
        'H' => 404,
        'V' if matches!(surface, Surface::Api) => 409,
        'V' => 422,
        _ => 0,
    }
}

both_engines!(rank_matrix, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let w = world(&server).await;
    let mut failures = vec![];
    let mut n = 0;
    let mut cells = 0;
    for route in &ROUTES {
        for (t, _) in TARGETS.iter().enumerate() {
            n += 1;
            let mut id = target(&server, &w, t, n).await;
            for (a, actor) in ACTORS.iter().enumerate() {
                let want = expected(route, a, t);
                if want == '-' {
                    continue;
                }
                cells += 1;
                let before = server.fingerprint().await;
                let (status, ok) = attempt(&server, &w, route, a, id, n).await;
                if want == 'Y' {
                    if !ok {
                        failures.push(format!(
                            "{} of {} by {actor}: got {status}, expected it allowed",
                            route.what, TARGETS[t]
                        ));
                    }
                    // The target may be gone or changed: a new one for the next actor.
                    n += 1;
                    id = target(&server, &w, t, n).await;
                    continue;
                }
                if status != code_of(want, &route.surface) {
                    failures.push(format!(
                        "{} of {} by {actor}: got {status}, expected {}",
                        route.what,
                        TARGETS[t],
                        code_of(want, &route.surface)
                    ));
                }
                if server.fingerprint().await != before {
                    failures.push(format!(
                        "{} of {} by {actor}: refused but changed something",
                        route.what, TARGETS[t]
                    ));
                    n += 1;
                    id = target(&server, &w, t, n).await;
                }
            }
        }
    }
    assert!(cells > 600, "{cells} cells");
    assert!(failures.is_empty(), "rank matrix:\n{}", failures.join("\n"));
});
