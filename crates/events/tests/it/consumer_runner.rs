//! The consumer runner against real Kafka and PostgreSQL: duplicates, retries, DLQ, commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use async_trait::async_trait;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rdkafka::producer::FutureRecord;
use tenor_events::consumer::{dlq_headers, dlq_topic};
use tenor_events::kafka::producer;
use tenor_events::{
    ConsumerConfig, Envelope, EventConsumer, EventHandler, HandlerError, PgInbox,
    TransactionalHandler,
};
use tenor_platform::testing::wait_for;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A deliberately non-idempotent effect (`applied = applied + 1`): only the inbox keeps it
/// from being applied twice. Events with `fail` always fail.
struct CountingHandler {
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl TransactionalHandler for CountingHandler {
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let change: WidgetChanged = event.decode().map_err(HandlerError::permanent)?;
        diesel::sql_query(
            "INSERT INTO widgets (id, applied) VALUES ($1, 1)
             ON CONFLICT (id) DO UPDATE SET applied = widgets.applied + 1",
        )
        .bind::<SqlUuid, _>(change.widget_id)
        .execute(conn)
        .await?;
        if change.fail {
            // The effect above is rolled back with the transaction.
            return Err(HandlerError::retryable(anyhow::anyhow!(
                "widget {} cannot be applied",
                change.widget_id
            )));
        }
        Ok(())
    }
}

fn config(topic: &str, group: &str) -> ConsumerConfig {
    ConsumerConfig {
        kafka: kafka(),
        group_id: group.to_owned(),
        topics: vec![topic.to_owned()],
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        session_timeout: tenor_events::consumer::DEFAULT_SESSION_TIMEOUT,
        concurrency: 4,
        instance_id: None,
    }
}

async fn applied(db: &tenor_platform::testing::TestDatabase, widget: Uuid) -> i32 {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        applied: i32,
    }
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query("SELECT applied FROM widgets WHERE id = $1")
        .bind::<SqlUuid, _>(widget)
        .get_results::<Row>(&mut conn)
        .await
        .unwrap()
        .as_slice()
        .first()
        .map_or(0, |r| r.applied)
}

fn failing_event(widget: Uuid) -> Envelope {
    Envelope::new(
        "/tenor/test",
        widget.to_string(),
        &WidgetChanged {
            widget_id: widget,
            seq: 0,
            fail: true,
        },
        None,
    )
    .unwrap()
}

fn start(
    db: &tenor_platform::testing::TestDatabase,
    topic: &str,
    group: &str,
    calls: Arc<AtomicUsize>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    start_configured(db, config(topic, group), calls)
}

fn start_configured(
    db: &tenor_platform::testing::TestDatabase,
    config: ConsumerConfig,
    calls: Arc<AtomicUsize>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let handler: Arc<dyn EventHandler> = Arc::new(PgInbox::new(
        db.pool(),
        &config.group_id,
        CountingHandler { calls },
    ));
    let consumer = EventConsumer::new(config).unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(handler, shutdown.clone()));
    (shutdown, task)
}

#[tokio::test]
async fn the_same_event_delivered_twice_applies_once() {
    let db = database().await;
    let topic = topic(1).await;
    let widget = Uuid::new_v4();
    let event = widget_event(widget, 1);
    publish_raw(&topic, &widget.to_string(), &event.to_bytes()).await;
    publish_raw(&topic, &widget.to_string(), &event.to_bytes()).await;
    let sentinel = Uuid::new_v4();
    publish_widget(&topic, sentinel, 1).await;

    let calls = Arc::new(AtomicUsize::new(0));
    let (shutdown, task) = start(&db, &topic, "dup-test", calls.clone());
    assert!(wait_for(async || applied(&db, sentinel).await == 1).await);
    shutdown.cancel();
    task.await.unwrap();

    assert_eq!(applied(&db, widget).await, 1, "effect applied exactly once");
    assert_eq!(
        calls.as_ref().load(Ordering::SeqCst),
        2,
        "the duplicate never reached the handler"
    );
}

