//! A JSON client for the API and SCIM tests.

use reqwest::Method;
use serde_json::Value;

use super::TestServer;

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The API error body's code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// One call; `auth` is the whole `Authorization` value ("" sends none); a body is sent with
/// `content_type`.
pub async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    auth: &str,
    body: Option<(Value, &str)>,
    headers: &[(&str, &str)],
) -> Answer {
    roster_core::outbox::install_tls_provider();
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.url));
    if !auth.is_empty() {
        req = req.header("authorization", auth);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some((b, content_type)) = body {
        req = req.header("content-type", content_type).body(b.to_string());
    }
    let res = req.send().await.expect("call");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}
