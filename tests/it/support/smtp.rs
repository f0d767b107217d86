//! A small SMTP sink speaking real SMTP over TCP on 127.0.0.1: it keeps what it receives, and
//! can be told to refuse mail (a temporary failure) to test retries.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> String {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default()
    }

    /// The subject, decoded from RFC 2047 words when needed.
    pub fn subject(&self) -> String {
        decode_words(&self.header("subject"))
    }

    /// The decoded body of the part with this content type (`text/plain` or `text/html`).
    pub fn part(&self, content_type: &str) -> String {
        for part in self.data.split("\r\n--") {
            let (head, body) = part.split_once("\r\n\r\n").unwrap_or(("", ""));
            let head_lower = head.to_lowercase();
            if !head_lower.contains(&format!("content-type: {content_type}")) {
                continue;
            }
            let body = body.trim_end_matches("\r\n").to_string();
            if head_lower.contains("content-transfer-encoding: base64") {
                let joined: String = body.lines().collect();
                return String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(joined.trim())
                        .unwrap_or_default(),
                )
                .to_string();
            }
            if head_lower.contains("content-transfer-encoding: quoted-printable") {
                return decode_qp(&body);
            }
            return body.replace("\r\n", "\n");
        }
        String::new()
    }

    /// The first link in the plain text that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let text = self.part("text/plain");
        let start = text.find(prefix)?;
        Some(
            text[start..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
        )
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("\r\n", "\n");
    let bytes = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn decode_words(s: &str) -> String {
    let mut out = String::new();
    for word in s.split_whitespace() {
        if let Some(inner) = word
            .strip_prefix("=?utf-8?b?")
            .or_else(|| word.strip_prefix("=?UTF-8?B?"))
            .and_then(|w| w.strip_suffix("?="))
        {
            out.push_str(&String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(inner)
                    .unwrap_or_default(),
            ));
        } else if let Some(inner) = word
            .strip_prefix("=?utf-8?q?")
            .or_else(|| word.strip_prefix("=?UTF-8?Q?"))
            .and_then(|w| w.strip_suffix("?="))
        {
            out.push_str(&decode_qp(&inner.replace('_', " ")));
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let sink = SmtpSink {
            addr: listener.local_addr().expect("addr"),
            received: Arc::default(),
            refusing: Arc::default(),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// While true, every MAIL FROM is answered with a temporary failure.
    pub fn refuse(&self, yes: bool) {
        self.refusing.store(yes, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to ten seconds until `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "expected {n} messages, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 roster-test-sink ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), vec![]);
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let upper = line.to_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-roster-test-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            } else if upper.starts_with("HELO")
                || upper.starts_with("NOOP")
                || upper.starts_with("RSET")
            {
                b"250 ok\r\n"
            } else if upper.starts_with("MAIL FROM") {
                if self.refusing.load(Ordering::SeqCst) {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = line[10..].trim().to_string();
                    to.clear();
                    b"250 ok\r\n"
                }
            } else if upper.starts_with("RCPT TO") {
                to.push(
                    line[8..]
                        .trim()
                        .trim_matches(|c| c == '<' || c == '>')
                        .to_string(),
                );
                b"250 ok\r\n"
            } else if upper.starts_with("DATA") {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(
                        line.strip_prefix('.')
                            .filter(|_| line.starts_with(".."))
                            .unwrap_or(&line),
                    );
                }
                self.received.lock().unwrap().push(Received {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                b"250 queued\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}
