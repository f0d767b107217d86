//! The services users are given (SMS, fax, …) and the settings each one has: declared in
//! configuration (a TOML services file), the built-in `sms` and `fax` without one. Each setting
//! has a type that checks its values, a default, and a label and help text per language.
//!
//! ```toml
//! [[service]]
//! id = "sms"
//! name = { en = "SMS", nl = "Sms", sv = "SMS" }
//!
//! [[service.setting]]
//! id = "sender_id"
//! type = "sender_id"          # text, integer, boolean, choice, phone, email, sender_id, country
//! default = ""
//! label = { en = "Sender id" }
//! help = { en = "Up to 11 letters and digits, or a number." }
//!
//! [[service.setting]]
//! id = "max_parts"
//! type = "integer"
//! min = 1
//! max = 10
//! default = 3
//! label = { en = "Maximum parts of a long message" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{Email, Lang, parse_text, phone};

/// What a setting's values are.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Text of at most `max` characters (new lines allowed).
    Text {
        max: usize,
    },
    /// A whole number from `min` to `max`.
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// One of the listed values.
    Choice(Vec<String>),
    /// A phone number, kept in E.164 ("" for none).
    Phone,
    /// An email address ("" for none).
    Email,
    /// What an SMS shows as its sender: up to 11 letters and digits, or a number of up to 15
    /// digits ("" for none).
    SenderId,
    /// A country by its ISO code ("" for none).
    Country,
}

impl Kind {
    /// The value as stored, or the code of what is wrong with it. Forms send text; the API may
    /// send numbers and booleans as JSON.
    pub fn check(&self, field: &'static str, v: &Value) -> Result<Value> {
        let text = match v {
            Value::String(s) => Some(s.trim()),
            _ => None,
        };
        match self {
            Kind::Text { max } => match v {
                Value::String(s) => Ok(Value::String(parse_text(field, s, *max)?.trim().into())),
                _ => Err(Error::field(field, "setting-text")),
            },
            Kind::Integer { min, max } => {
                let n = match v {
                    // 30.0 is a whole number too.
                    Value::Number(n) => n.as_i64().or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                            .map(|f| f as i64)
                    }),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                match n {
                    Some(n) if n >= *min && n <= *max => Ok(Value::from(n)),
                    Some(_) => Err(Error::field(field, "setting-out-of-range")),
                    None => Err(Error::field(field, "setting-integer")),
                }
            }
            Kind::Boolean => match (v, text) {
                (Value::Bool(b), _) => Ok(Value::Bool(*b)),
                (_, Some("true" | "on" | "1")) => Ok(Value::Bool(true)),
                (_, Some("false" | "off" | "0")) => Ok(Value::Bool(false)),
                _ => Err(Error::field(field, "setting-boolean")),
            },
            Kind::Choice(choices) => match v {
                Value::String(t) if choices.iter().any(|c| c == t) => Ok(Value::String(t.clone())),
                _ => Err(Error::field(field, "setting-choice")),
            },
            Kind::Phone => match text {
                Some("") => Ok(Value::String(String::new())),
                Some(t) => match phone::parse_phone(field, "", t) {
                    Ok(Some(e164)) => Ok(Value::String(e164)),
                    _ => Err(Error::field(field, "setting-phone")),
                },
                None => Err(Error::field(field, "setting-phone")),
            },
            Kind::Email => match text {
                Some("") => Ok(Value::String(String::new())),
                Some(t) => Email::parse(field, t)
                    .map(|e| Value::String(e.as_str().into()))
                    .map_err(|_| Error::field(field, "setting-email")),
                None => Err(Error::field(field, "setting-email")),
            },
            Kind::SenderId => match text {
                Some(t) if sender_id_ok(t) => Ok(Value::String(t.into())),
                _ => Err(Error::field(field, "setting-sender-id")),
            },
            Kind::Country => match text {
                Some("") => Ok(Value::String(String::new())),
                Some(t) => phone::parse_country(field, t)
                    .map(Value::String)
                    .map_err(|_| Error::field(field, "setting-country")),
                None => Err(Error::field(field, "setting-country")),
            },
        }
    }

    /// The type's name in the services file and in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Text { .. } => "text",
            Kind::Integer { .. } => "integer",
            Kind::Boolean => "boolean",
            Kind::Choice(_) => "choice",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::SenderId => "sender_id",
            Kind::Country => "country",
        }
    }
}

