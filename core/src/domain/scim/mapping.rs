//! SCIM users. A provisioned user is a Roster person user plus what the provider keeps beside
//! it (`scim_users`): its `userName` and its document — every attribute as it was sent. The
//! answer is that document with Roster's fields laid over it: where the document still says
//! what Roster holds (the same address, the same mobile number once normalised, the same
//! language, …) it is returned as sent; where Roster holds something else (changed in the
//! portal, pending confirmation, or not usable by Roster) Roster's value is shown.
//!
//! Mapping (RFC 7643): `userName` = the provider's (else the email address); `emails` primary
//! (else first) value = the email address (a new one applies at once and the old address is
//! told: the provider is the organization's directory); `name.givenName`, `name.familyName`; `displayName` = the
//! friendly name; the first `phoneNumbers` entry typed `mobile` (or untyped) that is a valid
//! number = the mobile phone (other numbers stay provider data); `preferredLanguage` (en, nl,
//! sv; else the account's language); `userType` Administrator or not; `active` = not disabled
//! (an invited user is active: they may still accept); `externalId` (unique per account);
//! `groups` (read-only) = the user's unit when it is below the token's node. Everything else
//! (the enterprise extension, addresses, title, …) is the provider's, returned as sent.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{ENTERPRISE, ROSTER_EXT, USER_SCHEMA, field, text, ts};
use crate::domain::user::{ProfileInput, UserDetail};
use crate::error::{Error, Result};
use crate::model::{Email, Lang, UserStatus, UserType, phone};
use crate::store::node::NodeRow;

/// A provider's document for one user is at most this long (JSON text).
pub(super) const DOCUMENT_MAX: usize = 32 * 1024;

/// Attributes of a body that are not the provider's data: Roster sets them, keeps them
/// elsewhere, or ignores them (a password: users set their own).
pub(super) const NOT_KEPT: [&str; 8] = [
    "schemas",
    "id",
    "meta",
    "password",
    "groups",
    "externalId",
    "userName",
    ROSTER_EXT,
];

/// What the provider keeps beside a user.
#[derive(Debug, Clone)]
pub struct Provided {
    pub user_name: String,
    pub document: Value,
}

/// Everything besides the user that its SCIM representation needs.
pub struct Shown<'a> {
    pub provided: Option<&'a Provided>,
    pub external_id: Option<&'a str>,
    /// The account's language and country (what an absent language means; how a national
    /// number is read).
    pub default_lang: &'a str,
    pub country: &'a str,
    /// The user's unit, when it is a group of the token (below the token's node).
    pub group: Option<(Uuid, &'a str)>,
    pub base: &'a str,
}

/// Sets (Some) or removes (None) an attribute, its name compared without case.
pub(super) fn put(o: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    let key = o
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string());
    match value {
        Some(v) => {
            o.insert(key, v);
        }
        None => {
            o.remove(&key);
        }
    }
}

pub(super) fn nonempty(s: &str) -> Option<Value> {
    (!s.is_empty()).then(|| json!(s))
}

