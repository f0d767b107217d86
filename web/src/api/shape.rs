//! The OpenAPI document says exactly what the server accepts. utoipa derives the shapes from the
//! handlers' types; this module writes in what a Rust type cannot say: how long a text may be and
//! which characters it may hold (as the domain's parsers trim and check them), the values a code
//! may take, the phone numbers and cursors only a parser can tell apart (as named formats), and
//! the bodies whose required fields depend on their `kind`.

use std::sync::OnceLock;

use roster_core::domain::user::ListSort;
use roster_core::model::phone::country_codes;
use roster_core::services::{Catalog, Kind as SettingKind};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use super::ApiDoc;

/// The document for the built-in services, as `/api/v1/openapi.json` serves it without a
/// services file (made once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| document_for(&Catalog::builtin()))
}

/// The document for these services: their ids where a service is named, one settings path
/// per service with its settings.
pub fn document_for(catalog: &Catalog) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    exact(&mut doc, catalog);
    doc
}

/// The document for the services this node is configured with.
pub fn document_of(catalog: &Catalog) -> std::borrow::Cow<'static, Value> {
    if *catalog == Catalog::builtin() {
        std::borrow::Cow::Borrowed(document())
    } else {
        std::borrow::Cow::Owned(document_for(catalog))
    }
}

/// What Rust's `trim` removes: Unicode white space.
const WS: &str = r"[\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// Any character but a control character.
const ANY: &str = r"[^\x00-\x1F\x7F-\x9F]";
/// A character that is neither a control character nor white space.
const INK: &str = r"[^\x00-\x20\x7F-\x9F\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

fn text(pattern: String, description: &str) -> Value {
    json!({"type": "string", "pattern": pattern, "description": description})
}

/// One line of at most `max` characters once trimmed, no control characters; may be empty.
fn line(max: usize) -> Value {
    text(
        format!("^{WS}*(?:{INK}(?:{ANY}{{0,{}}}{INK})?)?{WS}*$", max - 2),
        &format!("One line, at most {max} characters after trimming; may be empty."),
    )
}

/// One line of 1 to `max` characters once trimmed, no control characters.
fn name(max: usize) -> Value {
    text(
        format!("^{WS}*{INK}(?:{ANY}{{0,{}}}{INK})?{WS}*$", max - 2),
        &format!("One line, 1 to {max} characters after trimming."),
    )
}

/// Text of at most `max` characters: line breaks and tabs allowed, no other control character.
fn paragraphs(max: usize) -> Value {
    text(
        format!(r"^(?:[^\x00-\x08\x0B-\x1F\x7F-\x9F]|\r\n){{0,{max}}}$"),
        &format!("At most {max} characters; line breaks allowed."),
    )
}

fn login() -> Value {
    text(
        format!("^{WS}*[a-z0-9]{{3,64}}{WS}*$"),
        "3 to 64 lower-case letters a-z and digits 0-9.",
    )
}

/// A language, as `en`, `nl` or `sv` in any case, with any region after `-` or `_` ignored.
fn language() -> Value {
    text(
        format!(r"^{WS}*(?:[Ee][Nn]|[Nn][Ll]|[Ss][Vv])(?:[-_][\s\S]*)?{WS}*$"),
        "`en`, `nl` or `sv` (any case; a region such as `en-GB` is ignored).",
    )
}

/// An ISO 3166 alpha-2 country code in any case, or nothing.
fn country() -> Value {
    let codes: Vec<String> = country_codes()
        .map(|c| {
            c.chars()
                .map(|ch| format!("[{}{}]", ch, ch.to_ascii_lowercase()))
                .collect()
        })
        .collect();
    text(
        format!("^{WS}*(?:{})?{WS}*$", codes.join("|")),
        "An ISO 3166 alpha-2 country code (any case), or empty.",
    )
}