#[tokio::test]
async fn a_failing_event_is_dead_lettered_and_later_events_still_flow() {
    let db = database().await;
    let topic = topic(1).await; // one partition: the poison sits in front of the rest
    let key = Uuid::new_v4().to_string();
    let poison_widget = Uuid::new_v4();
    let poison = failing_event(poison_widget);
    publish_raw(&topic, &key, &poison.to_bytes()).await;
    let later: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    for (seq, widget) in later.iter().enumerate() {
        publish_raw(&topic, &key, &widget_event(*widget, seq as u32).to_bytes()).await;
    }

    let calls = Arc::new(AtomicUsize::new(0));
    let (shutdown, task) = start(&db, &topic, "dlq-test", calls.clone());
    let dead = read_until(&dlq_topic(&topic), Duration::from_secs(30), |r| {
        !r.is_empty()
    })
    .await;
    assert!(
        wait_for(async || {
            let mut all = true;
            for w in &later {
                all &= applied(&db, *w).await == 1;
            }
            all
        })
        .await,
        "events behind the poison message were handled"
    );
    shutdown.cancel();
    task.await.unwrap();

    assert_eq!(dead.len(), 1);
    let dead = &dead[0];
    assert_eq!(dead.envelope.as_ref().unwrap().id(), poison.id());
    assert_eq!(dead.key, key);
    assert_eq!(dead.header(dlq_headers::ATTEMPTS), Some("3"));
    assert_eq!(
        dead.header(dlq_headers::ORIGINAL_TOPIC),
        Some(topic.as_str())
    );
    assert_eq!(dead.header(dlq_headers::CONSUMER_GROUP), Some("dlq-test"));
    assert!(
        dead.header(dlq_headers::ERROR)
            .unwrap()
            .contains(&format!("widget {poison_widget} cannot be applied")),
        "{:?}",
        dead.headers
    );
    assert_eq!(
        applied(&db, poison_widget).await,
        0,
        "failed attempts left no effect"
    );
    assert_eq!(calls.as_ref().load(Ordering::SeqCst), 3 + later.len());
}