/// The address a document names: the primary `emails` value, else the first.
pub(super) fn email_of(doc: &Value) -> String {
    let Some(list) = field(doc, "emails").and_then(Value::as_array) else {
        return String::new();
    };
    list.iter()
        .find(|e| field(e, "primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| list.first())
        .map(|e| text(e, &["value"]).trim().to_lowercase())
        .unwrap_or_default()
}

/// A `phoneNumbers` entry Roster may take as the mobile number: typed `mobile`, or untyped.
pub(super) fn mobile_candidate(entry: &Value) -> bool {
    let t = text(entry, &["type"]);
    t.is_empty() || t.eq_ignore_ascii_case("mobile")
}

/// The mobile number a document names, in E.164: the first candidate that is a valid number
/// (national numbers read in `country`); "" when there is none.
pub(super) fn mobile_of(doc: &Value, country: &str) -> String {
    let Some(list) = field(doc, "phoneNumbers").and_then(Value::as_array) else {
        return String::new();
    };
    list.iter()
        .filter(|e| mobile_candidate(e))
        .find_map(|e| {
            let v = text(e, &["value"]);
            let v = v.trim();
            let v = v.strip_prefix("tel:").unwrap_or(v);
            phone::parse_phone("phoneNumbers", country, v)
                .ok()
                .flatten()
        })
        .unwrap_or_default()
}

/// `true`/`false`, also as the strings some providers send.
pub(super) fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A user as SCIM shows it.
pub fn user_json(d: &UserDetail, s: &Shown) -> Value {
    let provided = s.provided.is_some();
    let doc = s
        .provided
        .map(|p| p.document.clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let mut o = doc.as_object().cloned().unwrap_or_default();
    let formatted = format!("{} {}", d.first_name, d.last_name)
        .trim()
        .to_string();

    let names_kept = text(&doc, &["name", "givenName"]).trim() == d.first_name
        && text(&doc, &["name", "familyName"]).trim() == d.last_name;
    if !(provided && names_kept) {
        let mut name = field(&doc, "name")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        put(&mut name, "givenName", nonempty(&d.first_name));
        put(&mut name, "familyName", nonempty(&d.last_name));
        put(&mut name, "formatted", nonempty(&formatted));
        put(
            &mut o,
            "name",
            (!name.is_empty()).then_some(Value::Object(name)),
        );
    }

    if !(provided && text(&doc, &["displayName"]).trim() == d.friendly_name) {
        let shown = if !d.friendly_name.is_empty() {
            nonempty(&d.friendly_name)
        } else if !provided {
            nonempty(&formatted)
        } else {
            None
        };
        put(&mut o, "displayName", shown);
    }

    if !(provided && email_of(&doc) == d.email) {
        put(
            &mut o,
            "emails",
            Some(json!([{"value": d.email, "type": "work", "primary": true}])),
        );
    }

    if !(provided && mobile_of(&doc, s.country) == d.phone) {
        let mut list: Vec<Value> = field(&doc, "phoneNumbers")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter(|e| !mobile_candidate(e)).cloned().collect())
            .unwrap_or_default();
        if !d.phone.is_empty() {
            let mut entry = json!({"value": d.phone, "type": "mobile"});
            if list.is_empty() {
                entry["primary"] = json!(true);
            }
            list.insert(0, entry);
        }
        put(
            &mut o,
            "phoneNumbers",
            (!list.is_empty()).then_some(Value::Array(list)),
        );
    }

    let lang = text(&doc, &["preferredLanguage"]);
    let lang_kept = match Lang::parse(&lang) {
        Some(l) => l.code() == d.language,
        None => lang.is_empty() && d.language == s.default_lang,
    };
    if !(provided && lang_kept) {
        put(&mut o, "preferredLanguage", nonempty(&d.language));
    }

    let admin = d.user_type == UserType::Administrator;
    if !(provided && text(&doc, &["userType"]).eq_ignore_ascii_case("administrator") == admin) {
        put(
            &mut o,
            "userType",
            Some(json!(if admin { "Administrator" } else { "User" })),
        );
    }

    let active = d.status != UserStatus::Disabled;
    let sent = field(&doc, "active");
    let active_kept = match sent {
        None => active,
        Some(Value::Bool(b)) => *b == active,
        Some(_) => false,
    };
    if !(provided && active_kept) {
        put(&mut o, "active", Some(json!(active)));
    }

    let user_name = s
        .provided
        .map_or(d.email.as_str(), |p| p.user_name.as_str());
    put(&mut o, "userName", Some(json!(user_name)));
    put(&mut o, "externalId", s.external_id.map(|e| json!(e)));
    put(
        &mut o,
        "groups",
        s.group.map(|(id, name)| {
            json!([{"value": id.to_string(), "$ref": format!("{}/Groups/{id}", s.base),
                    "display": name, "type": "direct"}])
        }),
    );
    let mut schemas = vec![json!(USER_SCHEMA)];
    match field(&doc, ENTERPRISE).and_then(Value::as_object) {
        Some(ext) if !ext.is_empty() => schemas.push(json!(ENTERPRISE)),
        _ => put(&mut o, ENTERPRISE, None),
    }
    o.insert("schemas".into(), Value::Array(schemas));
    o.insert("id".into(), json!(d.id.0.to_string()));
    o.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": ts(d.created_at),
            "lastModified": ts(d.updated_at),
            "version": format!("W/\"v{}\"", d.version),
            "location": format!("{}/Users/{}", s.base, d.id.0),
        }),
    );
    Value::Object(o)
}

