//! Static assets, compiled into the binary: no CDN, no build step.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "roster.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/roster.css"),
    ),
    (
        "roster.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/roster.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/htmx.min.js"),
    ),
    (
        "htmx-sse.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/htmx-sse.min.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../static/favicon.svg"),
    ),
    (
        "favicon.ico",
        "image/x-icon",
        include_bytes!("../static/favicon.ico"),
    ),
];

/// `/favicon.ico`, which browsers ask for whatever the page names.
pub async fn serve_favicon() -> Response {
    serve_asset(Path("favicon.ico".to_string())).await
}

pub async fn serve_asset(Path(name): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = (*bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}
