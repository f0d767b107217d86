//! The settings sections of the services: "SMS Settings" and "Fax Coverpage" on the Account tab
//! (the standard settings new users get), the same on a unit's page (what the unit overrides
//! for everything below it), and "SMS settings"/"Fax settings" on a user's page. Every value
//! says where it comes from and offers "Use the inherited value".

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::service::{self, Level, Resolved, ServiceSettings, Source};
use roster_core::model::{Lang, NodeId, UserId};
use roster_core::services::{Kind, Service};
use roster_core::{Error, Result, i18n};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::extract::CsrfForm;
use crate::page::{Fields, PageError, redirect, safe_next};
use crate::state::AppState;

/// One value on a settings form.
pub struct SettingField {
    pub id: String,
    pub label: String,
    pub help: String,
    /// `text`, `textarea`, `number`, `onoff`, `choice`, `tel`, `email`.
    pub input: &'static str,
    pub value: String,
    pub min: i64,
    pub max: i64,
    pub maxlength: usize,
    /// The choices: (value, its name in the reader's language).
    pub choices: Vec<(String, String)>,
    /// A country pick list: (ISO code, name in the reader's language).
    pub countries: Vec<(String, String)>,
    /// Where the value comes from, in words.
    pub source: String,
    pub set_here: bool,
    /// The value "Use the inherited value" gives, and where it comes from.
    pub inherited: String,
    pub inherited_source: String,
}

/// One service's settings section.
pub struct SettingsCard {
    pub service: String,
    pub title: String,
    pub intro: String,
    pub action: String,
    pub back: String,
    pub version: i64,
    pub fields: Vec<SettingField>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "on".into(),
        Value::Bool(false) => "off".into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn source_words(lang: Lang, s: &Source) -> String {
    match s {
        Source::User => i18n::t(lang, "settings-from-user"),
        Source::Node { name, kind, .. } if kind == "unit" => {
            i18n::t_args(lang, "settings-from-unit", &[("unit", name.clone().into())])
        }
        Source::Node { .. } => i18n::t(lang, "settings-from-account"),
        Source::Default => i18n::t(lang, "settings-from-default"),
    }
}

/// A choice's name where Roster has one (`settings-choice-<value>`), else the value itself.
fn choice_names(lang: Lang, choices: &[String]) -> Vec<(String, String)> {
    choices
        .iter()
        .map(|c| {
            let key = format!("settings-choice-{c}");
            let name = i18n::t(lang, &key);
            (c.clone(), if name == key { c.clone() } else { name })
        })
        .collect()
}

fn field(lang: Lang, service: &Service, r: &Resolved) -> Option<SettingField> {
    let d = service.setting(r.id)?;
    let (input, min, max, maxlength, choices) = match &d.kind {
        // A longer text, or one holding a line break, in a box that keeps its lines.
        Kind::Text { max } if *max > 200 || text_of(&r.value).contains('\n') => {
            ("textarea", 0, 0, *max, vec![])
        }
        Kind::Text { max } => ("text", 0, 0, *max, vec![]),
        Kind::Integer { min, max } => ("number", *min, *max, 0, vec![]),
        Kind::Boolean => ("onoff", 0, 0, 0, vec![]),
        Kind::Choice(c) => ("choice", 0, 0, 0, choice_names(lang, c)),
        Kind::Phone => ("tel", 0, 0, 32, vec![]),
        Kind::Email => ("email", 0, 0, 254, vec![]),
        Kind::SenderId => ("text", 0, 0, 16, vec![]),
        Kind::Country => ("country", 0, 0, 2, vec![]),
    };
    let countries = if input == "country" {
        crate::page::country_options(lang)
    } else {
        vec![]
    };
    Some(SettingField {
        id: d.id.into(),
        label: d.label.get(lang).into(),
        help: d.help.get(lang).into(),
        input,
        value: text_of(&r.value),
        min,
        max,
        maxlength,
        choices,
        countries,
        source: if r.set_here() {
            i18n::t(lang, "settings-set-here")
        } else {
            source_words(lang, &r.source)
        },
        set_here: r.set_here(),
        inherited: text_of(&r.inherited),
        inherited_source: source_words(lang, &r.inherited_from),
    })
}

fn card(
    lang: Lang,
    service: &Service,
    s: ServiceSettings,
    place: &str,
    action: String,
    back: &str,
) -> SettingsCard {
    let name = service.name.get(lang).to_string();
    // The account's sections in the words customers know: "SMS Settings", "Fax Coverpage".
    let title_key = format!("settings-title-{place}-{}", service.id);
    let title = match i18n::t(lang, &title_key) {
        t if t != title_key => t,
        _ => i18n::t_args(lang, "settings-title", &[("service", name.into())]),
    };
    SettingsCard {
        service: service.id.into(),
        title,
        intro: i18n::t(lang, &format!("settings-intro-{place}")),
        action,
        back: back.into(),
        version: s.version,
        fields: s
            .values
            .iter()
            .filter_map(|r| field(lang, service, r))
            .collect(),
    }
}

/// The sections of a level, from one read: an account's or unit's (`place` `account` or
/// `unit`), one per service, or a user's (`user`), one per service they have.
pub async fn cards(
    state: &AppState,
    actor: &Actor,
    level: Level,
    place: &str,
    back: &str,
) -> Result<Vec<SettingsCard>> {
    let at = service::settings_at(&state.ctx, actor, level).await?;
    let path = match level {
        Level::Node(n) => format!("/nodes/{}", n.0),
        Level::User(u) => format!("/users/{}", u.0),
    };
    Ok(at
        .into_iter()
        .filter_map(|s| {
            let svc = service_in(state, s.service)?;
            let action = format!("{path}/settings/{}", svc.id);
            Some(card(actor.lang, svc, s, place, action, back))
        })
        .collect())
}

/// What a posted section changes: a value that differs from what applies, or one this level
/// already sets; "Use the inherited value" takes this level's own value away. A value left as
/// it was inherited stays inherited (the form never copies inherited values down).
fn changes_of(service: &Service, now: &ServiceSettings, f: &Fields) -> Map<String, Value> {
    let mut out = Map::new();
    let inherit = f.all("inherit");
    let plain = |s: &str| s.replace("\r\n", "\n").trim().to_string();
    for r in &now.values {
        let Some(d) = service.setting(r.id) else {
            continue;
        };
        if inherit.iter().any(|i| i == d.id) {
            if r.set_here() {
                out.insert(d.id.into(), Value::Null);
            }
            continue;
        }
        let key = format!("value:{}", d.id);
        if !f.flag(&key) {
            continue;
        }
        let sent = f.get(&key);
        // Compared with what the page showed: an inherited value left alone stays inherited,
        // also when the level above changed it meanwhile.
        let shown = if f.flag(&format!("shown:{}", d.id)) {
            f.get(&format!("shown:{}", d.id))
        } else {
            text_of(&r.value)
        };
        if r.set_here() || plain(&sent) != plain(&shown) {
            out.insert(d.id.into(), Value::String(sent));
        }
    }
    out
}

fn keys_ok(service: &Service, f: &Fields) -> bool {
    let values: Vec<String> = service
        .settings
        .iter()
        .flat_map(|d| [format!("value:{}", d.id), format!("shown:{}", d.id)])
        .collect();
    let mut single: Vec<&str> = values.iter().map(String::as_str).collect();
    single.extend(["version", "back"]);
    f.all("inherit").len() <= service.settings.len() && f.check(&single, &["inherit"])
}

/// A refused value, named by its label in the reader's language.
fn refused(lang: Lang, service: &Service, e: Error) -> Response {
    match e {
        Error::Invalid(list) => {
            let words: Vec<String> = list
                .iter()
                .map(|p| {
                    let label = service
                        .setting(p.field)
                        .map(|d| d.label.get(lang).to_string())
                        .unwrap_or_else(|| p.field.to_string());
                    format!("{label}: {}", i18n::t(lang, p.code))
                })
                .collect();
            let mut page = PageError::from_core(Error::Invalid(list), lang, None);
            page.set_message(words.join(" "));
            page.into_response()
        }
        other => PageError::from_core(other, lang, None).into_response(),
    }
}

fn service_in<'s>(state: &'s AppState, id: &str) -> Option<&'s Service> {
    state.ctx.settings.catalog.service(id)
}

