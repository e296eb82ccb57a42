//! Test-only glue the crate's `testing` module does not carry: a graphql-transport-ws client
//! for the subscription tests (it needs tokio-tungstenite, a dev-dependency).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
pub use tenor_loan::testing::*;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

/// WebSocket connections to a test service.
pub trait WebSocketExt {
    /// Open a graphql-transport-ws connection to `base_url` with `connection_init` carrying
    /// `token` the way the router propagates it.
    async fn websocket(&self, base_url: &str, token: Option<&str>) -> WsClient;
}

impl WebSocketExt for TestService {
    async fn websocket(&self, base_url: &str, token: Option<&str>) -> WsClient {
        WsClient::connect(base_url, token).await
    }
}

/// A minimal graphql-transport-ws client.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    /// Connect and send `connection_init`; the server's first reply (ack or refusal) is
    /// returned by [`WsClient::next_message`].
    pub async fn connect(base_url: &str, token: Option<&str>) -> Self {
        let url = format!("{}/graphql", base_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut client = Self { stream };
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
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

    /// Subscribe to `loanStatusChanged` under operation `id`.
    pub async fn subscribe(&mut self, id: &str, loan: Option<Uuid>) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": {
                "query": "subscription($loan: ID) { loanStatusChanged(loanId: $loan) { status previousStatus snapshot loan { id status amount } } }",
                "variables": { "loan": loan.map(|l| l.to_string()) },
            }
        }))
        .await;
    }
}

/// The account status loan has projected from `user.status.changed` (`None`: no event yet).
pub async fn projected_status(
    service: &TestService,
    user: Uuid,
) -> Option<tenor_loan::domain::eligibility::AccountState> {
    let mut conn = service.db.pool().get().await.unwrap();
    tenor_loan::store::eligibility::user_status(&mut conn, user)
        .await
        .unwrap()
}
