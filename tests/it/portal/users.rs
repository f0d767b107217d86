use crate::support::org::{Org, person, root_actor, signed_in};
use crate::support::server::ADMIN_EMAIL;
use crate::support::{TestServer, both_engines, input_value};

fn add_form(node: &str, email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("node", node.to_string()),
        ("kind", "person".into()),
        ("first_name", "Nina".into()),
        ("last_name", "New".into()),
        ("email", email.to_string()),
        ("user_type", "user".into()),
        ("language", "sv".into()),
        ("country_code", "SE".into()),
        ("phone_country", "SE".into()),
        ("phone_number", "070-123 45 67".into()),
        ("access", "invite".into()),
        ("message", "Welcome aboard!".into()),
    ]
}

async fn post_add(
    client: &crate::support::Client,
    fields: &[(&'static str, String)],
) -> crate::support::client::Page {
    let page = client.get("/devices").await;
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.post_form("/users/add", &page.body, &pairs).await
}

both_engines!(
    add_user_with_an_invitation_queues_it_in_the_same_transaction,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let mut form = add_form(&org.u2.to_string(), "Nina@A.test");
        form.push(("services", "sms".into()));
        form.push(("services", "fax".into()));
        form.push(("notifications_enabled", "on".into()));
        form.push(("notify_sms", "on".into()));
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert!(res.body.contains("An invitation will be sent"));
        assert_eq!(
            server
                .text("SELECT status FROM users WHERE email = 'nina@a.test'")
                .await,
            "invited"
        );
        assert_eq!(
            server
                .text("SELECT phone FROM users WHERE email = 'nina@a.test'")
                .await,
            "+46701234567"
        );
        assert_eq!(
            server
                .text("SELECT invite_message FROM users WHERE email = 'nina@a.test'")
                .await,
            "Welcome aboard!"
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM user_services s JOIN users u ON u.id = s.user_id WHERE u.email = 'nina@a.test'").await, 2);
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND recipient = 'nina@a.test'").await, 1);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.create'")
                .await,
            9
        );
        // The same address again is refused on its field; so is an address of another
        // account, with the same words: an account's administrators never learn where an
        // address lives. Operator staff are told it is taken.
        let again = post_add(&admin, &add_form(&org.u2.to_string(), "nina@a.test")).await;
        assert_eq!(again.status, 422);
        let unusable = "This email address cannot be used. Choose another one.";
        assert!(again.body.contains(unusable), "{}", again.body);
        let before = server.fingerprint().await;
        let elsewhere = post_add(&admin, &add_form(&org.u2.to_string(), "buser@b.test")).await;
        assert_eq!(elsewhere.status, 422);
        assert!(elsewhere.body.contains(unusable));
        assert!(!elsewhere.body.contains("already in use"));
        assert_eq!(server.fingerprint().await, before);
        let operator = server.admin_client().await;
        let taken = post_add(&operator, &add_form(&org.u2.to_string(), "buser@b.test")).await;
        assert_eq!(taken.status, 422);
        assert!(taken.body.contains("This email address is already in use."));
    }
);

both_engines!(
    add_user_with_a_password_now_shows_it_once_and_the_user_signs_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let form_page = admin.get(&format!("/users/add?node={}", org.u1)).await;
        let generated = input_value(&form_page.body, "password").expect("a generated password");
        assert_eq!(generated.len(), 19);
        let mut form = add_form(&org.u1.to_string(), "pia@a.test");
        form.retain(|(k, _)| *k != "access");
        form.push(("access", "password".into()));
        form.push(("password", generated.clone()));
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert!(res.body.contains(&generated), "the password is shown once");
        assert_eq!(
            server.count("SELECT COUNT(*) FROM outbox").await,
            0,
            "never emailed"
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM users WHERE email = 'pia@a.test' AND password_must_change = TRUE AND status = 'active'").await, 1);
        let pia = server.client();
        assert_eq!(pia.sign_in("pia@a.test", &generated).await.status, 303);
    }
);

