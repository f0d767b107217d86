//! The one error type of Roster. Each variant and each field error carries a stable code that
//! is also its Fluent message id, so every surface names the problem in the user's language.

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem with one input field: `field` is the form/API name, `code` the message id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// A unique key taken or a stale version; the code says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    /// Credentials wrong or missing; the code says which message to show.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn field(field: &'static str, code: &'static str) -> Error {
        Error::Invalid(vec![FieldError { field, code }])
    }

    pub fn internal(what: impl std::fmt::Display) -> Error {
        Error::Internal(what.to_string())
    }

    /// The stable code, also the Fluent message id of the general message.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound => "error-not-found",
            Error::Forbidden => "error-forbidden",
            Error::Invalid(_) => "error-invalid",
            Error::Conflict(code) => code,
            Error::RateLimited { .. } => "error-rate-limited",
            Error::Unauthenticated(code) => code,
            Error::Internal(_) => "error-internal",
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match &e {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict("error-taken"),
            _ => Error::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Error {
        Error::Internal(e.to_string())
    }
}

/// Collects field errors while a form is checked, then fails once with all of them.
#[derive(Default, Debug)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &'static str, code: &'static str) {
        self.0.push(FieldError { field, code });
    }

    /// Keeps the value when valid; records the field's problem otherwise.
    pub fn check<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(Error::Invalid(errors)) => {
                self.0.extend(errors);
                None
            }
            Err(other) => {
                self.0.push(FieldError {
                    field: "",
                    code: other.code(),
                });
                None
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
