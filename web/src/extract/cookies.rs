//! Reading the `Cookie` header and writing `Set-Cookie` values.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::state::AppState;

/// The value of cookie `name`, if the request carries it.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// How long a cookie lives in the browser.
pub enum Life {
    /// Until the browser closes.
    Browser,
    Seconds(i64),
}

/// A `Set-Cookie` value: always `Path=/`, no `Domain`; `Secure` behind TLS.
pub fn set(
    state: &AppState,
    name: &str,
    value: &str,
    life: Life,
    http_only: bool,
    same_site: &str,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; SameSite={same_site}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if state.is_tls() {
        c.push_str("; Secure");
    }
    if let Life::Seconds(s) = life {
        c.push_str(&format!("; Max-Age={s}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn expire(state: &AppState, name: &str) -> HeaderValue {
    set(state, name, "", Life::Seconds(0), true, "Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; roster=abc"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(get(&h, "roster").as_deref(), Some("abc"));
        assert_eq!(get(&h, "b").as_deref(), Some("2"));
        assert_eq!(get(&h, "ros"), None);
    }
}