/// The country a user's national numbers are read in: theirs, else the account's.
pub(super) fn country_of<'a>(d: &'a UserDetail, account: &'a NodeRow) -> &'a str {
    if d.country_code.is_empty() {
        &account.default_country
    } else {
        &d.country_code
    }
}

/// A User body as a provider sends it (create and replace).
#[derive(Debug, Clone, Default)]
pub struct ScimUserInput {
    pub user_name: String,
    /// The primary (else first) `emails` value; without `emails`, a `userName` that is an
    /// address.
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub language: String,
    pub administrator: bool,
    pub active: bool,
    pub external_id: Option<String>,
    pub invite: bool,
    /// What Roster keeps as the provider's: the body without the attributes in `NOT_KEPT`.
    pub document: Value,
}

impl ScimUserInput {
    /// Reads a SCIM User body; `userName` is required (RFC 7643 §4.1.1), and an address
    /// (`emails`) as Roster's users sign in with one.
    pub fn from_json(v: &Value) -> Result<ScimUserInput> {
        let Some(body) = v.as_object() else {
            return Err(Error::field("userName", "field-required"));
        };
        let user_name = text(v, &["userName"]).trim().to_string();
        if user_name.is_empty() {
            return Err(Error::field("userName", "field-required"));
        }
        let mut email = email_of(v);
        if email.is_empty() && user_name.contains('@') {
            email = user_name.to_lowercase();
        }
        if email.is_empty() {
            return Err(Error::field("emails", "field-required"));
        }
        // Checked here, so a bad address changes nothing (a PUT or PATCH applies it last).
        let email = Email::parse("emails", &email)?.as_str().to_string();
        let document: Map<String, Value> = body
            .iter()
            .filter(|(k, _)| !NOT_KEPT.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let document = Value::Object(document);
        if document.to_string().len() > DOCUMENT_MAX {
            return Err(Error::field("attributes", "scim-document-too-large"));
        }
        Ok(ScimUserInput {
            user_name,
            email,
            given_name: text(v, &["name", "givenName"]),
            family_name: text(v, &["name", "familyName"]),
            display_name: text(v, &["displayName"]),
            language: text(v, &["preferredLanguage"]),
            administrator: text(v, &["userType"]).eq_ignore_ascii_case("administrator"),
            active: flag(field(v, "active")).unwrap_or(true),
            external_id: Some(text(v, &["externalId"])).filter(|e| !e.is_empty()),
            invite: flag(field(v, ROSTER_EXT).and_then(|e| field(e, "sendInvitation")))
                .unwrap_or(true),
            document,
        })
    }

    /// Roster's profile fields; `phone` is the mobile number already in E.164.
    pub(super) fn profile(&self, default_lang: &str, phone: &str) -> ProfileInput {
        let language = Lang::parse(&self.language)
            .map(Lang::code)
            .unwrap_or(default_lang);
        ProfileInput {
            first_name: self.given_name.clone(),
            last_name: self.family_name.clone(),
            user_type: if self.administrator {
                "administrator"
            } else {
                "user"
            }
            .into(),
            language: language.into(),
            phone_number: phone.into(),
            ..Default::default()
        }
    }
}
