//! The organization every authorization test assumes: tenants A and B; in A a
//! unit tree U ⊃ U1 ⊃ U2, an account administrator, a unit administrator of U1, a delegate
//! with Access to one user in U2, a plain user; in B an administrator and a user.

use roster_core::domain::{Actor, node, user};
use roster_core::model::{NodeId, UserId};

use super::TestServer;
use super::client::Client;

pub const PW: &str = "correct horse battery staple";

pub struct Org {
    pub a: NodeId,
    pub u: NodeId,
    pub u1: NodeId,
    pub u2: NodeId,
    pub b: NodeId,
    pub account_admin: UserId,
    pub target: UserId,
    pub plain: UserId,
    pub b_user: UserId,
}

/// The operator's powers, as `roster` commands on the server have them.
pub fn root_actor(server: &TestServer) -> Actor {
    let (root, path) = server.root.clone().expect("operator root");
    Actor::command_line(root, path)
}

pub async fn person(
    server: &TestServer,
    actor: &Actor,
    node: NodeId,
    email: &str,
    admin: bool,
) -> UserId {
    let input = user::NewUser {
        profile: user::ProfileInput {
            first_name: email.split('@').next().unwrap().to_string(),
            last_name: "Test".into(),
            user_type: if admin { "administrator" } else { "user" }.into(),
            language: "en".into(),
            ..Default::default()
        },
        email: email.into(),
        password: user::PasswordChoice::SetNow(PW.into()),
        ..Default::default()
    };
    user::create_user(&server.ctx, actor, node, &input)
        .await
        .unwrap_or_else(|e| panic!("{email}: {e:?}"))
        .id
}

impl Org {
    pub async fn build(server: &TestServer) -> Org {
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
        let account_admin = person(server, &op, a, "acct@a.test", true).await;
        person(server, &op, u1, "unit@a.test", false).await;
        user::add_node_admin(&server.ctx, &op, u1, "unit@a.test")
            .await
            .unwrap();
        person(server, &op, u, "delegate@a.test", false).await;
        let target = person(server, &op, u2, "target@a.test", false).await;
        user::add_access(&server.ctx, &op, target, "delegate@a.test")
            .await
            .unwrap();
        let plain = person(server, &op, u, "plain@a.test", false).await;
        person(server, &op, b, "badmin@b.test", true).await;
        let b_user = person(server, &op, b, "buser@b.test", false).await;
        // The fixture's people have chosen their own passwords already.
        server
            .exec("UPDATE users SET password_must_change = FALSE")
            .await;
        Org {
            a,
            u,
            u1,
            u2,
            b,
            account_admin,
            target,
            plain,
            b_user,
        }
    }
}

/// A client signed in as `email`.
pub async fn signed_in(server: &TestServer, email: &str) -> Client {
    let client = server.client();
    let res = client.sign_in(email, PW).await;
    assert_eq!(res.status, 303, "{email} signs in: {}", res.body);
    client
}

/// Gives an account an email domain of its own (as operator staff set them), so that its
/// administrators may share public addresses in it.
pub async fn give_domain(server: &TestServer, account: NodeId, domain: &str) {
    use roster_core::domain::administered;
    let op = root_actor(server);
    let version = node::get_node(&server.ctx, &op, account)
        .await
        .unwrap()
        .version;
    administered::set_administered(&server.ctx, &op, account, version, false, domain, "")
        .await
        .unwrap();
}

/// A system user of `node` (an account, or the operator root) with a lookup token, as the
/// services connect.
pub async fn lookup_token(server: &TestServer, node: NodeId, login: &str) -> String {
    use roster_core::domain::api_token::TokenScope;
    service_token(server, node, login, TokenScope::Lookup).await
}

/// A system user of `node` with a token of a service's scope (`lookup` or `usage`).
pub async fn service_token(
    server: &TestServer,
    node: NodeId,
    login: &str,
    scope: roster_core::domain::api_token::TokenScope,
) -> String {
    use roster_core::domain::{api_token, user};
    let op = root_actor(server);
    let sys = user::create_user(
        &server.ctx,
        &op,
        node,
        &user::NewUser {
            system: true,
            login: login.into(),
            profile: user::ProfileInput {
                user_type: "user".into(),
                language: "en".into(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .expect("system user")
    .id;
    let created = api_token::create_token(
        &server.ctx,
        &op,
        &api_token::NewToken {
            user: sys,
            name: scope.as_str().into(),
            node: None,
            read_only: false,
            scope,
            expires_days: None,
        },
    )
    .await
    .expect("service token");
    format!("Bearer {}", created.token)
}
