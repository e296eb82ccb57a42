//! The transactional outbox against real PostgreSQL and Kafka.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::*;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tenor_events::kafka::producer;
use tenor_events::outbox::outbox_events;
use tenor_events::{OutboxRelay, RelayConfig, enqueue};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn relay(db: &tenor_platform::testing::TestDatabase, config: RelayConfig) -> OutboxRelay {
    OutboxRelay::new(db.pool(), db.url(), producer(&kafka()).unwrap(), config)
}

/// Commit a widget and its event together, as a service would.
async fn commit_widget(
    db: &tenor_platform::testing::TestDatabase,
    topic: &str,
    widget: Uuid,
    seq: u32,
) -> Uuid {
    let event = widget_event(widget, seq);
    let event_id = event.id();
    let mut conn = db.pool().get().await.unwrap();
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        diesel::sql_query("INSERT INTO widgets (id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind::<diesel::sql_types::Uuid, _>(widget)
            .execute(conn)
            .await?;
        enqueue(conn, topic, &event).await
    })
    .await
    .unwrap();
    event_id
}

async fn pending(db: &tenor_platform::testing::TestDatabase) -> i64 {
    let mut conn = db.pool().get().await.unwrap();
    outbox_events::table
        .filter(outbox_events::published_at.is_null())
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn committed_events_are_published_after_the_relay_died() {
    let db = database().await;
    let topic = topic(3).await;

    // A relay is running, then dies abruptly (task aborted mid-loop) while events keep being
    // committed.
    let first = tokio::spawn(relay(&db, RelayConfig::default()).run(CancellationToken::new()));
    let mut ids = HashSet::new();
    for seq in 0..30 {
        ids.insert(commit_widget(&db, &topic, Uuid::new_v4(), seq).await);
        if seq == 10 {
            first.abort();
        }
    }
    let _ = first.await;
    // With the relay dead, some committed events are still waiting (not lost, not published).
    assert!(
        pending(&db).await > 0,
        "the dead relay should have left work"
    );

    // A new relay process picks them up.
    let shutdown = CancellationToken::new();
    let second = tokio::spawn(relay(&db, RelayConfig::default()).run(shutdown.clone()));
    let received = read_until(&topic, Duration::from_secs(30), |r| {
        let seen: HashSet<Uuid> = r
            .iter()
            .filter_map(|m| m.envelope.as_ref())
            .map(|e| e.id())
            .collect();
        ids.is_subset(&seen)
    })
    .await;
    shutdown.cancel();
    second.await.unwrap();

    let seen: HashSet<Uuid> = received
        .iter()
        .filter_map(|m| m.envelope.as_ref())
        .map(|e| e.id())
        .collect();
    assert_eq!(seen, ids, "every committed event reaches Kafka");
    assert_eq!(pending(&db).await, 0);
    let message = &received[0];
    assert_eq!(
        message.header("content-type"),
        Some("application/cloudevents+json")
    );
    assert_eq!(
        message.key,
        message.envelope.as_ref().unwrap().subject().unwrap(),
        "the Kafka key is the aggregate id"
    );
}

#[tokio::test]
async fn a_rolled_back_transaction_publishes_nothing() {
    let db = database().await;
    let topic = topic(1).await;
    let widget = Uuid::new_v4();

    let doomed = widget_event(widget, 1);
    let mut conn = db.pool().get().await.unwrap();
    let result = conn
        .transaction::<(), diesel::result::Error, _>(async |conn| {
            diesel::sql_query("INSERT INTO widgets (id) VALUES ($1)")
                .bind::<diesel::sql_types::Uuid, _>(widget)
                .execute(conn)
                .await?;
            enqueue(conn, &topic, &doomed).await?;
            // The business rule fails after the event was written.
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(result.is_err());
    drop(conn);

    let sentinel = commit_widget(&db, &topic, Uuid::new_v4(), 2).await;
    let relay = relay(&db, RelayConfig::default());
    assert_eq!(
        relay.publish_pending().await.unwrap(),
        1,
        "only the sentinel is pending"
    );
    let received = read_until(&topic, Duration::from_secs(20), |r| {
        r.iter()
            .any(|m| m.envelope.as_ref().map(|e| e.id()) == Some(sentinel))
    })
    .await;
    let ids: Vec<Uuid> = received
        .iter()
        .filter_map(|m| m.envelope.as_ref())
        .map(|e| e.id())
        .collect();
    assert_eq!(ids, vec![sentinel]);
    assert!(!ids.contains(&doomed.id()));
}

#[tokio::test]
async fn events_of_one_aggregate_arrive_in_commit_order() {
    let db = database().await;
    let topic = topic(3).await;
    let loan = Uuid::new_v4();
    let others: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    let mut expected = 0;
    for seq in 0..60 {
        commit_widget(&db, &topic, loan, seq).await;
        commit_widget(&db, &topic, others[seq as usize % 4], seq).await;
        expected += 2;
    }
    // Small batches so ordering must hold across several relay rounds.
    let relay = relay(
        &db,
        RelayConfig {
            batch_size: 7,
            ..RelayConfig::default()
        },
    );
    while relay.publish_pending().await.unwrap() > 0 {}
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= expected).await;
    let sequence: Vec<u32> = received
        .iter()
        .filter(|m| m.key == loan.to_string())
        .map(|m| {
            m.envelope
                .as_ref()
                .unwrap()
                .decode::<WidgetChanged>()
                .unwrap()
                .seq
        })
        .collect();
    assert_eq!(sequence, (0..60).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_commit_wakes_the_relay_without_waiting_for_the_poll() {
    let db = database().await;
    let topic = topic(1).await;
    let shutdown = CancellationToken::new();
    // The poll is far longer than the test's wait: only LISTEN/NOTIFY can deliver in time.
    let running = tokio::spawn(
        relay(
            &db,
            RelayConfig {
                poll_interval: Duration::from_secs(600),
                ..RelayConfig::default()
            },
        )
        .run(shutdown.clone()),
    );
    // Let the relay drain the (empty) outbox and start listening.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = commit_widget(&db, &topic, Uuid::new_v4(), 1).await;
    // Marked only after the broker acknowledged it: well within 2 s of the commit, on a loaded
    // machine too (it takes a few milliseconds).
    let committed = std::time::Instant::now();
    while pending(&db).await > 0 {
        assert!(
            committed.elapsed() < Duration::from_secs(2),
            "the commit did not wake the relay"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let received = read_until(&topic, Duration::from_secs(15), |r| !r.is_empty()).await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(
        received
            .as_slice()
            .first()
            .and_then(|m| m.envelope.as_ref())
            .map(|e| e.id()),
        Some(id)
    );
}
