//! A local HTTP provider for tests: a real axum server on a loopback port that records every
//! request and answers from a script, e.g. `[500, 500, 200]` — the last reply repeats — so a
//! test can watch retries, a provider that is down, or one that is slow.
//!
//! ```ignore
//! let sms = Receiver::answering([500, 500, 200]).await;
//! let config = HttpProviderConfig::new("sms-test", sms.url());
//! // … send …
//! let requests = sms.wait_for(3, Duration::from_secs(5)).await;
//! assert_eq!(requests[2].json["to"], "+6281234567890");
//! ```
//!
//! A successful reply's default body is `{"id":"msg-<n>"}` (n counts requests from 1), an error
//! reply's `{"error":"scripted <status>"}`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// `None`: the default body for the status.
    pub body: Option<String>,
    /// Waits this long before answering (a slow provider).
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: None,
            delay: Duration::ZERO,
        }
    }

    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

impl From<u16> for Reply {
    fn from(status: u16) -> Self {
        Self::status(status)
    }
}

/// One request as the provider saw it.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub json: serde_json::Value,
    pub at: Instant,
}

impl ReceivedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Default)]
struct Shared {
    script: VecDeque<Reply>,
    last: Option<Reply>,
    received: Vec<ReceivedRequest>,
}

pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver answering from `script`; an empty script answers 200.
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the test receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let app = Router::new()
            .fallback(record_and_answer)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let receiver = Self {
            addr,
            shared,
            server,
        };
        receiver.set_script(script);
        receiver
    }

    /// Starts a receiver answering these statuses with default bodies, the last one repeating.
    pub async fn answering(statuses: impl IntoIterator<Item = u16>) -> Self {
        Self::start(statuses.into_iter().map(Reply::status)).await
    }

    /// Replaces what the next requests are answered with.
    pub fn set_script(&self, script: impl IntoIterator<Item = Reply>) {
        let mut shared = self.shared.lock().expect("receiver state");
        shared.script = script.into_iter().collect();
        shared.last = None;
    }

    /// `http://127.0.0.1:<port>/messages` (any path is accepted and recorded).
    pub fn url(&self) -> String {
        format!("http://{}/messages", self.addr)
    }

    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.shared.lock().expect("receiver state").received.clone()
    }

    /// The requests once at least `count` have arrived; panics after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "receiver got {} requests, expected {count} within {timeout:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record_and_answer(
    State(shared): State<Arc<Mutex<Shared>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (reply, number) = {
        let mut shared = shared.lock().expect("receiver state");
        let body = String::from_utf8_lossy(&body).into_owned();
        shared.received.push(ReceivedRequest {
            path: uri.path().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            json: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            body,
            at: Instant::now(),
        });
        let reply = match shared.script.pop_front() {
            Some(reply) => {
                shared.last = Some(reply.clone());
                reply
            }
            None => shared.last.clone().unwrap_or(Reply::status(200)),
        };
        (reply, shared.received.len())
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = reply.body.unwrap_or_else(|| {
        if status.is_success() {
            format!(r#"{{"id":"msg-{number}"}}"#)
        } else {
            format!(r#"{{"error":"scripted {}"}}"#, status.as_u16())
        }
    });
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
