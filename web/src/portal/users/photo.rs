//! The user's photo: upload (multipart, CSRF-checked), removal, and serving it safely.

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::user::{self, MAX_PHOTO_BYTES};
use roster_core::model::UserId;

use super::page::{Rejected, rejected};
use super::sections::EmptyForm;
use crate::extract::{CsrfForm, CurrentActor, UserPath, csrf_matches};
use crate::page::{PageError, redirect};
use crate::state::AppState;

pub async fn upload_photo(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    UserPath(id): UserPath,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let (mut token, mut bytes) = (None, None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(b) if name == "csrf" => {
                        token = Some(String::from_utf8_lossy(&b).to_string())
                    }
                    Ok(b) if name == "photo" => bytes = Some(b.to_vec()),
                    Ok(_) => return crate::page::bad_form(actor.lang),
                    Err(_) => return too_large(&state, &actor, id).await,
                }
            }
            Ok(None) => break,
            Err(_) => return too_large(&state, &actor, id).await,
        }
    }
    if !csrf_matches(&headers, &state, &actor.csrf_token, token.as_deref()) {
        return PageError::new(
            axum::http::StatusCode::FORBIDDEN,
            "error-csrf",
            actor.lang,
            None,
        )
        .into_response();
    }
    let bytes = bytes.unwrap_or_default();
    let result = if bytes.is_empty() {
        Err(Error::field("photo", "photo-not-image"))
    } else {
        user::set_photo(&state.ctx, &actor, id, bytes).await
    };
    match result {
        Ok(()) => redirect(&format!("/users/{id}?saved=photo#photo")),
        Err(e) => match Rejected::from_error("photo", None, e) {
            Ok((status, r)) => rejected(&state, &actor, id, status, r).await,
            Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
        },
    }
}

async fn too_large(state: &AppState, actor: &roster_core::domain::Actor, id: UserId) -> Response {
    let r = Rejected {
        section: "photo",
        values: None,
        errors: vec![roster_core::FieldError {
            field: "photo",
            code: "photo-too-large",
        }],
        problem: None,
    };
    rejected(
        state,
        actor,
        id,
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        r,
    )
    .await
}

pub async fn remove_photo(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    match user::remove_photo(&state.ctx, &actor, id).await {
        Ok(()) => redirect(&format!("/users/{id}?saved=photo#photo")),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// Serves a photo as an image that can never be rendered as a page.
pub async fn serve_photo(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    UserPath(id): UserPath,
) -> Response {
    match user::get_photo(&state.ctx, &actor, id).await {
        Ok(photo) => {
            let mut res = photo.bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"photo.webp\""),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            h.insert(
                "content-security-policy",
                HeaderValue::from_static("sandbox; default-src 'none'"),
            );
            res
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// The largest request body the photo route reads (the photo plus the form around it).
pub const PHOTO_BODY_LIMIT: usize = MAX_PHOTO_BYTES + 64 * 1024;
