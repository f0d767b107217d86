//! The user page's "Email Alias" and "Add number": added, listed, removed; a refused form is
//! shown again with what was typed and the field named, in the user's language, and changes
//! nothing.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines};

both_engines!(aliases_and_numbers_on_the_user_page, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    let org = Org::build(&server).await;
    let admin = signed_in(&server, "acct@a.test").await;
    let path = format!("/users/{}", org.target);
    let page = admin.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Email Alias") && page.body.contains("Add number"));
    assert!(page.body.contains("No aliases yet."));

    // A bad alias: the form comes back with the typed value and the field's message.
    let before = server.fingerprint().await;
    let res = admin
        .post_form(
            &format!("{path}/aliases"),
            &page.body,
            &[("address", "nina at home")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("value=\"nina at home\""));
    assert!(res.body.contains("id=\"address-error\""));
    assert_eq!(before, server.fingerprint().await);

    let res = admin
        .post_form(
            &format!("{path}/aliases"),
            &page.body,
            &[("address", "Nina@Home.example")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), format!("{path}?saved=aliases#aliases"));
    let page = admin.get(&format!("{path}?saved=aliases")).await;
    assert!(page.body.contains("nina@home.example"));
    assert!(page.body.contains("Waiting for confirmation"));
    assert!(
        page.body
            .contains("A new alias works once the link sent to it is confirmed.")
    );
    let mails = server.mails(1).await;
    assert!(mails.iter().any(|m| m.to == ["nina@home.example"]));

    // A number typed nationally after its country is kept in E.164.
    let res = admin
        .post_form(
            &format!("{path}/numbers"),
            &page.body,
            &[
                ("number_country", "SE"),
                ("number", "070-765 43 21"),
                ("label", "Fax desk"),
                ("services", "fax"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = admin.get(&path).await;
    assert!(page.body.contains("+46707654321"));
    assert!(page.body.contains("Fax desk"));

    // The same number for another user: refused, typed values kept, in Dutch for a Dutch
    // administrator.
    server
        .exec("UPDATE users SET language = 'nl' WHERE email = 'acct@a.test'")
        .await;
    let nl = signed_in(&server, "acct@a.test").await;
    let other = format!("/users/{}", org.plain);
    let page = nl.get(&other).await;
    let before = server.fingerprint().await;
    let res = nl
        .post_form(
            &format!("{other}/numbers"),
            &page.body,
            &[
                ("number_country", "SE"),
                ("number", "0707654321"),
                ("label", "Mijn fax"),
                ("services", "fax"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("Dit nummer kan niet worden gebruikt."));
    assert!(res.body.contains("value=\"Mijn fax\""));
    assert!(res.body.contains("value=\"0707654321\""));
    assert_eq!(before, server.fingerprint().await);

    // Removed.
    let page = admin.get(&path).await;
    let at = page.body.find("/numbers/").unwrap();
    let action: String = page.body[at..].split('"').next().unwrap().to_string();
    let res = admin
        .post_form(&format!("{path}{action}"), &page.body, &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = admin.get(&path).await;
    assert!(!page.body.contains("+46707654321"));
    // (The administrator reads Dutch now.)
    assert!(page.body.contains("Nog geen nummers."));
});
