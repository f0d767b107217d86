//! A browser-like HTTP client: its own cookie jar, no automatic redirects, CSRF from the page.

use std::net::IpAddr;

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn location(&self) -> String {
        self.header("location")
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client::build(base, None)
    }

    pub fn from_address(base: &str, ip: &str) -> Client {
        Client::build(base, Some(ip.parse().expect("ip")))
    }

    fn build(base: &str, local: Option<IpAddr>) -> Client {
        roster_core::outbox::install_tls_provider();
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let mut b = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ip) = local {
            b = b.local_address(ip);
        }
        Client {
            base: base.to_string(),
            http: b.build().expect("client"),
            jar,
        }
    }

    /// The session cookie's value in this client's jar ("" when none).
    pub fn session_cookie(&self) -> String {
        use reqwest::cookie::CookieStore as _;
        let url = self.base.parse().expect("base url");
        let header = self.jar.cookies(&url);
        let text = header.as_ref().and_then(|h| h.to_str().ok()).unwrap_or("");
        text.split("; ")
            .find_map(|c| c.strip_prefix("roster="))
            .unwrap_or("")
            .to_string()
    }

    /// Puts a session cookie into this client's jar (a stolen or an old one).
    pub fn set_session_cookie(&self, value: &str) {
        let url = self.base.parse().expect("base url");
        self.jar
            .add_cookie_str(&format!("roster={value}; Path=/"), &url);
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_url(&format!("{}{path}", self.base)).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        page(req.send().await.expect("GET")).await
    }

    pub async fn get_url(&self, url: &str) -> Page {
        page(self.http.get(url).send().await.expect("GET")).await
    }

    /// Posts a form with the CSRF token taken from `from_page` (as the browser would).
    pub async fn post_form(&self, path: &str, from_page: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = super::input_value(from_page, "csrf").unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[]).await
    }

    /// Posts exactly these fields and headers.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(fields);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        page(req.send().await.expect("POST")).await
    }

    /// Signs in through the sign-in page; returns the answer to the POST.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        let form = self.get("/signin").await;
        self.post_form(
            "/signin",
            &form.body,
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Posts the logout form of a signed-in page.
    pub async fn sign_out(&self) -> Page {
        let page = self.get("/devices").await;
        self.post_form("/signout", &page.body, &[]).await
    }
}

async fn page(res: reqwest::Response) -> Page {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.text().await.unwrap_or_default();
    Page {
        status,
        body,
        headers,
    }
}
