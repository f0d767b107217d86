//! An SMS gateway stand-in over real HTTP on 127.0.0.1: it keeps every POSTed message with the
//! Authorization header it came with, and can be told to answer 503.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Clone, Debug)]
pub struct Sms {
    pub id: String,
    pub to: String,
    pub text: String,
    pub authorization: String,
}

impl Sms {
    /// The 6-digit code in the text.
    pub fn code(&self) -> String {
        self.text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or("")
            .to_string()
    }
}

#[derive(Clone, Default)]
pub struct SmsGateway {
    pub addr: Option<SocketAddr>,
    received: Arc<Mutex<Vec<Sms>>>,
    refusing: Arc<AtomicBool>,
}

async fn receive(
    State(g): State<SmsGateway>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    if g.refusing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let field = |k: &str| body[k].as_str().unwrap_or("").to_string();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    g.received.lock().unwrap().push(Sms {
        id: field("id"),
        to: field("to"),
        text: field("text"),
        authorization,
    });
    StatusCode::ACCEPTED
}

impl SmsGateway {
    pub async fn start() -> SmsGateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let gateway = SmsGateway {
            addr: Some(listener.local_addr().expect("addr")),
            ..Default::default()
        };
        let app = axum::Router::new()
            .route("/send", post(receive))
            .with_state(gateway.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        gateway
    }

    pub fn url(&self) -> String {
        format!("http://{}/send", self.addr.expect("started"))
    }

    pub fn refuse(&self, yes: bool) {
        self.refusing.store(yes, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Sms> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to ten seconds until `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Sms> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "expected {n} SMS, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