/// Up to 11 ASCII letters and digits, or a number (an optional `+` and up to 15 digits); "" is
/// none.
fn sender_id_ok(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.len() <= 15;
    }
    s.len() <= 11 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A text in each language that has one (English is the fallback).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Texts(BTreeMap<String, String>);

impl Texts {
    fn of(pairs: &[(&str, &str)]) -> Texts {
        Texts(
            pairs
                .iter()
                .map(|(l, t)| (l.to_string(), t.to_string()))
                .collect(),
        )
    }

    pub fn get(&self, lang: Lang) -> &str {
        self.0
            .get(lang.code())
            .or_else(|| self.0.get("en"))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub id: &'static str,
    pub kind: Kind,
    pub default: Value,
    pub label: Texts,
    pub help: Texts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: &'static str,
    pub name: Texts,
    pub settings: Vec<Setting>,
}

impl Service {
    pub fn setting(&self, id: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.id == id)
    }
}

/// Every configured service, in the order of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub services: Vec<Service>,
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog::builtin()
    }
}

impl Catalog {
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn has(&self, id: &str) -> bool {
        self.service(id).is_some()
    }

    pub fn ids(&self) -> Vec<String> {
        self.services.iter().map(|s| s.id.to_string()).collect()
    }

    /// The built-in `sms` and `fax`.
    pub fn builtin() -> Catalog {
        let s = |id, kind, default: Value, label: &[(&str, &str)], help: &[(&str, &str)]| Setting {
            id,
            kind,
            default,
            label: Texts::of(label),
            help: Texts::of(help),
        };
        let sms = Service {
            id: "sms",
            name: Texts::of(&[("en", "SMS"), ("nl", "Sms"), ("sv", "SMS")]),
            settings: vec![
                s(
                    "sender_id",
                    Kind::SenderId,
                    "".into(),
                    &[
                        ("en", "Sender id"),
                        ("nl", "Afzender"),
                        ("sv", "Avsändar-id"),
                    ],
                    &[
                        (
                            "en",
                            "What the recipient sees as the sender: up to 11 letters and digits, or a number.",
                        ),
                        (
                            "nl",
                            "Wat de ontvanger als afzender ziet: tot 11 letters en cijfers, of een nummer.",
                        ),
                        (
                            "sv",
                            "Det mottagaren ser som avsändare: upp till 11 bokstäver och siffror, eller ett nummer.",
                        ),
                    ],
                ),
                s(
                    "default_country",
                    Kind::Country,
                    "".into(),
                    &[
                        ("en", "Default country code"),
                        ("nl", "Standaard landcode"),
                        ("sv", "Förvald landskod"),
                    ],
                    &[
                        (
                            "en",
                            "Numbers written without a country code are in this country (empty: the account's country).",
                        ),
                        (
                            "nl",
                            "Nummers zonder landcode horen bij dit land (leeg: het land van het account).",
                        ),
                        (
                            "sv",
                            "Nummer utan landskod hör till detta land (tomt: kontots land).",
                        ),
                    ],
                ),
                s(
                    "delivery_reports",
                    Kind::Boolean,
                    false.into(),
                    &[
                        ("en", "Delivery reports"),
                        ("nl", "Afleverrapporten"),
                        ("sv", "Leveransrapporter"),
                    ],
                    &[
                        ("en", "Ask for a report when each message is delivered."),
                        ("nl", "Vraag een rapport wanneer elk bericht is afgeleverd."),
                        (
                            "sv",
                            "Be om en rapport när varje meddelande har levererats.",
                        ),
                    ],
                ),
                s(
                    "max_parts",
                    Kind::Integer { min: 1, max: 10 },
                    3.into(),
                    &[
                        ("en", "Maximum parts of a long message"),
                        ("nl", "Maximaal aantal delen van een lang bericht"),
                        ("sv", "Högsta antal delar i ett långt meddelande"),
                    ],
                    &[
                        (
                            "en",
                            "A longer message is sent in parts, at most this many (1 to 10).",
                        ),
                        (
                            "nl",
                            "Een langer bericht gaat in delen, hoogstens zoveel (1 tot 10).",
                        ),
                        (
                            "sv",
                            "Ett längre meddelande skickas i delar, högst så många (1 till 10).",
                        ),
                    ],
                ),
                s(
                    "reply_to",
                    Kind::Email,
                    "".into(),
                    &[
                        ("en", "Reply-to address"),
                        ("nl", "Antwoordadres"),
                        ("sv", "Svarsadress"),
                    ],
                    &[
                        (
                            "en",
                            "Replies to messages sent by email arrive here (empty: the sender's own address).",
                        ),
                        (
                            "nl",
                            "Antwoorden op berichten per e-mail komen hier aan (leeg: het eigen adres van de afzender).",
                        ),
                        (
                            "sv",
                            "Svar på meddelanden via e-post kommer hit (tomt: avsändarens egen adress).",
                        ),
                    ],
                ),
                s(
                    "signature",
                    Kind::Text { max: 100 },
                    "".into(),
                    &[
                        ("en", "Signature"),
                        ("nl", "Ondertekening"),
                        ("sv", "Signatur"),
                    ],
                    &[
                        ("en", "Ends each message (empty: the user's friendly name)."),
                        (
                            "nl",
                            "Sluit elk bericht af (leeg: de weergavenaam van de gebruiker).",
                        ),
                        (
                            "sv",
                            "Avslutar varje meddelande (tomt: användarens visningsnamn).",
                        ),
                    ],
                ),
            ],
        };
        let fax = Service {
            id: "fax",
            name: Texts::of(&[("en", "Fax"), ("nl", "Fax"), ("sv", "Fax")]),
            settings: vec![
                s(
                    "cover_page",
                    Kind::Boolean,
                    true.into(),
                    &[
                        ("en", "Cover page"),
                        ("nl", "Voorblad"),
                        ("sv", "Försättsblad"),
                    ],
                    &[
                        ("en", "Send a cover page before each fax."),
                        ("nl", "Stuur een voorblad voor elke fax."),
                        ("sv", "Skicka ett försättsblad före varje fax."),
                    ],
                ),
                s(
                    "cover_page_text",
                    Kind::Text { max: 2000 },
                    "".into(),
                    &[
                        ("en", "Cover page text"),
                        ("nl", "Tekst van het voorblad"),
                        ("sv", "Text på försättsbladet"),
                    ],
                    &[
                        (
                            "en",
                            "Printed on the cover page (at most 2,000 characters).",
                        ),
                        ("nl", "Staat op het voorblad (hoogstens 2.000 tekens)."),
                        ("sv", "Skrivs på försättsbladet (högst 2 000 tecken)."),
                    ],
                ),
                s(
                    "header_line",
                    Kind::Text { max: 100 },
                    "".into(),
                    &[
                        ("en", "Header line"),
                        ("nl", "Kopregel"),
                        ("sv", "Sidhuvud"),
                    ],
                    &[
                        ("en", "Printed at the top of every page."),
                        ("nl", "Staat bovenaan elke pagina."),
                        ("sv", "Skrivs överst på varje sida."),
                    ],
                ),
                s(
                    "resolution",
                    Kind::Choice(vec!["standard".into(), "fine".into()]),
                    "standard".into(),
                    &[
                        ("en", "Resolution"),
                        ("nl", "Resolutie"),
                        ("sv", "Upplösning"),
                    ],
                    &[
                        ("en", "Standard or fine (slower, sharper)."),
                        ("nl", "Standaard of fijn (trager, scherper)."),
                        ("sv", "Standard eller fin (långsammare, skarpare)."),
                    ],
                ),
                s(
                    "notify_delivered",
                    Kind::Boolean,
                    false.into(),
                    &[
                        ("en", "Email when delivered"),
                        ("nl", "E-mail bij aflevering"),
                        ("sv", "E-post vid leverans"),
                    ],
                    &[
                        ("en", "Tell the sender by email when a fax is delivered."),
                        (
                            "nl",
                            "Meld het de afzender per e-mail wanneer een fax is afgeleverd.",
                        ),
                        (
                            "sv",
                            "Meddela avsändaren via e-post när ett fax har levererats.",
                        ),
                    ],
                ),
                s(
                    "notify_failed",
                    Kind::Boolean,
                    true.into(),
                    &[
                        ("en", "Email when it fails"),
                        ("nl", "E-mail bij mislukken"),
                        ("sv", "E-post vid misslyckande"),
                    ],
                    &[
                        (
                            "en",
                            "Tell the sender by email when a fax could not be delivered.",
                        ),
                        (
                            "nl",
                            "Meld het de afzender per e-mail wanneer een fax niet kon worden afgeleverd.",
                        ),
                        (
                            "sv",
                            "Meddela avsändaren via e-post när ett fax inte kunde levereras.",
                        ),
                    ],
                ),
            ],
        };
        Catalog {
            services: vec![sms, fax],
        }
    }