/// A mobile number: E.164, or national with the country given beside it; empty for none.
/// Only the phone number metadata tells a real number from a string of digits: the format
/// `phone` names that rule, and the pattern the characters it allows.
fn phone() -> Value {
    json!({
        "type": "string",
        "format": "phone",
        "pattern": format!(r"^{WS}*[0-9 +().\-]{{0,32}}{WS}*$"),
        "description": "A mobile number that the phone number metadata knows: E.164 (`+46701234567`), or national with the country beside it; empty for none.",
    })
}

/// A number connected to a user or a unit: like [`phone`], but never empty (the format
/// `number` names the rule).
fn number() -> Value {
    json!({
        "type": "string",
        "format": "number",
        "minLength": 1,
        "maxLength": 40,
        "description": "A number that the phone number metadata knows: E.164 (`+46701234567`), or national with `country` beside it.",
    })
}

fn email() -> Value {
    json!({"type": "string", "format": "email", "maxLength": 254})
}

/// An address, or nothing (blank).
fn email_or_blank() -> Value {
    json!({"anyOf": [email(), {"type": "string", "pattern": format!("^{WS}*$")}]})
}

fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

/// The same shape, or `null` (which means "as it is" in a PATCH, "the default" elsewhere).
fn or_null(mut v: Value) -> Value {
    match v.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            v["type"] = json!([t, "null"]);
            if let Some(Value::Array(values)) = v.get_mut("enum") {
                values.push(Value::Null);
            }
            v
        }
        _ => json!({"anyOf": [v, {"type": "null"}]}),
    }
}

fn services(ids: &[&str]) -> Value {
    json!({"type": "array", "items": one_of(ids)})
}

fn schema<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    &mut doc["components"]["schemas"][name]
}

/// Writes `shapes` over the properties of `schema` (keeping each one's description).
fn shape(target: &mut Value, shapes: Shapes<'_>) {
    for (property, mut shape) in shapes {
        let slot = &mut target["properties"][property];
        if let (Some(d), Some(o)) = (slot.get("description").cloned(), shape.as_object_mut()) {
            o.insert("description".into(), d);
        }
        *slot = shape;
    }
}

/// A body whose required fields depend on its kind: one branch per kind, each the base object
/// with its own shapes and required fields.
/// The shapes of some properties, by name.
type Shapes<'a> = Vec<(&'a str, Value)>;
/// One kind of a body: its title, its own shapes, its required fields.
type Kind<'a> = (&'a str, Shapes<'a>, &'a [&'a str]);

fn branches(doc: &mut Value, name: &str, kinds: Vec<Kind<'_>>) {
    let base = schema(doc, name).clone();
    let items: Vec<Value> = kinds
        .into_iter()
        .map(|(title, shapes, required)| {
            let mut branch = base.clone();
            shape(&mut branch, shapes);
            branch["title"] = json!(title);
            branch["required"] = json!(required);
            if let Some(o) = branch.as_object_mut() {
                o.remove("description");
            }
            branch
        })
        .collect();
    let mut whole = Map::new();
    if let Some(d) = base.get("description") {
        whole.insert("description".into(), d.clone());
    }
    whole.insert("oneOf".into(), Value::Array(items));
    *schema(doc, name) = Value::Object(whole);
}

fn query(doc: &mut Value, path: &str, shapes: Shapes<'_>) {
    let Some(Value::Array(params)) = doc["paths"][path]["get"].get_mut("parameters") else {
        return;
    };
    for (name, shape) in shapes {
        if let Some(p) = params.iter_mut().find(|p| p["name"] == name) {
            p["schema"] = shape;
        }
    }
}

/// A setting's values as its type checks them; `null` takes the value away.
fn setting_shape(kind: &SettingKind) -> Value {
    or_null(match kind {
        SettingKind::Text { max } => paragraphs(*max),
        SettingKind::Integer { min, max } => {
            json!({"type": "integer", "minimum": min, "maximum": max})
        }
        SettingKind::Boolean => json!({"type": "boolean"}),
        SettingKind::Choice(choices) => {
            let c: Vec<&str> = choices.iter().map(String::as_str).collect();
            one_of(&c)
        }
        SettingKind::Phone => phone(),
        SettingKind::Email => email_or_blank(),
        SettingKind::SenderId => text(
            format!(r"^{WS}*(?:\+?[0-9]{{1,15}}|[A-Za-z0-9]{{0,11}}){WS}*$"),
            "Up to 11 letters and digits, or a number of up to 15 digits; empty for none.",
        ),
        SettingKind::Country => country(),
    })
}

/// One path per service for the settings routes (the router has one with `{service}`): each
/// with the body its settings take.
fn settings_paths(doc: &mut Value, catalog: &Catalog) {
    for generic in [
        "/api/v1/nodes/{id}/settings/{service}",
        "/api/v1/users/{id}/settings/{service}",
    ] {
        let Some(template) = doc["paths"].as_object_mut().and_then(|p| p.remove(generic)) else {
            continue;
        };
        for service in &catalog.services {
            let mut item = template.clone();
            for (method, op) in item.as_object_mut().into_iter().flatten() {
                if let Some(Value::Array(params)) = op.get_mut("parameters") {
                    params.retain(|p| p["name"] != "service");
                }
                if let Some(id) = op["operationId"].as_str() {
                    op["operationId"] = json!(format!("{id}_{}", service.id));
                }
                if method == "patch" {
                    let settings: Map<String, Value> = service
                        .settings
                        .iter()
                        .map(|d| (d.id.to_string(), setting_shape(&d.kind)))
                        .collect();
                    op["requestBody"]["content"]["application/json"]["schema"] = json!({
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["settings"],
                        "properties": {"settings": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": settings,
                        }},
                    });
                }
            }
            doc["paths"][generic.replace("{service}", service.id)] = item;
        }
    }
    // A value is whatever its setting's type holds.
    for property in ["value", "inherited"] {
        schema(doc, "SettingOut")["properties"][property] = json!({});
    }
}

