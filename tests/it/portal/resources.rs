//! "Resources" in the portal: a book shared from the Account tab, a public address on a unit's
//! page, a user's own book from the user page; a book's page with contacts, a CSV import that
//! names its bad line and imports nothing, and the export.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(
    books_and_public_addresses_in_the_portal,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        crate::support::org::give_domain(&server, org.a, "acme.example").await;

        // The Account tab shares a book with everyone in the account.
        let page = admin.get("/account").await;
        assert!(page.body.contains("Address books") && page.body.contains("Public addresses"));
        let res = admin
            .post_form(
                &format!("/nodes/{}/books", org.a),
                &page.body,
                &[("name", "Customers"), ("back", "/account")],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        assert_eq!(res.location(), "/account?saved=books#books");
        let page = admin.get("/account?saved=books").await;
        assert!(page.body.contains("The address books were saved."));
        let at = page.body.find("href=\"/books/").unwrap() + "href=\"".len();
        let book: String = page.body[at..].split('"').next().unwrap().to_string();

        // A refused name comes back in its form, named.
        let before = server.fingerprint().await;
        let res = admin
            .post_form(
                &format!("/nodes/{}/books", org.a),
                &page.body,
                &[("name", "   "), ("back", "/account")],
            )
            .await;
        assert_eq!(res.status, 422);
        assert!(res.body.contains("id=\"name-error\""));
        assert_eq!(before, server.fingerprint().await);

        // The book's page: a contact, a refused one with what was typed.
        let shown = admin.get(&book).await;
        assert_eq!(shown.status, 200);
        assert!(shown.body.contains("No contacts yet."));
        let res = admin
            .post_form(
                &format!("{book}/contacts"),
                &shown.body,
                &[
                    ("name", "Anna"),
                    ("mobile", "070-111 22 33"),
                    ("fax", ""),
                    ("email", ""),
                    ("notes", ""),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let res = admin
            .post_form(
                &format!("{book}/contacts"),
                &shown.body,
                &[
                    ("name", "Bert"),
                    ("mobile", ""),
                    ("fax", ""),
                    ("email", "bert at home"),
                    ("notes", ""),
                ],
            )
            .await;
        assert_eq!(res.status, 422);
        assert!(
            res.body.contains("value=\"bert at home\"") && res.body.contains("id=\"email-error\"")
        );

        // A CSV with a bad third line: named, and nothing imported.
        let csrf = input_value(&shown.body, "csrf").unwrap();
        let upload = |text: &'static str| {
            reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .part(
                    "csv",
                    reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name("c.csv"),
                )
        };
        let url = format!("{}{book}/import", server.url);
        let res = admin
            .http
            .post(&url)
            .multipart(upload("name,mobile\nBo,+46702223344\nCe,not a number\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Line 3 is not valid; nothing was imported."),
            "{body}"
        );
        assert!(body.contains("Mobile number: "), "{body}");
        let res = admin
            .http
            .post(&url)
            .multipart(upload("name,mobile\nBo,+46702223344\nCe,0703334455\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        let shown = admin.get(&format!("{book}?saved=import")).await;
        assert!(shown.body.contains("Contacts imported."));
        assert!(shown.body.contains("+46703334455"));
        let csv = admin
            .http
            .get(format!("{}{book}/contacts.csv", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(
            csv.headers()["content-disposition"],
            "attachment; filename=\"Customers.csv\""
        );
        assert!(
            csv.text()
                .await
                .unwrap()
                .starts_with("name,mobile,fax,email,notes\r\nAnna,")
        );

        // A public address on a unit's page, and a user below it who may use it.
        let unit_page = admin.get(&format!("/units/{}", org.u1)).await;
        let res = admin
            .post_form(
                &format!("/nodes/{}/public", org.u1),
                &unit_page.body,
                &[
                    ("address", "support@acme.example"),
                    ("label", "Support"),
                    ("back", &format!("/units/{}", org.u1)),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let unit_page = admin.get(&format!("/units/{}", org.u1)).await;
        let at = unit_page.body.find("action=\"/public/").unwrap() + "action=\"".len();
        let allow: String = unit_page.body[at..].split('"').next().unwrap().to_string();
        let allow = allow.replace("/remove", "/users");
        let res = admin
            .post_form(
                &allow,
                &unit_page.body,
                &[("user", "target@a.test"), ("back", "/account")],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);

        // The target's page lists what they can use: the account's book and the unit's address.
        let page = admin.get(&format!("/users/{}", org.target)).await;
        assert!(page.body.contains("Resources"));
        assert!(page.body.contains("Shared by Acme"));
        assert!(page.body.contains("support@acme.example"));
        let res = admin
            .post_form(
                &format!("/users/{}/books", org.target),
                &page.body,
                &[("name", "My fax list")],
            )
            .await;
        assert_eq!(res.status, 303);
        let page = admin.get(&format!("/users/{}", org.target)).await;
        assert!(page.body.contains("My fax list"));
    }
);