    /// Reads a services file. A mistake is told with its line ("line 7: …").
    pub fn from_toml(text: &str) -> std::result::Result<Catalog, String> {
        let file: FileDoc = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(n) => format!("line {n}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map(|i| format!("line {}: ", i + 1))
                .unwrap_or_default()
        };
        let mut services: Vec<Service> = vec![];
        for s in file.service {
            let at = line_of(&format!("\"{}\"", s.id));
            if !id_ok(&s.id) || services.iter().any(|o| o.id == s.id) {
                return Err(format!(
                    "{at}service id {:?}: 1 to 32 of a-z, 0-9 and _, once",
                    s.id
                ));
            }
            let mut settings: Vec<Setting> = vec![];
            for d in s.setting {
                let at = line_of(&format!("\"{}\"", d.id));
                if !id_ok(&d.id) || settings.iter().any(|o| o.id == d.id) {
                    return Err(format!(
                        "{at}setting id {:?} of {}: 1 to 32 of a-z, 0-9 and _, once per service",
                        d.id, s.id
                    ));
                }
                let kind = match (d.kind.as_str(), d.min, d.max, &d.choices) {
                    ("text", None, max, None) => Kind::Text {
                        max: max.unwrap_or(1000).clamp(1, 100_000) as usize,
                    },
                    ("integer", Some(min), Some(max), None) if min <= max => {
                        Kind::Integer { min, max }
                    }
                    ("boolean", None, None, None) => Kind::Boolean,
                    ("choice", None, None, Some(c)) if !c.is_empty() => Kind::Choice(c.clone()),
                    ("phone", None, None, None) => Kind::Phone,
                    ("email", None, None, None) => Kind::Email,
                    ("sender_id", None, None, None) => Kind::SenderId,
                    ("country", None, None, None) => Kind::Country,
                    (k, ..) => {
                        return Err(format!(
                            "{at}setting {}: type {k:?} (text [max], integer min max, boolean, \
                             choice choices, phone, email, sender_id, country)",
                            d.id
                        ));
                    }
                };
                if d.label.is_empty() {
                    return Err(format!(
                        "{at}setting {}: a label is needed (label = {{ en = \"…\" }})",
                        d.id
                    ));
                }
                let id: &'static str = Box::leak(d.id.into_boxed_str());
                let default = d.default.map(toml_to_json).unwrap_or(match &kind {
                    Kind::Integer { min, .. } => Value::from(*min),
                    Kind::Boolean => Value::Bool(false),
                    Kind::Choice(c) => Value::String(c[0].clone()),
                    _ => Value::String(String::new()),
                });
                let default = kind.check(id, &default).map_err(|_| {
                    format!("{at}setting {id}: the default is not a {}", kind.name())
                })?;
                settings.push(Setting {
                    id,
                    kind,
                    default,
                    label: Texts(d.label),
                    help: Texts(d.help),
                });
            }
            services.push(Service {
                id: Box::leak(s.id.into_boxed_str()),
                name: Texts(s.name),
                settings,
            });
        }
        Ok(Catalog { services })
    }
}