fn exact(doc: &mut Value, catalog: &Catalog) {
    settings_paths(doc, catalog);
    let ids: Vec<&str> = catalog.services.iter().map(|s| s.id).collect();
    let person = || {
        vec![
            ("first_name", line(100)),
            ("last_name", line(100)),
            ("language", or_null(language())),
            ("country_code", country()),
            ("phone", phone()),
            ("services", services(&ids)),
            ("message", paragraphs(1000)),
        ]
    };
    let with = |mut base: Vec<(&'static str, Value)>, more: Vec<(&'static str, Value)>| {
        base.extend(more);
        base
    };
    branches(
        doc,
        "UserCreate",
        vec![
            (
                "A person who is a User",
                with(
                    person(),
                    vec![
                        ("kind", or_null(one_of(&["person"]))),
                        ("email", email()),
                        ("user_type", or_null(one_of(&["user"]))),
                        (
                            "receive_invoices",
                            json!({"type": "boolean", "enum": [false]}),
                        ),
                    ],
                ),
                &["node_id", "email"],
            ),
            (
                "A person who is an Administrator",
                with(
                    person(),
                    vec![
                        ("kind", or_null(one_of(&["person"]))),
                        ("email", email()),
                        ("user_type", one_of(&["administrator"])),
                    ],
                ),
                &["node_id", "email", "user_type"],
            ),
            (
                "A system user",
                with(
                    person(),
                    vec![
                        ("kind", one_of(&["system"])),
                        ("login", login()),
                        ("user_type", or_null(one_of(&["user"]))),
                        (
                            "receive_invoices",
                            json!({"type": "boolean", "enum": [false]}),
                        ),
                    ],
                ),
                &["node_id", "kind", "login"],
            ),
        ],
    );
    shape(
        schema(doc, "UserPatch"),
        vec![
            ("first_name", or_null(line(100))),
            ("last_name", or_null(line(100))),
            ("friendly_name", or_null(line(100))),
            ("user_type", or_null(one_of(&["user", "administrator"]))),
            ("language", or_null(language())),
            ("country_code", or_null(country())),
            ("phone", or_null(phone())),
            ("status", or_null(one_of(&["active", "disabled"]))),
            ("services", or_null(services(&ids))),
        ],
    );
    branches(
        doc,
        "NodeCreate",
        vec![
            (
                "A customer account",
                vec![
                    ("kind", one_of(&["account"])),
                    ("name", name(100)),
                    ("contact_name", line(100)),
                    ("contact_email", email_or_blank()),
                    ("contact_phone", phone()),
                    ("default_language", or_null(language())),
                    ("default_country", country()),
                ],
                &["kind", "name"],
            ),
            (
                "A unit",
                vec![
                    ("kind", one_of(&["unit"])),
                    ("name", name(100)),
                    ("parent_id", json!({"type": "string", "format": "uuid"})),
                ],
                &["kind", "name", "parent_id"],
            ),
        ],
    );
    shape(
        schema(doc, "NodePatch"),
        vec![
            ("name", or_null(name(100))),
            ("contact_name", or_null(line(100))),
            ("contact_email", or_null(email_or_blank())),
            ("contact_phone", or_null(phone())),
            ("default_language", or_null(language())),
            ("default_country", or_null(country())),
        ],
    );
    shape(schema(doc, "AdministratorAdd"), vec![("email", email())]);
    shape(schema(doc, "AliasCreate"), vec![("address", email())]);
    shape(schema(doc, "BookCreate"), vec![("name", name(100))]);
    shape(
        schema(doc, "ContactCreate"),
        vec![
            ("name", name(100)),
            ("mobile", phone()),
            ("fax", phone()),
            ("email", email_or_blank()),
            ("notes", paragraphs(1000)),
        ],
    );
    shape(
        schema(doc, "PublicCreate"),
        vec![
            ("address", json!({"anyOf": [email(), number()]})),
            ("label", line(100)),
        ],
    );
    shape(
        schema(doc, "NumberCreate"),
        vec![
            ("number", number()),
            ("country", country()),
            ("label", line(100)),
            ("services", services(&ids)),
        ],
    );
    shape(
        schema(doc, "TokenCreate"),
        vec![
            ("name", name(100)),
            ("scope", or_null(one_of(&["admin", "lookup"]))),
            (
                "expires_days",
                json!({"type": ["integer", "null"], "minimum": 1, "maximum": 3650}),
            ),
        ],
    );
    query(
        doc,
        "/api/v1/lookup",
        vec![("email", email()), ("number", number()), ("login", login())],
    );
    let orders: Vec<&str> = std::iter::once("")
        .chain(ListSort::ALL.iter().map(|s| s.as_str()))
        .collect();
    let services: Vec<&str> = std::iter::once("").chain(ids.iter().copied()).collect();
    query(
        doc,
        "/api/v1/users",
        vec![
            ("type", one_of(&["", "administrator", "user"])),
            ("status", one_of(&["", "invited", "active", "disabled"])),
            ("service", one_of(&services)),
            ("sort", one_of(&orders)),
            (
                "after",
                json!({"type": "string", "format": "cursor", "pattern": "^[A-Za-z0-9_-]*$"}),
            ),
        ],
    );
}

