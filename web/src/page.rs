//! What every page shares: translations, the frame (top bar, language selector, CSRF token),
//! form errors, rendering, redirects and the error page.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::i18n;
use roster_core::model::Lang;
use roster_core::model::country::countries;
use roster_core::model::log_safe;
use roster_core::{Error, FieldError};

use crate::extract::RequestId;

/// Translations for one page, callable from templates: `{{ t.get("nav-users") }}`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn get(&self, id: &str) -> String {
        i18n::t(self.0, id)
    }

    /// A text with one argument: `{{ t.with("signed-in-as", "name", name) }}`.
    pub fn with(&self, id: &str, name: &str, value: impl std::fmt::Display) -> String {
        i18n::t_args(self.0, id, &[(name, value.to_string().into())])
    }

    /// A whole number as the language writes it (`12,345`, `12.345`, `12 345`).
    pub fn number(&self, n: &i64) -> String {
        self.0.number(*n)
    }
}

#[derive(Clone, Debug)]
pub struct LangOption {
    pub code: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

/// The signed-in part of the top bar.
#[derive(Clone, Debug)]
pub struct Nav {
    pub name: String,
    pub is_admin: bool,
    pub is_operator: bool,
}

/// The page frame: language, top bar, CSRF token for the forms in it.
#[derive(Clone, Debug)]
pub struct Frame {
    pub t: Tr,
    pub lang: &'static str,
    pub csrf: String,
    pub nav: Option<Nav>,
    /// The tab to mark as current: "devices", "users", "account", "management" or "".
    pub tab: &'static str,
    pub languages: Vec<LangOption>,
    /// Where the language selector returns to.
    pub here: String,
}

impl Frame {
    pub fn new(lang: Lang, csrf: String, here: &str) -> Frame {
        Frame {
            t: Tr(lang),
            lang: lang.code(),
            csrf,
            nav: None,
            tab: "",
            languages: Lang::ALL
                .iter()
                .map(|l| LangOption {
                    code: l.code(),
                    name: l.native_name(),
                    selected: *l == lang,
                })
                .collect(),
            here: here.to_string(),
        }
    }

    /// The frame of a signed-in page on tab `tab`.
    pub fn signed_in(actor: &Actor, tab: &'static str) -> Frame {
        let mut f = Frame::new(actor.lang, actor.csrf_token.clone(), &format!("/{tab}"));
        f.nav = Some(Nav {
            name: actor.display_name.clone(),
            is_admin: actor.is_administrator(),
            is_operator: actor.is_operator(),
        });
        f.tab = tab;
        f
    }
}

/// Field errors of a form, translated, looked up by field name from templates.
#[derive(Clone, Debug, Default)]
pub struct FormErrors {
    pub lang: Lang,
    pub list: Vec<FieldError>,
}

impl FormErrors {
    pub fn new(lang: Lang, list: Vec<FieldError>) -> FormErrors {
        FormErrors { lang, list }
    }

    /// The translated message for `field`, or "" when it has none.
    pub fn of(&self, field: &str) -> String {
        self.list
            .iter()
            .filter(|e| e.field == field)
            .map(|e| i18n::t(self.lang, e.code))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn any(&self) -> bool {
        !self.list.is_empty()
    }
}

/// Renders a template as an HTML response with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %log_safe(&e.to_string()), "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `303 See Other` to a path of this site.
pub fn redirect(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `next` when it is a plain path of this site; `/` for anything that could leave it.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    if ok { next } else { "/" }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    message: String,
    request_id: String,
}

/// An error shown as a page, in the user's language, with the request id for support.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    lang: Lang,
    request_id: Option<RequestId>,
    /// Seconds to wait, sent as `Retry-After` with a 429.
    retry_after: Option<i64>,
}

impl PageError {
    pub fn new(
        status: StatusCode,
        code: &str,
        lang: Lang,
        request_id: Option<RequestId>,
    ) -> PageError {
        PageError {
            status,
            message: i18n::t(lang, code),
            lang,
            request_id,
            retry_after: None,
        }
    }

    pub fn from_core(e: Error, lang: Lang, request_id: Option<RequestId>) -> PageError {
        let status = match &e {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Internal(detail) => {
                let id = request_id.as_ref().map(|r| r.0.as_str()).unwrap_or("");
                tracing::error!(request_id = id, error = %log_safe(detail), "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut page = PageError::new(status, e.code(), lang, request_id);
        if let Error::RateLimited { retry_after_secs } = e {
            page.message = i18n::t_args(
                lang,
                "error-rate-limited",
                &[("seconds", retry_after_secs.into())],
            );
            page.retry_after = Some(retry_after_secs);
        }
        page
    }
}

impl PageError {
    /// Replaces the message with a composed one (already translated).
    pub fn set_message(&mut self, message: String) {
        self.message = message;
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            frame: Frame::new(self.lang, String::new(), "/"),
            message: self.message,
            request_id: self.request_id.map(|r| r.0).unwrap_or_default(),
        };
        let mut res = render(self.status, &page);
        if let Some(secs) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_never_leaves_the_site() {
        for bad in [
            "//evil.test",
            "https://evil.test",
            "/\\evil.test",
            "javascript:x",
            "",
            "evil",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
        assert_eq!(safe_next("/users?page=2"), "/users?page=2");
    }
}

/// A posted form as its list of fields, for forms with repeated keys (checkbox groups).
/// Unknown keys, and repeats of single-valued keys, are refused by `check`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// A checkbox: present means ticked.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// True when every key is one of `single` (at most once) or `multi` (any number of times).
    pub fn check(&self, single: &[&str], multi: &[&str]) -> bool {
        self.0.iter().all(|(k, _)| {
            multi.contains(&k.as_str())
                || (single.contains(&k.as_str())
                    && self.0.iter().filter(|(k2, _)| k2 == k).count() == 1)
        })
    }
}

/// A 400 page for a form with fields Roster does not know (mass assignment is refused).
pub fn bad_form(lang: Lang) -> Response {
    PageError::new(StatusCode::BAD_REQUEST, "error-invalid", lang, None).into_response()
}

/// The configured services, by id, with their names in the reader's language.
pub fn service_options(state: &crate::state::AppState, lang: Lang) -> Vec<(String, String)> {
    state
        .ctx
        .settings
        .catalog
        .services
        .iter()
        .map(|s| (s.id.to_string(), s.name.get(lang).to_string()))
        .collect()
}

/// The country pick list in the reader's language and alphabet: (ISO code, "Sweden").
pub fn country_options(lang: Lang) -> Vec<(String, String)> {
    countries(lang)
        .iter()
        .map(|c| (c.iso.to_string(), c.name.to_string()))
        .collect()
}

/// The calling-code pick list in the reader's language and alphabet: (ISO code, "Sweden +46"),
/// so that typing a country's first letters finds it.
pub fn calling_code_options(lang: Lang) -> Vec<(String, String)> {
    countries(lang)
        .iter()
        .map(|c| (c.iso.to_string(), format!("{} +{}", c.name, c.calling_code)))
        .collect()
}

/// A CSV download.
pub fn csv_response(text: String, file: &str) -> Response {
    use axum::http::{HeaderValue, header};
    let mut res = (StatusCode::OK, text).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
