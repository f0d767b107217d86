//! The id of one request: made by the first layer (`middleware::trace_request`), written in
//! its log line and shown on error pages so that a person can quote it.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl RequestId {
    /// The request's id, if the first layer gave it one.
    pub fn of(parts: &Parts) -> Option<RequestId> {
        parts.extensions.get::<RequestId>().cloned()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(RequestId::of(parts).unwrap_or(RequestId(String::new())))
    }
}
