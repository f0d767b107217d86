//! The RFC 7644 §3.12 error body, and how Roster's errors become it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::model::log_safe;
use roster_core::scim::patch::Fault;
use serde_json::json;

use super::{ERROR_SCHEMA, scim_response};

/// RFC 7644 §3.12 error body.
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    pub(super) fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub(super) fn from_core(e: Error) -> ScimError {
        let lang = roster_core::model::Lang::En;
        match e {
            Error::NotFound => ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found"),
            Error::Forbidden => ScimError::new(StatusCode::FORBIDDEN, None, "Not allowed"),
            Error::Invalid(fields) => {
                let detail = fields
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {}",
                            scim_name(f.field),
                            roster_core::i18n::t(lang, f.code)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if fields.iter().any(|f| f.code == "scim-too-many") {
                    return ScimError::new(StatusCode::BAD_REQUEST, Some("tooMany"), detail);
                }
                let taken = fields
                    .iter()
                    .any(|f| f.code.contains("taken") || f.code == "error-email-unavailable");
                if taken {
                    ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
                } else {
                    ScimError::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
                }
            }
            Error::Conflict("api-if-match-stale") => ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "The resource has changed",
            ),
            Error::Conflict(code) if code.contains("taken") => ScimError::new(
                StatusCode::CONFLICT,
                Some("uniqueness"),
                roster_core::i18n::t(lang, code),
            ),
            Error::Conflict(code) => {
                ScimError::new(StatusCode::CONFLICT, None, roster_core::i18n::t(lang, code))
            }
            Error::RateLimited { .. } => {
                ScimError::new(StatusCode::TOO_MANY_REQUESTS, None, "Too many requests")
            }
            Error::Unauthenticated(_) => {
                ScimError::new(StatusCode::UNAUTHORIZED, None, "Invalid credentials")
            }
            Error::Internal(detail) => {
                tracing::error!(error = %log_safe(&detail), "internal error (SCIM)");
                ScimError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "Internal error")
            }
        }
    }
}

/// The SCIM attribute a Roster field is shown as, for error details.
fn scim_name(field: &str) -> &str {
    match field {
        "first_name" => "name.givenName",
        "last_name" => "name.familyName",
        "friendly_name" | "name" => "displayName",
        "email" => "emails",
        "phone_number" | "phone_country" => "phoneNumbers",
        "language" => "preferredLanguage",
        "user_type" => "userType",
        other => other,
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        scim_response(self.status, self.body())
    }
}

impl From<Fault> for ScimError {
    fn from(f: Fault) -> ScimError {
        ScimError::new(StatusCode::BAD_REQUEST, Some(f.scim_type), f.detail)
    }
}

impl ScimError {
    /// The error as a `/Bulk` operation's `response`.
    pub(super) fn body(&self) -> serde_json::Value {
        let mut body = json!({"schemas": [ERROR_SCHEMA],
                              "status": self.status.as_u16().to_string(),
                              "detail": self.detail});
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        body
    }

    pub(super) fn status(&self) -> StatusCode {
        self.status
    }

    pub(super) fn not_found() -> ScimError {
        ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found")
    }
}
