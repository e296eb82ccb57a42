//! The in-document outbox for MongoDB-backed services against the stack's FerretDB and Kafka.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::*;
use mongodb::bson::{Document, doc};
use tenor_events::kafka::producer;
use tenor_events::mongo_outbox::LEASE_COLLECTION;
use tenor_events::testing::Received;
use tenor_events::{MongoOutboxRelay, MongoPublisher, MongoRelayConfig};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const WIDGETS: &str = "widgets";

fn relay(db: &mongodb::Database, publisher: &MongoPublisher) -> MongoOutboxRelay {
    relay_with(db, publisher, MongoRelayConfig::default())
}

fn relay_with(
    db: &mongodb::Database,
    publisher: &MongoPublisher,
    config: MongoRelayConfig,
) -> MongoOutboxRelay {
    MongoOutboxRelay::new(
        db,
        &[WIDGETS],
        producer(&kafka()).unwrap(),
        config,
        publisher.waker(),
    )
}

fn change(widget: Uuid, seq: u32) -> WidgetChanged {
    WidgetChanged {
        widget_id: widget,
        seq,
        fail: false,
    }
}

/// Insert a widget and its events in one write, as a service would; returns the event ids.
async fn insert_widget(
    db: &mongodb::Database,
    publisher: &MongoPublisher,
    widget: Uuid,
    seqs: &[u32],
) -> Vec<Uuid> {
    let mut events = publisher.events();
    for &seq in seqs {
        events
            .add(widget.to_string(), &change(widget, seq))
            .unwrap();
    }
    let ids = events.ids().to_vec();
    let document = doc! { "_id": widget.to_string(), "status": "NEW" };
    db.collection::<Document>(WIDGETS)
        .insert_one(events.into_new_document(document))
        .await
        .unwrap();
    publisher.wake_relay();
    ids
}

async fn widget(db: &mongodb::Database, widget: Uuid) -> Document {
    db.collection::<Document>(WIDGETS)
        .find_one(doc! { "_id": widget.to_string() })
        .await
        .unwrap()
        .expect("the widget exists")
}

fn pending_count(document: &Document) -> usize {
    document.get_array("outbox").map_or(0, Vec::len)
}