#[tokio::test]
async fn garbage_goes_straight_to_the_dlq() {
    let db = database().await;
    let topic = topic(1).await;
    publish_raw(&topic, "k", b"{\"this is\": \"not a cloudevent\"}").await;
    let after = Uuid::new_v4();
    publish_raw(&topic, "k", &widget_event(after, 1).to_bytes()).await;

    let calls = Arc::new(AtomicUsize::new(0));
    let (shutdown, task) = start(&db, &topic, "garbage-test", calls.clone());
    let dead = read_until(&dlq_topic(&topic), Duration::from_secs(30), |r| {
        !r.is_empty()
    })
    .await;
    assert!(wait_for(async || applied(&db, after).await == 1).await);
    shutdown.cancel();
    task.await.unwrap();

    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].header(dlq_headers::ATTEMPTS), Some("0"));
    assert!(
        dead[0]
            .header(dlq_headers::ERROR)
            .unwrap()
            .contains("not a CloudEvent")
    );
    assert_eq!(calls.as_ref().load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn handled_offsets_are_committed_so_a_restart_resumes_after_them() {
    let db = database().await;
    let topic = topic(1).await;
    let first: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for w in &first {
        publish_raw(&topic, "k", &widget_event(*w, 1).to_bytes()).await;
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let (shutdown, task) = start(&db, &topic, "commit-test", calls.clone());
    assert!(wait_for(async || applied(&db, first[4]).await == 1).await);
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(calls.as_ref().load(Ordering::SeqCst), 5);

    // Restart with the same group: only the new event reaches the handler.
    let next = Uuid::new_v4();
    publish_raw(&topic, "k", &widget_event(next, 1).to_bytes()).await;
    let (shutdown, task) = start(&db, &topic, "commit-test", calls.clone());
    assert!(wait_for(async || applied(&db, next).await == 1).await);
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(
        calls.as_ref().load(Ordering::SeqCst),
        6,
        "nothing before the commit was redelivered"
    );
}

#[tokio::test]
async fn a_relayed_event_is_consumed_once_even_if_the_relay_repeats_it() {
    // The relay crashed after Kafka acknowledged a batch but before marking it: the same
    // CloudEvent (same id) is published twice. The consumer applies it once.
    let db = database().await;
    let topic = topic(1).await;
    let producer = producer(&kafka()).unwrap();
    let widget = Uuid::new_v4();
    let event = widget_event(widget, 1);
    for _ in 0..2 {
        producer
            .send(
                FutureRecord::to(&topic)
                    .key(&widget.to_string())
                    .payload(&event.to_bytes()),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let (shutdown, task) = start(&db, &topic, "relay-dup-test", calls.clone());
    assert!(wait_for(async || calls.as_ref().load(Ordering::SeqCst) >= 1).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(applied(&db, widget).await, 1);
}

/// Records the order in which events were applied, per widget; events of `held` wait until the
/// gate opens (forever, if it never does).
struct GatedHandler {
    held: Uuid,
    gate: tokio::sync::watch::Receiver<bool>,
    applied: Arc<std::sync::Mutex<Vec<(Uuid, u32)>>>,
}

#[async_trait]
impl EventHandler for GatedHandler {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let change: WidgetChanged = event.decode().map_err(HandlerError::permanent)?;
        if change.widget_id == self.held {
            let mut gate = self.gate.clone();
            gate.wait_for(|open| *open).await.ok();
        }
        self.applied
            .lock()
            .unwrap()
            .push((change.widget_id, change.seq));
        Ok(())
    }
}

type Applied = Arc<std::sync::Mutex<Vec<(Uuid, u32)>>>;

fn start_gated(
    topic: &str,
    group: &str,
    held: Uuid,
) -> (
    tokio::sync::watch::Sender<bool>,
    Applied,
    CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let (open, gate) = tokio::sync::watch::channel(false);
    let applied: Applied = Arc::default();
    let handler = Arc::new(GatedHandler {
        held,
        gate,
        applied: applied.clone(),
    });
    let consumer = EventConsumer::new(config(topic, group)).unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(handler, shutdown.clone()));
    (open, applied, shutdown, task)
}

fn seqs_of(applied: &Applied, widget: Uuid) -> Vec<u32> {
    applied
        .lock()
        .unwrap()
        .iter()
        .filter(|(w, _)| *w == widget)
        .map(|(_, seq)| *seq)
        .collect()
}

#[tokio::test]
async fn a_slow_aggregate_keeps_its_order_and_does_not_hold_up_the_others() {
    let topic = topic(1).await; // one partition: every key behind the slow one
    let (slow, others) = (Uuid::new_v4(), [Uuid::new_v4(), Uuid::new_v4()]);
    for seq in 0..3 {
        publish_widget(&topic, slow, seq).await;
        for other in others {
            publish_widget(&topic, other, seq).await;
        }
    }

    let (open, applied, shutdown, task) = start_gated(&topic, "lanes-test", slow);
    assert!(
        wait_for(async || others.iter().all(|o| seqs_of(&applied, *o).len() == 3)).await,
        "events of other aggregates were applied while the first one waited"
    );
    assert!(seqs_of(&applied, slow).is_empty(), "the slow one waits");
    open.send(true).unwrap();
    assert!(wait_for(async || seqs_of(&applied, slow).len() == 3).await);
    shutdown.cancel();
    task.await.unwrap();

    for widget in [slow, others[0], others[1]] {
        assert_eq!(seqs_of(&applied, widget), [0, 1, 2], "published order");
    }
}

#[tokio::test]
async fn a_crash_redelivers_an_unfinished_event_although_later_ones_finished() {
    let topic = topic(1).await;
    let slow = Uuid::new_v4();
    publish_widget(&topic, slow, 0).await;
    let later: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for widget in &later {
        publish_widget(&topic, *widget, 0).await;
    }

    // The first event hangs; the five behind it (other keys) finish, and their offsets would
    // be committed within the auto-commit interval (1 s) if the consumer stored them.
    let (_never, applied, _shutdown, task) = start_gated(&topic, "crash-test", slow);
    assert!(wait_for(async || later.iter().all(|w| seqs_of(&applied, *w).len() == 1)).await);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    task.abort(); // the process dies mid-event
    let _ = task.await;

    // The restart gets the unfinished event again.
    let (open, applied, shutdown, task) = start_gated(&topic, "crash-test", Uuid::new_v4());
    open.send(true).unwrap();
    assert!(
        wait_for(async || seqs_of(&applied, slow) == [0]).await,
        "the unfinished event was redelivered: {:?}",
        applied.lock().unwrap()
    );
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_static_member_fenced_by_a_newer_one_under_its_name_comes_back_with_a_new_client() {
    let db = database().await;
    let topic = topic(1).await;
    let group = format!("fenced-test-{}", Uuid::new_v4().simple());
    let mut config = config(&topic, &group);
    config.instance_id = Some("replica-0".to_owned());
    let calls = Arc::new(AtomicUsize::new(0));
    let (shutdown, task) = start_configured(&db, config, calls);
    let first = Uuid::new_v4();
    publish_widget(&topic, first, 0).await;
    assert!(wait_for(async || applied(&db, first).await == 1).await);

    // Another client joins under the same instance id and takes the partition: the broker
    // fences ours, which librdkafka reports as a fatal error — as it does to a static member
    // that rejoins after its own session lapsed in a broker outage (librdkafka issue #3437).
    // The intruder then vanishes without leaving, as a killed process would.
    let intruder: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set(
            "bootstrap.servers",
            tenor_platform::testing::kafka_brokers(),
        )
        .set("group.id", &group)
        .set("group.instance.id", "replica-0")
        .set("session.timeout.ms", "10000")
        .create()
        .unwrap();
    rdkafka::consumer::Consumer::subscribe(&intruder, &[topic.as_str()]).unwrap();
    let joined = tokio::task::spawn_blocking(move || {
        for _ in 0..300 {
            let _ = intruder.poll(Duration::from_millis(100));
            if rdkafka::consumer::Consumer::assignment(&intruder).is_ok_and(|a| a.count() > 0) {
                return Some(intruder);
            }
        }
        None
    })
    .await
    .unwrap();
    let intruder = joined.expect("the intruder got the partition");
    drop(intruder);
    // Ours learns it was fenced on its next heartbeat (every second); until then it still
    // fetches the partition it had.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Ours comes back with a new client under its name and consumes on.
    let second = Uuid::new_v4();
    publish_widget(&topic, second, 0).await;
    assert!(
        wait_for(async || applied(&db, second).await == 1).await,
        "the fenced consumer was replaced and consumed again"
    );
    shutdown.cancel();
    task.await.unwrap();
}