both_engines!(
    system_users_get_a_secret_shown_once_and_never_a_portal_sign_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let form = vec![
            ("node", org.a.to_string()),
            ("kind", "system".into()),
            ("login", "faxgw01".into()),
            ("user_type", "user".into()),
            ("language", "en".into()),
            ("access", "invite".into()),
            ("services", "fax".into()),
        ];
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 201, "{}", res.body);
        let secret = res
            .body
            .split("id=\"shown-secret\"><code>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        assert!(secret.len() >= 43);
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox").await, 0);
        let stored = server
            .text("SELECT password_hash FROM users WHERE login = 'faxgw01'")
            .await;
        assert!(stored.starts_with("$argon2id$") && !stored.contains(&secret));
        assert_eq!(
            server.client().sign_in("faxgw01", &secret).await.status,
            401
        );
        // Logins are a–z and 0–9 only.
        for bad in ["Fax-GW", "fx", "fax gw"] {
            let mut f = form.clone();
            f[2] = ("login", bad.into());
            let res = post_add(&admin, &f).await;
            assert_eq!(res.status, 422, "{bad}");
            assert!(res.body.contains("Use 3 to 64 lower-case letters"));
        }
    }
);

both_engines!(
    bad_input_names_the_field_in_the_users_language_and_changes_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let node = org.u.to_string();
        let cases: Vec<(&str, String, &str)> = vec![
            ("email", "not-an-email".into(), "Enter an email address"),
            (
                "email",
                "bob@x.test\r\nBcc: x@evil.test".into(),
                "Enter an email address",
            ),
            ("phone_number", "12".into(), "not a valid mobile number"),
            ("message", "x".repeat(1001), "This text is too long."),
            (
                "first_name",
                "Bob\r\nBcc: x@evil.test".into(),
                "Remove line breaks",
            ),
            ("language", "xx".into(), "Choose a language"),
            ("country_code", "XX".into(), "Choose a country"),
            ("services", "telex".into(), "Choose services from the list."),
        ];
        for (field, value, message) in cases {
            let before = server.fingerprint().await;
            let mut form = add_form(&node, "case@a.test");
            form.retain(|(k, _)| *k != field);
            form.push((field, value.clone()));
            let res = post_add(&admin, &form).await;
            assert_eq!(res.status, 422, "{field}");
            assert!(res.body.contains(message), "{field}: {message} missing");
            assert_eq!(
                server.fingerprint().await,
                before,
                "{field} changed something"
            );
        }
        // Invoices only for Administrators.
        let mut form = add_form(&node, "case@a.test");
        form.push(("receive_invoices", "on".into()));
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 422);
        assert!(
            res.body
                .contains("Only administrators can receive paid invoices")
        );
        // In Dutch for a Dutch administrator.
        let page = admin.get("/devices").await;
        admin
            .post_form(
                "/language",
                &page.body,
                &[("lang", "nl"), ("back", "/devices")],
            )
            .await;
        let mut form = add_form(&node, "case@a.test");
        form.retain(|(k, _)| *k != "email");
        form.push(("email", "nope".into()));
        let res = post_add(&admin, &form).await;
        assert!(res.body.contains("Vul een e-mailadres in"), "{}", res.body);
        // Unknown fields are refused outright.
        let mut form = add_form(&node, "case@a.test");
        form.push(("account_id", org.b.to_string()));
        assert_eq!(post_add(&admin, &form).await.status, 400);
    }
);

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
            .contains("Choose a unit of the same account that you administer.")
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
    concurrent_edits_are_detected_and_lose_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let first = server.admin_client().await;
        let second = signed_in(&server, "acct@a.test").await;
        let path = format!("/users/{}", org.target);
        let a = first.get(&path).await;
        let b = second.get(&path).await;
        let v = input_value(&a.body, "version").unwrap();
        let ok = first
            .post_form(
                &format!("{path}/settings"),
                &a.body,
                &[
                    ("version", &v),
                    ("first_name", "Alpha"),
                    ("last_name", "One"),
                    ("user_type", "user"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303);
        let late = second
            .post_form(
                &format!("{path}/settings"),
                &b.body,
                &[
                    ("version", &v),
                    ("first_name", "Bravo"),
                    ("last_name", "Two"),
                    ("user_type", "user"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(late.status, 409);
        assert!(
            late.body
                .contains("Someone else changed this while you were editing")
        );
        assert!(
            late.body.contains("value=\"Bravo\""),
            "the second editor's input is kept in the form"
        );
        assert_eq!(
            server
                .text("SELECT first_name FROM users WHERE email = 'target@a.test'")
                .await,
            "Alpha"
        );
        // Saving again from the kept form (now with the current version) works.
        let v2 = input_value(&late.body, "version").unwrap();
        let again = second
            .post_form(
                &format!("{path}/settings"),
                &late.body,
                &[
                    ("version", &v2),
                    ("first_name", "Bravo"),
                    ("last_name", "Two"),
                    ("user_type", "user"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(again.status, 303);
        assert_eq!(
            server
                .text("SELECT first_name FROM users WHERE email = 'target@a.test'")
                .await,
            "Bravo"
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

both_engines!(
    units_are_created_moved_renamed_and_deleted_only_when_empty,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct.get("/users").await;
        assert_eq!(
            acct.post_form(
                "/units",
                &page.body,
                &[("parent", &org.a.to_string()), ("name", "Support")]
            )
            .await
            .status,
            303
        );
        let dup = acct
            .post_form(
                "/units",
                &page.body,
                &[("parent", &org.a.to_string()), ("name", "support")],
            )
            .await;
        assert_eq!(dup.status, 422);
        assert!(
            dup.body
                .contains("There is already a unit with this name here.")
        );
        // A unit with users cannot be deleted.
        let u1 = acct.get(&format!("/units/{}", org.u1)).await;
        let refused = acct
            .post_form(&format!("/units/{}/delete", org.u1), &u1.body, &[])
            .await;
        assert_eq!(refused.status, 409);
        assert!(refused.body.contains("still has users or units"));
        // Never under itself.
        let v = input_value(&u1.body, "version").unwrap();
        let cycle = acct
            .post_form(
                &format!("/units/{}/move", org.u),
                &u1.body,
                &[("version", &v), ("parent", &org.u2.to_string())],
            )
            .await;
        assert!(matches!(cycle.status, 409 | 422), "{}", cycle.status);
        // Move U2 (with its user) directly under the account: paths follow, scope follows.
        let u2 = acct.get(&format!("/units/{}", org.u2)).await;
        let v = input_value(&u2.body, "version").unwrap();
        assert_eq!(
            acct.post_form(
                &format!("/units/{}/move", org.u2),
                &u2.body,
                &[("version", &v), ("parent", &org.a.to_string())]
            )
            .await
            .status,
            303
        );
        let unit_admin = signed_in(&server, "unit@a.test").await;
        assert_eq!(
            unit_admin
                .get(&format!("/users/{}", org.target))
                .await
                .status,
            404,
            "U2 left U1: its users left the U1 administrator's scope"
        );
        let list = acct.get(&format!("/users?node={}", org.a)).await;
        assert!(list.body.contains("Stockholm"));
    }
);

both_engines!(search_filters_and_paging, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let op = root_actor(&server);
    for i in 0..60 {
        person(&server, &op, org.u1, &format!("member{i:02}@a.test"), false).await;
    }
    let acct = signed_in(&server, "acct@a.test").await;
    let first = acct.get(&format!("/users?node={}", org.u1)).await;
    assert_eq!(
        first.body.matches("<tr>").count() - 1,
        50,
        "a page holds 50 users"
    );
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .to_string();
    let next = next.split('"').next().unwrap().replace("&#38;", "&");
    let second = acct.get(&next).await;
    assert_eq!(
        second.body.matches("<tr>").count() - 1,
        62 - 50,
        "U1 holds 60 members, the unit admin and the target below"
    );
    assert!(!second.body.contains("rel=\"next\""));
    let found = acct.get(&format!("/users?node={}&q=MEMBER07", org.a)).await;
    assert!(found.body.contains("member07@a.test") && !found.body.contains("member08@a.test"));
    let admins = acct
        .get(&format!("/users?node={}&type=administrator", org.a))
        .await;
    assert!(admins.body.contains("acct@a.test") && !admins.body.contains("member01@a.test"));
    let literal = acct.get(&format!("/users?node={}&q=%25", org.a)).await;
    assert!(
        literal.body.contains("No users match."),
        "a % is matched literally"
    );
});

/// The start of a PNG file that says it is `w` × `h` pixels: signature, header chunk, end.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
        out
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

both_engines!(
    photos_are_pictures_resized_and_served_safely,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct.get(&format!("/users/{}", org.target)).await;
        let csrf = input_value(&page.body, "csrf").unwrap();
        let upload = |bytes: Vec<u8>, name: &'static str| {
            let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
            reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .part("photo", part)
        };
        let url = format!("{}/users/{}/photo", server.url, org.target);
        let mut png = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_fn(800, 600, |x, _| image::Rgb([(x % 255) as u8, 10, 200]))
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let res = acct
            .http
            .post(&url)
            .multipart(upload(png.into_inner(), "../../x.png"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        let photo = acct.http.get(&url).send().await.unwrap();
        assert_eq!(photo.headers()["content-type"], "image/webp");
        assert_eq!(photo.headers()["x-content-type-options"], "nosniff");
        assert!(
            photo.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        let img = image::load_from_memory(&photo.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (256, 192));
        let not_image = acct
            .http
            .post(&url)
            .multipart(upload(b"<svg onload=alert(1)>".to_vec(), "x.png"))
            .send()
            .await
            .unwrap();
        assert_eq!(not_image.status().as_u16(), 422);
        assert!(
            not_image
                .text()
                .await
                .unwrap()
                .contains("This file is not a PNG, JPEG or WebP picture.")
        );
        // A pixel flood: a few bytes that claim 20,000 × 20,000 (and 6,000 × 4,500, just over
        // 24 megapixels) are refused before anything is decoded.
        for (w, h) in [(20_000, 20_000), (6_000, 4_500)] {
            let before = server.fingerprint().await;
            let flood = acct
                .http
                .post(&url)
                .multipart(upload(png_header(w, h), "flood.png"))
                .send()
                .await
                .unwrap();
            assert_eq!(flood.status().as_u16(), 422, "{w} × {h}");
            assert!(
                flood
                    .text()
                    .await
                    .unwrap()
                    .contains("The picture has more than 24 megapixels.")
            );
            assert_eq!(server.fingerprint().await, before);
        }
        // Just over the limit: refused before decoding, the page names the photo field.
        let over = acct
            .http
            .post(&url)
            .multipart(upload(vec![0u8; 5 * 1024 * 1024 + 100 * 1024], "big.png"))
            .send()
            .await
            .unwrap();
        assert_eq!(over.status().as_u16(), 413);
        if let Ok(body) = over.text().await {
            assert!(body.contains("The picture is larger than 5 MB."), "{body}");
        }
        // 50 MB: refused while still arriving. The server answers 413 and closes; the client may
        // see the answer or only the closed connection. Either way nothing is stored and the
        // server carries on.
        let before = server.fingerprint().await;
        match acct
            .http
            .post(&url)
            .multipart(upload(vec![0u8; 50 * 1024 * 1024], "huge.png"))
            .send()
            .await
        {
            Ok(res) => assert_eq!(res.status().as_u16(), 413),
            Err(e) => assert!(e.is_request() || e.is_body() || e.is_decode(), "{e}"),
        }
        assert_eq!(server.fingerprint().await, before);
        assert_eq!(acct.get("/healthz").await.status, 200);
        let other = signed_in(&server, "badmin@b.test").await;
        assert_eq!(
            other.http.get(&url).send().await.unwrap().status().as_u16(),
            404
        );
    }
);

both_engines!(names_are_escaped_on_every_page, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let evil = "\"><img src=x onerror=alert(1)>";
    let admin = signed_in(&server, "acct@a.test").await;
    let mut form = add_form(&org.u.to_string(), "evil@a.test");
    form.retain(|(k, _)| *k != "first_name" && *k != "message");
    form.push(("first_name", evil.into()));
    form.push(("message", evil.into()));
    assert_eq!(post_add(&admin, &form).await.status, 201);
    let page = admin.get("/devices").await;
    let unit = admin
        .post_form(
            "/units",
            &page.body,
            &[("parent", &org.a.to_string()), ("name", evil)],
        )
        .await;
    assert_eq!(unit.status, 303);
    for path in [
        format!("/users?node={}", org.a),
        format!("/users?node={}&q=evil", org.a),
        format!("/account?node={}", org.a),
    ] {
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("<img src=x"),
            "{path} renders the name as markup"
        );
    }
    let list = admin.get(&format!("/users?node={}", org.a)).await;
    assert!(
        list.body
            .contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"),
        "escaped, not dropped"
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
        server.count("SELECT COUNT(*) FROM users WHERE user_type = 'administrator' AND email IN ('acct@a.test', 'second@a.test')").await,
        1
    );
    }
);

both_engines!(
    operators_create_accounts_and_bad_input_names_the_field,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let op = server.admin_client().await;
        let page = op.get("/management").await;
        let bad = op
            .post_form(
                "/management/accounts",
                &page.body,
                &[
                    ("version", "0"),
                    ("name", "Gamma"),
                    ("contact_email", "nope"),
                    ("default_language", "en"),
                    ("default_country", "SE"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.body.contains("Enter an email address") && bad.body.contains("value=\"Gamma\"")
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM nodes WHERE kind = 'account'")
                .await,
            0
        );
        let ok = op
            .post_form(
                "/management/accounts",
                &page.body,
                &[
                    ("version", "0"),
                    ("name", "Gamma"),
                    ("contact_email", "it@gamma.test"),
                    ("default_language", "sv"),
                    ("default_country", "SE"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303);
        let management = op.get("/management").await;
        assert!(management.body.contains("Gamma"));
        assert_eq!(
            server
                .text("SELECT default_language FROM nodes WHERE name = 'Gamma'")
                .await,
            "sv"
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'account.create'")
                .await,
            1
        );
    }
);

both_engines!(
    an_administrator_sets_a_password_which_is_not_sent_but_announced,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct.get(&format!("/users/{}", org.plain)).await;
        let v = input_value(&page.body, "version").unwrap();
        let short = acct
            .post_form(
                &format!("/users/{}/password", org.plain),
                &page.body,
                &[("version", &v), ("password", "short")],
            )
            .await;
        assert_eq!(short.status, 422);
        assert!(short.body.contains("Use at least 8 characters."));
        let new = "a password from the admin";
        let ok = acct
            .post_form(
                &format!("/users/{}/password", org.plain),
                &page.body,
                &[("version", &v), ("password", new)],
            )
            .await;
        assert_eq!(ok.status, 303);
        let payload = server.text("SELECT payload FROM outbox WHERE kind = 'password-set-by-admin' AND recipient = 'plain@a.test'").await;
        assert!(!payload.contains(new), "the password is never in a message");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.password.set'")
                .await,
            1
        );
        let plain = server.client();
        assert_eq!(plain.sign_in("plain@a.test", new).await.status, 303);
        assert_eq!(
            plain.get("/devices").await.location(),
            "/password",
            "must be changed at first sign-in"
        );
    }
);