/// A posted section: read what applies now, change what the form changed, go back.
async fn save(
    state: &AppState,
    actor: &roster_core::domain::Actor,
    f: &Fields,
    (id, service): (&str, &str),
    level: fn(Uuid) -> Level,
    done: impl Fn(Uuid, &str) -> String,
) -> Response {
    let lang = actor.lang;
    let (Ok(id), Some(svc)) = (Uuid::try_parse(id), service_in(state, service)) else {
        return PageError::from_core(Error::NotFound, lang, None).into_response();
    };
    if !keys_ok(svc, f) {
        return crate::page::bad_form(lang);
    }
    let now = match service::service_settings_at(&state.ctx, actor, level(id), svc.id).await {
        Ok(s) => s,
        Err(e) => return refused(lang, svc, e),
    };
    let version = f.get("version").parse::<i64>().unwrap_or(-1);
    let changes = changes_of(svc, &now, f);
    match service::set_settings_at(
        &state.ctx,
        actor,
        level(id),
        svc.id,
        Some(version),
        &changes,
    )
    .await
    {
        Ok(()) => redirect(&done(id, svc.id)),
        Err(e) => refused(lang, svc, e),
    }
}

pub async fn set_node_settings(
    State(state): State<AppState>,
    Path((id, service)): Path<(String, String)>,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    let back = safe_next(&f.get("back")).to_string();
    let join = if back.contains('?') { '&' } else { '?' };
    let level = |id| Level::Node(NodeId(id));
    save(&state, &actor, &f, (&id, &service), level, |_, svc| {
        format!("{back}{join}saved=settings#settings-{svc}")
    })
    .await
}

pub async fn set_user_settings(
    State(state): State<AppState>,
    Path((id, service)): Path<(String, String)>,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    let level = |id| Level::User(UserId(id));
    save(&state, &actor, &f, (&id, &service), level, |id, svc| {
        format!("/users/{id}?saved=service-settings#settings-{svc}")
    })
    .await
}
