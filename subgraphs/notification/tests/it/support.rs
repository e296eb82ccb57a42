//! Test-only glue the crate's `testing` module does not carry: a graphql-transport-ws client
//! for the subscription tests (tokio-tungstenite is a dev-dependency).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A minimal graphql-transport-ws client.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    /// Connect with `token` in `connection_init` (as the router propagates it) and wait for
    /// the server's acknowledgement.
    pub async fn connect(base_url: &str, token: &str) -> Self {
        let url = format!("{}/graphql", base_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut client = Self { stream };
        client
            .send(json!({
                "type": "connection_init",
                "payload": { "authorization": format!("Bearer {token}") },
            }))
            .await;
        let ack = client.next_message(Duration::from_secs(5)).await;
        assert_eq!(
            ack.as_ref().map(|m| m["type"].clone()),
            Some(json!("connection_ack")),
            "{ack:?}"
        );
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// The next JSON message, `None` when the connection closed or `timeout` passed.
    pub async fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(timeout, self.stream.next())
                .await
                .ok()??;
            match message {
                Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Subscribe to `notificationReceived` under operation `id`.
    pub async fn subscribe_notifications(&mut self, id: &str) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": {
                "query": "subscription { notificationReceived { id category eventType title content link read } }",
            }
        }))
        .await;
        // The subscription is registered once the server has read the message; give it a
        // moment before the test publishes.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    /// The pushed `notificationReceived` payloads seen within `timeout`.
    pub async fn received(&mut self, timeout: Duration) -> Vec<Value> {
        let mut pushed = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        while let Some(message) = self
            .next_message(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
        {
            if message["type"] == "next" {
                pushed.push(message["payload"]["data"]["notificationReceived"].clone());
            } else if message["type"] == "error" {
                panic!("subscription error: {message}");
            }
        }
        pushed
    }
}