fn id_ok(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        _ => Value::Null,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    service: Vec<ServiceDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceDoc {
    id: String,
    #[serde(default)]
    name: BTreeMap<String, String>,
    #[serde(default)]
    setting: Vec<SettingDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingDoc {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    default: Option<toml::Value>,
    min: Option<i64>,
    max: Option<i64>,
    choices: Option<Vec<String>>,
    #[serde(default)]
    label: BTreeMap<String, String>,
    #[serde(default)]
    help: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_type_checks_its_values() {
        let ok = |k: &Kind, v: Value| k.check("f", &v).ok();
        assert_eq!(ok(&Kind::SenderId, json!("ACME2")), Some(json!("ACME2")));
        assert_eq!(
            ok(&Kind::SenderId, json!("+46701234567")),
            Some(json!("+46701234567"))
        );
        assert_eq!(ok(&Kind::SenderId, json!("TwelveLetter")), None);
        assert_eq!(ok(&Kind::SenderId, json!("a b")), None);
        let parts = Kind::Integer { min: 1, max: 10 };
        assert_eq!(ok(&parts, json!("4")), Some(json!(4)));
        assert_eq!(ok(&parts, json!(11)), None);
        assert_eq!(ok(&parts, json!(2.5)), None);
        assert_eq!(ok(&parts, json!(4.0)), Some(json!(4)));
        assert_eq!(ok(&Kind::Boolean, json!("on")), Some(json!(true)));
        assert_eq!(ok(&Kind::Boolean, json!("maybe")), None);
        let res = Kind::Choice(vec!["standard".into(), "fine".into()]);
        assert_eq!(ok(&res, json!("fine")), Some(json!("fine")));
        assert_eq!(ok(&res, json!("coarse")), None);
        assert_eq!(ok(&res, json!(" fine")), None);
        assert_eq!(
            ok(&Kind::Phone, json!("+46 70 123 45 67")),
            Some(json!("+46701234567"))
        );
        assert_eq!(ok(&Kind::Phone, json!("123")), None);
        assert_eq!(
            ok(&Kind::Email, json!("Ops@Example.com")),
            Some(json!("ops@example.com"))
        );
        assert_eq!(ok(&Kind::Email, json!("not an address")), None);
        assert_eq!(ok(&Kind::Text { max: 3 }, json!("abcd")), None);
        assert_eq!(ok(&Kind::Country, json!("se")), Some(json!("SE")));
        let e = Kind::Integer { min: 1, max: 10 }.check("max_parts", &json!(0));
        assert!(matches!(e, Err(Error::Invalid(v)) if v[0].field == "max_parts"));
    }

    #[test]
    fn the_built_in_services_have_valid_defaults() {
        let c = Catalog::builtin();
        assert_eq!(c.ids(), ["sms", "fax"]);
        for s in &c.services {
            for d in &s.settings {
                assert_eq!(
                    d.kind.check(d.id, &d.default).unwrap(),
                    d.default,
                    "{}",
                    d.id
                );
                for l in Lang::ALL {
                    assert!(!d.label.get(l).is_empty() && !d.help.get(l).is_empty());
                }
            }
        }
        assert_eq!(
            c.service("fax")
                .unwrap()
                .setting("resolution")
                .unwrap()
                .default,
            "standard"
        );
    }

    #[test]
    fn a_services_file_declares_services_and_names_the_line_of_a_mistake() {
        let good = r#"
[[service]]
id = "sms"
name = { en = "SMS" }

[[service.setting]]
id = "max_parts"
type = "integer"
min = 1
max = 5
default = 2
label = { en = "Parts", sv = "Delar" }

[[service.setting]]
id = "quality"
type = "choice"
choices = ["low", "high"]
label = { en = "Quality" }
"#;
        let c = Catalog::from_toml(good).unwrap();
        let parts = c.service("sms").unwrap().setting("max_parts").unwrap();
        assert_eq!(parts.kind, Kind::Integer { min: 1, max: 5 });
        assert_eq!(parts.default, json!(2));
        assert_eq!(parts.label.get(Lang::Sv), "Delar");
        assert_eq!(parts.label.get(Lang::Nl), "Parts");
        assert_eq!(
            c.service("sms")
                .unwrap()
                .setting("quality")
                .unwrap()
                .default,
            "low"
        );

        let bad_type = good.replace("type = \"choice\"", "type = \"colour\"");
        let e = Catalog::from_toml(&bad_type).unwrap_err();
        assert!(e.starts_with("line 15:"), "{e}");
        let bad_default = good.replace("default = 2", "default = 9");
        let e = Catalog::from_toml(&bad_default).unwrap_err();
        assert!(e.starts_with("line 7:") && e.contains("default"), "{e}");
        let e = Catalog::from_toml("[[service]]\nid = \"x\"\ncolour = 1\n").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        let e =
            Catalog::from_toml("[[service]]\nid = \"x\"\n[[service]]\nid = \"x\"\n").unwrap_err();
        assert!(e.contains("service id"), "{e}");
    }
}