/// Wait until no widget has pending events (the relay marked everything).
async fn wait_until_marked(db: &mongodb::Database) {
    let widgets = db.collection::<Document>(WIDGETS);
    for _ in 0..100 {
        let pending = widgets
            .count_documents(doc! { "outbox_pending": true })
            .await
            .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the relay did not mark every event");
}

fn ids_of(received: &[Received]) -> Vec<Uuid> {
    received
        .iter()
        .map(|m| m.envelope.as_ref().expect("a CloudEvent").id())
        .collect()
}

#[tokio::test]
async fn two_events_of_one_write_arrive_in_order_keyed_by_the_aggregate() {
    let db = mongo_database().await;
    let topic = topic(3).await;
    let publisher = MongoPublisher::new("/tenor/test", &topic);
    let shutdown = CancellationToken::new();
    // The poll is far longer than the test's wait: only the writer's wake-up delivers in time.
    let sleepy = MongoRelayConfig {
        poll_interval: Duration::from_secs(600),
        ..MongoRelayConfig::default()
    };
    let running = tokio::spawn(relay_with(&db, &publisher, sleepy).run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let widget_id = Uuid::new_v4();
    let ids = insert_widget(&db, &publisher, widget_id, &[1, 2]).await;
    let received = read_until(&topic, Duration::from_secs(20), |r| r.len() >= 2).await;
    wait_until_marked(&db).await;
    shutdown.cancel();
    running.await.unwrap();

    assert_eq!(ids_of(&received), ids, "both events, in the order written");
    for message in &received {
        assert_eq!(message.key, widget_id.to_string(), "keyed by the aggregate");
        assert_eq!(
            message.header("content-type"),
            Some("application/cloudevents+json")
        );
        let id = message.envelope.as_ref().unwrap().id().to_string();
        assert_eq!(message.header("ce_id"), Some(id.as_str()));
    }
    let stored = widget(&db, widget_id).await;
    assert_eq!(pending_count(&stored), 0, "the pending list is empty");
    assert_eq!(stored.get_bool("outbox_pending"), Ok(false));
    assert_eq!(
        stored.get_str("status"),
        Ok("NEW"),
        "the state is untouched"
    );
    db.drop().await.ok();
}

#[tokio::test]
async fn a_crash_between_publish_and_mark_republishes_the_same_ids() {
    let db = mongo_database().await;
    let topic = topic(1).await;
    let publisher = MongoPublisher::new("/tenor/test", &topic);
    let widget_id = Uuid::new_v4();
    let ids = insert_widget(&db, &publisher, widget_id, &[1, 2]).await;

    // The first relay gets Kafka's acknowledgement, then dies before marking.
    let crashed = relay(&db, &publisher);
    crashed.publish_pending_without_marking().await.unwrap();
    drop(crashed);
    assert_eq!(
        pending_count(&widget(&db, widget_id).await),
        2,
        "nothing lost"
    );

    // A new relay publishes them again, with the same ids, and marks them.
    relay(&db, &publisher).publish_pending().await.unwrap();
    let received = read_until(&topic, Duration::from_secs(20), |r| r.len() >= 4).await;
    let twice: Vec<Uuid> = ids.iter().chain(&ids).copied().collect();
    assert_eq!(
        ids_of(&received),
        twice,
        "at least once, same ids, in order"
    );
    assert_eq!(pending_count(&widget(&db, widget_id).await), 0);
    db.drop().await.ok();
}

#[tokio::test]
async fn a_state_change_and_its_event_are_written_together_or_not_at_all() {
    let db = mongo_database().await;
    let topic = topic(1).await;
    let publisher = MongoPublisher::new("/tenor/test", &topic);
    let widgets = db.collection::<Document>(WIDGETS);
    let widget_id = Uuid::new_v4();
    let created = insert_widget(&db, &publisher, widget_id, &[1]).await;

    // A conditional update whose condition fails: no state change, and no event.
    let mut doomed = publisher.events();
    doomed
        .add(widget_id.to_string(), &change(widget_id, 2))
        .unwrap();
    let doomed_id = doomed.ids()[0];
    let missed = widgets
        .update_one(
            doc! { "_id": widget_id.to_string(), "status": "APPROVED" },
            doomed.into_update(doc! { "$set": { "status": "CLOSED" } }),
        )
        .await
        .unwrap();
    assert_eq!(missed.matched_count, 0);
    let stored = widget(&db, widget_id).await;
    assert_eq!(stored.get_str("status"), Ok("NEW"));
    assert_eq!(pending_count(&stored), 1, "only the creation event");

    // The same update when the condition holds: the change and the event, after the first.
    let mut closing = publisher.events();
    closing
        .add(widget_id.to_string(), &change(widget_id, 3))
        .unwrap();
    let closed = closing.ids()[0];
    let hit = widgets
        .update_one(
            doc! { "_id": widget_id.to_string(), "status": "NEW" },
            closing.into_update(doc! { "$set": { "status": "CLOSED" } }),
        )
        .await
        .unwrap();
    assert_eq!(hit.matched_count, 1);
    let stored = widget(&db, widget_id).await;
    assert_eq!(stored.get_str("status"), Ok("CLOSED"));
    assert_eq!(pending_count(&stored), 2);

    relay(&db, &publisher).publish_pending().await.unwrap();
    let received = read_until(&topic, Duration::from_secs(20), |r| r.len() >= 2).await;
    assert_eq!(ids_of(&received), vec![created[0], closed]);
    assert!(!ids_of(&received).contains(&doomed_id));
    assert_eq!(message_count(&topic).await, 2, "nothing else was published");
    db.drop().await.ok();
}

#[tokio::test]
async fn two_relays_at_once_deliver_every_event() {
    let db = mongo_database().await;
    let topic = topic(3).await;
    let publisher = MongoPublisher::new("/tenor/test", &topic);
    // Every write happens before the relays start: FerretDB does not isolate an update from a
    // concurrent one on the same document (see the caveat in tenor_events::mongo_outbox).
    let mut written: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for _ in 0..20 {
        let widget_id = Uuid::new_v4();
        let ids = insert_widget(&db, &publisher, widget_id, &[1, 2, 3]).await;
        written.insert(widget_id, ids);
    }
    let total: usize = written.values().map(Vec::len).sum();

    let shutdown = CancellationToken::new();
    let small_batches = MongoRelayConfig {
        batch_size: 4,
        poll_interval: Duration::from_millis(50),
        ..MongoRelayConfig::default()
    };
    let relays: Vec<_> = (0..2)
        .map(|_| {
            let relay = relay_with(&db, &publisher, small_batches.clone());
            tokio::spawn(relay.run(shutdown.clone()))
        })
        .collect();
    wait_until_marked(&db).await;
    shutdown.cancel();
    for relay in relays {
        relay.await.unwrap();
    }

    let published = message_count(&topic).await;
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= published).await;
    let mut copies: HashMap<Uuid, usize> = HashMap::new();
    for id in ids_of(&received) {
        *copies.entry(id).or_default() += 1;
    }
    let duplicates = received.len() - copies.len();
    println!("two relays: {total} events, {duplicates} duplicates");
    assert_eq!(copies.len(), total, "every event delivered");
    assert_eq!(duplicates, 0, "the lease lets one relay at a time publish");
    for (widget_id, ids) in &written {
        let mut first_seen: Vec<Uuid> = Vec::new();
        for message in received.iter().filter(|m| m.key == widget_id.to_string()) {
            let id = message.envelope.as_ref().unwrap().id();
            if !first_seen.contains(&id) {
                first_seen.push(id);
            }
        }
        assert_eq!(&first_seen, ids, "first copies in the order written");
    }
    db.drop().await.ok();
}

#[tokio::test]
async fn a_lease_held_by_a_live_relay_is_respected_and_an_expired_one_taken_over() {
    let db = mongo_database().await;
    let topic = topic(1).await;
    let publisher = MongoPublisher::new("/tenor/test", &topic);
    let widget_id = Uuid::new_v4();
    let ids = insert_widget(&db, &publisher, widget_id, &[1]).await;
    let leases = db.collection::<Document>(LEASE_COLLECTION);
    let in_a_minute = std::time::SystemTime::now() + Duration::from_secs(60);

    // Another relay holds the collection: this one leaves it alone.
    let lease = doc! {
        "_id": WIDGETS,
        "owner": "a-live-relay",
        "until": mongodb::bson::DateTime::from_system_time(in_a_minute),
    };
    leases.insert_one(lease).await.unwrap();
    relay(&db, &publisher).publish_pending().await.unwrap();
    assert_eq!(pending_count(&widget(&db, widget_id).await), 1);
    assert_eq!(message_count(&topic).await, 0);

    // That relay died and its lease ran out: this one takes over and publishes.
    leases
        .update_one(
            doc! { "_id": WIDGETS },
            doc! { "$set": { "until": mongodb::bson::DateTime::from_millis(0) } },
        )
        .await
        .unwrap();
    relay(&db, &publisher).publish_pending().await.unwrap();
    let received = read_until(&topic, Duration::from_secs(20), |r| !r.is_empty()).await;
    assert_eq!(ids_of(&received), ids);
    assert_eq!(pending_count(&widget(&db, widget_id).await), 0);
    assert_eq!(
        leases.count_documents(doc! {}).await.unwrap(),
        0,
        "released after the round"
    );
    db.drop().await.ok();
}
