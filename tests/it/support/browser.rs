//! A small WebDriver client driving Debian's chromium through chromedriver, headless.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The window sizes screenshots are taken at: a laptop, and a phone held upright.
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver_url: String,
    driver: Child,
    profile: std::path::PathBuf,
}

#[derive(Clone, Debug)]
pub struct Element(String);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless chromium with a fresh profile.
    pub async fn start() -> Browser {
        let driver_bin = std::env::var("ROSTER_TEST_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium =
            std::env::var("ROSTER_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {driver_bin} (scripts/test installs chromium-driver): {e}")
            });
        let driver_url = format!("http://127.0.0.1:{port}");
        roster_core::outbox::install_tls_provider();
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{driver_url}/status")).send().await.ok();
            if ready.is_some_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = super::database::temp_dir("roster-chromium");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let res: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_string();
        Browser {
            http,
            session,
            driver_url,
            driver,
            profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver_url, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        res["value"].clone()
    }

    /// Adds chromium's virtual authenticator (WebDriver WebAuthn extension): a platform
    /// authenticator with user verification that says yes, for passkey tests.
    pub async fn add_virtual_authenticator(&self) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/webauthn/authenticator",
                Some(json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                    "isUserConsenting": true
                })),
            )
            .await;
        v.as_str()
            .unwrap_or_else(|| panic!("no virtual authenticator: {v}"))
            .to_string()
    }

    /// The credentials the virtual authenticator holds.
    pub async fn authenticator_credentials(&self, id: &str) -> usize {
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/webauthn/authenticator/{id}/credentials"),
                None,
            )
            .await;
        v.as_array().map(Vec::len).unwrap_or(0)
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    async fn try_find(&self, css: &str) -> Option<Element> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT_KEY].as_str().map(|id| Element(id.to_string()))
    }

    /// Waits up to ten seconds for an element matching `css`.
    pub async fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            if started.elapsed() > Duration::from_secs(10) {
                self.screenshot("not-found").await;
                panic!("no element {css} on {}", self.current_url().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.try_find(css).await.is_some()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            Some(json!({})),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Types keys at an element as a person would, without clearing it first (a pick list finds
    /// the option whose text starts with what is typed).
    pub async fn keys(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The current value of a form control.
    pub async fn value(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::GET,
            &format!("/element/{}/property/value", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.0),
            Some(json!({})),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// Waits until the element's text contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) {
        let started = Instant::now();
        loop {
            if self.try_find(css).await.is_some() && self.text(css).await.contains(needle) {
                return;
            }
            if started.elapsed() > Duration::from_secs(10) {
                self.screenshot("text").await;
                panic!(
                    "{css} never showed {needle:?}; it shows {:?}",
                    self.text(css).await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the whole page under target/screenshots/: `{name}.png` at desktop width and
    /// `{name}-phone.png` at phone width. Fails when, at phone width, the page is wider than the
    /// screen (tables scroll inside their own frame; the page itself never does).
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let desktop = self.capture(name, DESKTOP).await;
        self.capture(&format!("{name}-phone"), PHONE).await;
        let overflow = self
            .script("return document.documentElement.scrollWidth - window.innerWidth;")
            .await;
        // The widest elements that stick out, to say what to fix.
        let culprits = self
            .script(
                "return [...document.querySelectorAll('body *')]\
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)\
                 .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' \
                 + Math.round(e.getBoundingClientRect().width)).join(', ');",
            )
            .await;
        self.resize(DESKTOP.0, DESKTOP.1).await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{name}: at phone width the page is {overflow} px wider than the screen ({culprits})"
        );
        desktop
    }

    /// Saves the whole page at `width`, the window as tall as the page.
    async fn capture(&self, name: &str, (width, height): (u32, u32)) -> std::path::PathBuf {
        use base64::Engine as _;
        self.resize(width, height).await;
        let tall = self
            .script("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(u64::from(height));
        self.resize(width, (tall as u32).clamp(height, 6000)).await;
        let data = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{name}.png"));
        if let Some(b64) = data.as_str()
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64)
        {
            let _ = std::fs::write(&path, bytes);
        }
        path
    }

    async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Runs a script in the page and returns what it returns.
    pub async fn script(&self, body: &str) -> serde_json::Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": body, "args": []})),
        )
        .await
    }

    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.driver_url, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
