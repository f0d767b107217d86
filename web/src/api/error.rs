//! The one error body of the API (docs/API.md): a stable code, its text in the caller's
//! language, and for 422 every field with its problem.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::model::Lang;
use roster_core::model::log_safe;
use roster_core::{Error, i18n};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The stable code (the portal's message id), e.g. `error-invalid`.
    pub code: String,
    /// The code's text in the caller's language.
    pub message: String,
    /// Each field with its problem (422, and a 409 that a field's value causes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An error answer, in a language.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub lang: Lang,
    pub fields: Vec<roster_core::FieldError>,
    pub retry_after: Option<i64>,
    /// The line of a refused CSV file.
    pub line: Option<usize>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, lang: Lang) -> ApiError {
        ApiError {
            status,
            code,
            lang,
            fields: vec![],
            retry_after: None,
            line: None,
        }
    }

    pub fn from_core(e: Error, lang: Lang) -> ApiError {
        let (status, code) = match &e {
            Error::NotFound => (StatusCode::NOT_FOUND, e.code()),
            Error::Forbidden => (StatusCode::FORBIDDEN, e.code()),
            Error::Invalid(fields) => (status_of(fields), e.code()),
            Error::Conflict(_) => (StatusCode::CONFLICT, e.code()),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, e.code()),
            Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, e.code()),
            Error::Internal(detail) => {
                tracing::error!(error = %log_safe(detail), "internal error (API)");
                (StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
            }
        };
        let mut out = ApiError::new(status, code, lang);
        match e {
            Error::Invalid(fields) => {
                out.fields = fields
                    .into_iter()
                    .map(|f| roster_core::FieldError {
                        field: api_field(f.field),
                        code: f.code,
                    })
                    .collect();
            }
            Error::RateLimited { retry_after_secs } => out.retry_after = Some(retry_after_secs),
            _ => {}
        }
        out
    }
}

/// Field problems that are about stored data, not about the request: an id or address in the
/// body that names nothing the caller can see, a taken name or address, a place a unit or user
/// cannot go, a setting that the record's other settings rule out. They answer 409 (the fields
/// named); only a request that is wrong in itself answers 422.
const CLASHES: &[&str] = &[
    "field-unit-unknown",
    "access-user-not-found",
    "error-not-found",
    "error-email-taken",
    "error-email-unavailable",
    "error-login-taken",
    "email-unchanged",
    "unit-name-taken",
    "unit-needs-account",
    "unit-target-invalid",
    "move-target-invalid",
    "token-outlives-parent",
    "invoices-need-administrator",
    "notify-channel-required",
    "notify-sms-needs-phone",
    "system-not-administrator",
    "access-target-administers",
    "access-not-self",
    "api-field-not-for-kind",
    "setting-service-not-held",
    "alias-exists",
    "alias-too-many",
    "alias-is-sign-in",
    "alias-taken",
    "alias-unavailable",
    "number-exists",
    "number-too-many",
    "number-taken",
    "number-unavailable",
    "token-lookup-system-only",
    "token-lookup-by-administrator",
    "public-domain-not-yours",
    "public-taken",
    "public-unavailable",
    "public-too-many",
    "book-too-many",
    "book-full",
    "book-needs-account",
];

/// 409 when every problem is a clash with stored data, else 422.
fn status_of(fields: &[roster_core::FieldError]) -> StatusCode {
    if !fields.is_empty() && fields.iter().all(|f| CLASHES.contains(&f.code)) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// The API's name of a field the domain names after the portal's forms.
fn api_field(field: &'static str) -> &'static str {
    match field {
        "phone_number" => "phone",
        "node" => "node_id",
        "parent" => "parent_id",
        "notify" => "notifications_enabled",
        other => other,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let lang = self.lang;
        let message = match (self.retry_after, self.line) {
            (Some(secs), _) => i18n::t_args(lang, self.code, &[("seconds", secs.into())]),
            (None, Some(line)) => i18n::t_args(lang, self.code, &[("line", line.into())]),
            (None, None) => i18n::t(lang, self.code),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message,
                fields: self
                    .fields
                    .iter()
                    .map(|f| FieldProblem {
                        field: f.field.to_string(),
                        code: f.code.to_string(),
                        message: i18n::t(lang, f.code),
                    })
                    .collect(),
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"roster\""),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
