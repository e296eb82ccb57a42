//! A graphql-transport-ws client for tests: connect to a router, send protocol messages, read
//! the next one (or the close code).

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::Router;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket on the router's GraphQL path, asking for graphql-transport-ws (and checking
/// the router agreed to it).
pub async fn connect(router: &Router) -> Socket {
    let mut request = router.ws_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (socket, response) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .expect("WebSocket handshake within 10 s")
    .unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

/// `connection_init` (with the token where the router expects it) and its `connection_ack`.
pub async fn init(socket: &mut Socket, token: Option<&str>) {
    let payload = match token {
        Some(token) => json!({ "authorization": format!("Bearer {token}") }),
        None => json!({}),
    };
    send(
        socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let ack = next(socket, Duration::from_secs(10)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next protocol message, or the close code when the server closes (0 without one).
///
/// `within` bounds the whole wait, not each frame: the router pings every socket every 5 s, so
/// a per-frame timeout would be reset by each ping and a socket that never answers would hang
/// the test instead of failing it.
pub async fn next(socket: &mut Socket, within: Duration) -> Result<Value, u16> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no protocol message from the router within {within:?}"));
        match frame {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(Some(close)))) => return Err(u16::from(close.code)),
            Some(Ok(Message::Close(None))) | None => return Err(0),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("websocket error: {e}"),
        }
    }
}

/// Sends `text` as one text frame as it is (hostile tests: invalid or deeply nested JSON that a
/// `serde_json::Value` could not even hold).
pub async fn send_text(socket: &mut Socket, text: &str) {
    socket
        .send(Message::Text(text.to_owned().into()))
        .await
        .unwrap();
}

/// A socket read continuously by a task of its own, as a phone's WebSocket library does: pings
/// are answered while the test is busy elsewhere (a socket nobody reads for a while gets closed
/// by the router when its pings go unanswered). Dropping it drops the connection at once, with
/// no close frame, as a phone losing its network does.
pub struct Live {
    messages: tokio::sync::mpsc::UnboundedReceiver<Result<Value, u16>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Live {
    pub fn new(mut socket: Socket) -> Self {
        let (sender, messages) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            loop {
                let message = match socket.next().await {
                    Some(Ok(Message::Text(text))) => Ok(serde_json::from_str(&text).unwrap()),
                    Some(Ok(Message::Close(Some(close)))) => Err(u16::from(close.code)),
                    Some(Ok(Message::Close(None))) | None | Some(Err(_)) => Err(0),
                    Some(Ok(_)) => continue,
                };
                let closed = message.is_err();
                if sender.send(message).is_err() || closed {
                    return;
                }
            }
        });
        Self { messages, reader }
    }

    /// The next protocol message (or the close code), `None` when nothing came `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Result<Value, u16>> {
        tokio::time::timeout(within, self.messages.recv())
            .await
            .ok()
            .map(|message| message.unwrap_or(Err(0)))
    }
}