#[cfg(test)]
mod tests {
    use roster_core::model::{Lang, parse_line, parse_login, parse_text, phone};

    use super::*;

    fn matches(shape: &Value, s: &str) -> bool {
        let pattern = shape["pattern"].as_str().expect("a pattern");
        regex::Regex::new(pattern)
            .expect("a valid pattern")
            .is_match(s)
    }

    /// Strings at the edges of every rule: blanks of every kind, control characters, limits.
    fn awkward() -> Vec<String> {
        let mut all: Vec<String> = [
            "",
            " ",
            "\t",
            "\u{3000}",
            "a",
            "Ada",
            "  Ada Lovelace  ",
            "\tAda\n",
            "A\nB",
            "A\r\nB",
            "A\rB",
            "Ada\u{0}",
            "\u{85}Ada",
            "A\u{9f}",
            "A\u{a0}B",
            "\u{a0}",
            "ab",
            "abc",
            "faxgw01",
            "Fax",
            "fax gw",
            "ACME",
            "+46701234567",
            "+",
            "123456789012345",
            "1234567890123456",
            "TwelveLetter",
            " Elevenchars ",
            " faxgw ",
            "en",
            "EN",
            "Sv",
            "nl-BE",
            " en_GB ",
            "en -x",
            "de",
            "e",
            "se",
            "SE",
            " nl ",
            "XX",
            "s e",
            "Åland",
            "+46 70 123 45 67",
            "070-1234567",
            "(0)70",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [63, 64, 65, 98, 99, 100, 101, 999, 1000, 1001] {
            all.push("x".repeat(n));
            all.push(format!(" {} ", "é".repeat(n)));
            all.push("a\r\n".repeat(n / 2));
        }
        all
    }

    #[test]
    fn each_pattern_accepts_exactly_what_its_parser_accepts() {
        type Parser = Box<dyn Fn(&str) -> bool>;
        let rules: Vec<(&str, Value, Parser)> = vec![
            (
                "line",
                line(100),
                Box::new(|s| parse_line("f", s, 100).is_ok()),
            ),
            (
                "name",
                name(100),
                Box::new(|s| parse_line("f", s, 100).is_ok_and(|v| !v.is_empty())),
            ),
            (
                "paragraphs",
                paragraphs(1000),
                Box::new(|s| parse_text("f", s, 1000).is_ok()),
            ),
            ("login", login(), Box::new(|s| parse_login("f", s).is_ok())),
            (
                "language",
                language(),
                Box::new(|s| Lang::parse(s).is_some()),
            ),
            (
                "country",
                country(),
                Box::new(|s| phone::parse_country("f", s).is_ok()),
            ),
            (
                "sender id",
                setting_shape(&SettingKind::SenderId),
                Box::new(|s| SettingKind::SenderId.check("f", &json!(s)).is_ok()),
            ),
            (
                "text setting",
                setting_shape(&SettingKind::Text { max: 100 }),
                Box::new(|s| SettingKind::Text { max: 100 }.check("f", &json!(s)).is_ok()),
            ),
        ];
        for (rule, shape, parser) in &rules {
            for s in awkward() {
                assert_eq!(matches(shape, &s), parser(&s), "{rule}: {s:?}");
            }
        }
        // Phone numbers: the pattern is the characters; the format names the metadata's check.
        for ok in ["", "+46701234567", " 070-123 45 67 "] {
            assert!(matches(&phone(), ok), "{ok:?}");
        }
        assert!(!matches(&phone(), "070 12a"));
    }

    #[test]
    fn a_services_file_is_described_as_configured() {
        let catalog = Catalog::from_toml(
            "[[service]]\nid = \"telex\"\n[[service.setting]]\nid = \"speed\"\ntype = \"integer\"\nmin = 1\nmax = 9\nlabel = { en = \"Speed\" }\n",
        )
        .unwrap();
        let doc = document_for(&catalog);
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.contains_key("/api/v1/users/{id}/settings/telex"));
        assert!(!paths.contains_key("/api/v1/users/{id}/settings/sms"));
        let body = &paths["/api/v1/nodes/{id}/settings/telex"]["patch"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert_eq!(
            body["properties"]["settings"]["properties"]["speed"]["maximum"],
            json!(9)
        );
        let services = &doc["components"]["schemas"]["UserPatch"]["properties"]["services"];
        assert!(services.to_string().contains("telex") && !services.to_string().contains("fax"));
    }

    #[test]
    fn kinds_have_their_own_required_fields() {
        let doc = document();
        let user = &doc["components"]["schemas"]["UserCreate"]["oneOf"];
        assert_eq!(user.as_array().map(Vec::len), Some(3));
        assert_eq!(user[2]["required"], json!(["node_id", "kind", "login"]));
        let node = &doc["components"]["schemas"]["NodeCreate"]["oneOf"];
        assert_eq!(node[1]["required"], json!(["kind", "name", "parent_id"]));
    }
}
