//! What the loan and decision benchmarks share: borrowers that loan knows are eligible, and their
//! `loanStatusChanged` subscriptions through the router.

use std::time::{Duration, Instant};

use futures::SinkExt as _;
use serde_json::json;
use tenor_harness::RouterStack;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use uuid::Uuid;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Waits until loan has heard of the borrower's KYC verification: a refused probe tells (tenor
/// 0 is refused by its own rule only once KYC is known), and a probe costs nothing.
pub async fn wait_until_loan_knows(stack: &RouterStack, token: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let probe = stack
            .gql(
                "mutation Probe($key: String!) { applyLoan(amount: 5000000, tenorMonths: 0, purpose: \"probe\", idempotencyKey: $key) { userErrors { code } } }",
                json!({ "key": Uuid::new_v4().to_string() }),
                Some(token),
            )
            .await;
        let codes = probe["data"]["applyLoan"]["userErrors"].to_string();
        if codes.contains("TENOR_TOO_SHORT") && !codes.contains("KYC_NOT_VERIFIED") {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "borrower never became eligible: {probe}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A graphql-transport-ws connection through the router running `subscription` for `token`.
pub async fn subscribe(
    stack: &RouterStack,
    token: &str,
    subscription: &str,
) -> anyhow::Result<Socket> {
    let mut request = stack.router.ws_url().into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    for message in [
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
        json!({ "id": "1", "type": "subscribe", "payload": { "query": subscription } }),
    ] {
        socket
            .send(Message::Text(message.to_string().into()))
            .await?;
    }
    Ok(socket)
}
