//! The filter's unit tests: the RFC's examples, refusals, evaluation, bounds and fuzzing.

use super::*;
use serde_json::json;

#[test]
fn parses_the_rfc_examples() {
    for f in [
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        r#"active eq true"#,
        r#"x.y ge 1.5e3"#,
    ] {
        let parsed = parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(parse(&parsed.to_string()).unwrap(), parsed, "{f}");
    }
}

#[test]
fn refuses_what_is_not_a_filter() {
    for f in [
        "",
        "userName",
        "userName eq",
        "userName zz \"x\"",
        "(userName eq \"x\"",
        "userName eq \"x",
        "not userName eq \"x\"",
        "emails[type eq \"w\"",
        "1abc eq 1",
        "userName eq \"x\" and",
        "a.b.c eq 1",
        "userName eq x",
    ] {
        assert!(parse(f).is_err(), "{f:?} should not parse");
    }
}

#[test]
fn evaluates_against_a_resource() {
    let user = json!({
        "userName": "Bjensen@Example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
    });
    let yes = |f: &str| parse(f).unwrap().matches(&user);
    assert!(yes(r#"username eq "bjensen@example.com""#));
    assert!(yes(r#"name.familyName sw "jen""#));
    assert!(yes(r#"emails[type eq "work" and value ew "example.com"]"#));
    assert!(yes(r#"emails co "bjensen""#));
    assert!(yes("active eq true and name.givenName pr"));
    assert!(yes(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#
    ));
    assert!(!yes(r#"not (userName sw "b")"#));
    assert!(!yes("title pr"));
    assert!(yes(r#"title ne "x""#));
}

/// Random input never panics; random filters print to text that parses back to themselves.
#[test]
fn fuzz_no_panic_and_round_trip() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<char> = "ab eqnotrpco()[].:\"\\ 01-9.eE+truefalsenull\u{e9}\u{1F600}\t"
        .chars()
        .collect();
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if let Ok(f) = parse(&s) {
            assert_eq!(parse(&f.to_string()).as_ref(), Ok(&f), "{s:?}");
        }
    }
    fn random_filter(next: &mut impl FnMut() -> u64, depth: u32) -> Filter {
        let names = ["userName", "title", "emails", "name", "active"];
        let path = |n: &mut dyn FnMut() -> u64| AttrPath {
            uri: n()
                .is_multiple_of(5)
                .then(|| "urn:ietf:params:scim:schemas:core:2.0:User".into()),
            name: names[(n() % 5) as usize].into(),
            sub: n().is_multiple_of(3).then(|| "value".into()),
        };
        match if depth > 3 { next() % 2 } else { next() % 6 } {
            0 => Filter::Present(path(next)),
            1 => {
                let ops = [
                    Op::Eq,
                    Op::Ne,
                    Op::Co,
                    Op::Sw,
                    Op::Ew,
                    Op::Gt,
                    Op::Ge,
                    Op::Lt,
                    Op::Le,
                ];
                let v = match next() % 4 {
                    0 => CompValue::Null,
                    1 => CompValue::Bool(next().is_multiple_of(2)),
                    2 => CompValue::Number((next() % 1000) as f64 / 4.0),
                    _ => CompValue::String(format!("v\"{}\\é", next() % 100)),
                };
                Filter::Compare(path(next), ops[(next() % 9) as usize], v)
            }
            2 => Filter::And(
                Box::new(random_filter(next, depth + 1)),
                Box::new(random_filter(next, depth + 1)),
            ),
            3 => Filter::Or(
                Box::new(random_filter(next, depth + 1)),
                Box::new(random_filter(next, depth + 1)),
            ),
            4 => Filter::Not(Box::new(random_filter(next, depth + 1))),
            _ => {
                let mut p = path(next);
                p.sub = None;
                Filter::ValuePath(p, Box::new(random_filter(next, depth + 1)))
            }
        }
    }
    for _ in 0..5_000 {
        let f = random_filter(&mut next, 0);
        let text = f.to_string();
        assert_eq!(parse(&text).as_ref(), Ok(&f), "{text}");
    }
}

#[test]
fn the_number_of_terms_and_the_length_are_bounded() {
    let chain = |n: usize, op: &str| vec!["title pr"; n].join(&format!(" {op} "));
    // 50 comparisons and 49 operators: 99 terms.
    assert!(parse(&chain(50, "or")).is_ok());
    for op in ["or", "and"] {
        let e = parse(&chain(51, op)).unwrap_err();
        assert_eq!(e.what, "filter has too many terms", "{op}");
    }
    let e = parse(&chain(60_000, "or")).unwrap_err();
    assert_eq!(e.what, "filter too long");
    let nots = "not (".repeat(60) + "title pr" + &")".repeat(60);
    assert!(parse(&nots).is_err());
    let mixed = vec![r#"emails[type eq "work" or value pr]"#; 30].join(" and ");
    assert!(parse(&mixed).is_err());
}

/// Long generated chains of every shape: never a panic or an abort, each answered within a
/// bounded time, and what parses evaluates and prints without deep recursion.
#[test]
fn fuzz_long_chains_stay_bounded() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces = [
        "userName pr",
        " or ",
        " and ",
        "not (",
        ")",
        "(",
        "emails[",
        "]",
        r#"title eq "x""#,
        " ",
        "value co \"@\"",
        "active eq true",
    ];
    let user = serde_json::json!({"userName": "a", "emails": [{"value": "a@b"}]});
    for _ in 0..300 {
        let len = (next() % 20_000) as usize;
        let mut text = String::with_capacity(len * 8);
        while text.len() < len {
            text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        let started = std::time::Instant::now();
        if let Ok(f) = parse(&text) {
            f.matches(&user);
            let _ = f.index_hint();
            let _ = f.to_string();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(500),
            "{}",
            text.len()
        );
    }
}

#[test]
fn depth_is_bounded() {
    let deep = "(".repeat(10_000) + "title pr" + &")".repeat(10_000);
    assert!(parse(&deep).is_err());
    let nots = "not (".repeat(5_000) + "title pr" + &")".repeat(5_000);
    assert!(parse(&nots).is_err());
}
