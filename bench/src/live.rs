//! What the loan and decision benchmarks share: borrowers that loan knows are eligible, and their
//! `loanStatusChanged` subscriptions through the router.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
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
    subscribe_at(&stack.router.ws_url(), token, subscription).await
}

/// A graphql-transport-ws connection to `url` (the router or a subgraph) running
/// `subscription` for `token`.
pub async fn subscribe_at(url: &str, token: &str, subscription: &str) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(client_config()), false).await?;
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

/// The benchmark's phones share the machine with what they measure. tungstenite's default
/// 128 KiB read buffer is zeroed up to its capacity before every read: with 15 000 sockets that
/// `memset` alone took 6 % of the machine's samples (`perf`) while pushes arrived. Pushes are
/// under 1 KiB.
fn client_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4 * 1024)
}

/// One `loanStatusChanged` payload and when it arrived.
pub struct Change {
    pub value: Value,
    pub at: Instant,
    pub at_utc: DateTime<Utc>,
}

pub type Changes = tokio::sync::mpsc::UnboundedReceiver<Change>;

/// Reads `socket` from now on in a task of its own, as a phone does — so the router's pings are
/// answered while the benchmark prepares other borrowers (an unread socket is closed with 1002)
/// — and hands over each status change with its arrival time. The channel ends with the socket.
pub fn status_changes(mut socket: Socket) -> Changes {
    let (sender, changes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let (at, at_utc) = (Instant::now(), Utc::now());
            let Message::Text(text) = frame else { continue };
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                return;
            };
            if message["type"] != "next" {
                continue;
            }
            let value = message["payload"]["data"]["loanStatusChanged"].clone();
            if sender.send(Change { value, at, at_utc }).is_err() {
                return;
            }
        }
    });
    changes
}

/// A producer already connected, with `topic`'s metadata, that has had one message acknowledged
/// on each of its partitions: the first timed publish then pays neither for the connection, the
/// metadata request, nor the first produce to a partition (about half a second on this machine,
/// which a service's long-lived producer never pays per event either). The warm-up messages are
/// [`probe`]s, which every consumer skips.
pub async fn connected_producer(topic: &str) -> anyhow::Result<rdkafka::producer::FutureProducer> {
    let producer = tenor_events::kafka::producer(&tenor_events::testing::kafka_config())?;
    let client = producer.clone();
    let name = topic.to_owned();
    let metadata = tokio::task::spawn_blocking(move || {
        rdkafka::producer::Producer::client(&client)
            .fetch_metadata(Some(&name), Duration::from_secs(10))
    })
    .await??;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len() as i32);
    for partition in 0..partitions {
        let (key, payload) = probe("warm-up");
        producer
            .send(
                rdkafka::producer::FutureRecord::to(topic)
                    .partition(partition)
                    .key(&key)
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)?;
    }
    Ok(producer)
}

/// A CloudEvent of a type no service handles (`bench.<what>.probe.v1`), and its key: every
/// consumer skips it and moves its offset past it.
pub fn probe(what: &str) -> (String, String) {
    let id = Uuid::new_v4();
    let payload = serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "source": "/tenor/bench",
        "type": format!("bench.{what}.probe.v1"),
        "subject": id,
        "time": Utc::now(),
        "datacontenttype": "application/json",
        "data": {},
    })
    .to_string();
    (id.to_string(), payload)
}

/// Credit's automatic approval of `loan_id`, as credit's relay publishes it.
pub fn approval(user_id: Uuid, loan_id: Uuid) -> anyhow::Result<tenor_events::Envelope> {
    use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
    let decision = CreditDecisionMadeV1 {
        decision_id: Uuid::new_v4(),
        loan_id,
        user_id,
        decision: CreditDecision::Approved,
        score: 700,
        reason_codes: vec!["SCORE_ABOVE_THRESHOLD".into()],
        reason: None,
        source: CreditDecisionSource::Automatic,
        decided_by: None,
        decided_at: Utc::now(),
        reviews_decision: None,
    };
    let envelope =
        tenor_events::Envelope::new("/tenor/credit", loan_id.to_string(), &decision, None)?;
    Ok(envelope)
}

/// Publishes credit's APPROVED decision for `loan_id` of `user_id` to the stack's credit topic,
/// as credit would; returns once Kafka acknowledged it.
pub async fn publish_approval(
    producer: &rdkafka::producer::FutureProducer,
    stack: &RouterStack,
    user_id: Uuid,
    loan_id: Uuid,
) -> anyhow::Result<()> {
    let envelope = approval(user_id, loan_id)?;
    publish(producer, &stack.subgraphs.topics.credit, loan_id, &envelope).await?;
    Ok(())
}

/// A `loan.status.changed` (SUBMITTED → APPROVED) published straight to `loan.events`, as loan's
/// relay would: what each replica's live hub fans out, without the decision that causes it.
pub async fn publish_status_change(
    producer: &rdkafka::producer::FutureProducer,
    stack: &RouterStack,
    user_id: Uuid,
    loan_id: Uuid,
) -> anyhow::Result<()> {
    use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1};
    let change = LoanStatusChangedV1 {
        loan_id,
        user_id,
        status: LoanStatus::Approved,
        previous_status: Some(LoanStatus::Submitted),
        reason: None,
        changed_at: Utc::now(),
    };
    let envelope = tenor_events::Envelope::new("/tenor/loan", loan_id.to_string(), &change, None)?;
    publish(producer, &stack.subgraphs.topics.loan, loan_id, &envelope).await
}

async fn publish(
    producer: &rdkafka::producer::FutureProducer,
    topic: &str,
    loan_id: Uuid,
    envelope: &tenor_events::Envelope,
) -> anyhow::Result<()> {
    let payload = envelope.to_bytes();
    let key = loan_id.to_string();
    producer
        .send(
            rdkafka::producer::FutureRecord::to(topic)
                .key(&key)
                .payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| anyhow::anyhow!("publishing to {topic}: {e}"))?;
    Ok(())
}
