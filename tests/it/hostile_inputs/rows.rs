//! "Changes nothing": a checksum of every row of every service database — and of every
//! document of notification's MongoDB collections (templates and their heads, inbox items,
//! notifications, contacts) — taken once every event of the setup has settled.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::time::Duration;

use mongodb::bson::{Document, doc};

use serde_json::json;
use tenor_harness::{eventually, post_graphql};

use super::world::World;

/// Tables left out of the "no row changed" check, and why.
const UNCHECKED_TABLES: &[&str] = &[
    // Migration bookkeeping.
    "__diesel_schema_migrations",
    // Audit by design: a refused password login is recorded for throttling (per source
    // address), whatever the input. It is the only write a refused request may make.
    "login_attempts",
];

/// Every row of every table (but [`UNCHECKED_TABLES`]) of every service database, and every
/// document of notification's state collections, as one checksum per table or collection.
pub(super) async fn snapshot(
    world: &World,
    clients: &[(&'static str, tokio_postgres::Client)],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let notification = world
        .stack
        .notification
        .as_ref()
        .expect("notification runs");
    for (collection, documents) in notification.snapshot().await {
        let mut hasher = DefaultHasher::new();
        documents.hash(&mut hasher);
        out.insert(
            collection,
            format!("{}:{:x}", documents.len(), hasher.finish()),
        );
    }
    for (service, client) in clients {
        let tables = client
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
                &[],
            )
            .await
            .unwrap();
        for row in tables {
            let table: String = row.get(0);
            if UNCHECKED_TABLES.contains(&table.as_str()) {
                continue;
            }
            // The relay stamps published_at on outbox rows in the background: not a change.
            let row_text = if table == "outbox_events" {
                "(t.id, t.event_id, t.topic, t.payload)::text"
            } else {
                "t::text"
            };
            let sum: String = client
                .query_one(
                    &format!(
                        "SELECT count(*)::text || ':' || coalesce(md5(string_agg(x, ',' ORDER BY x)), '') FROM (SELECT {row_text} AS x FROM \"{table}\" t) s"
                    ),
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            out.insert(format!("{service}.{table}"), sum);
        }
    }
    out
}

/// Until every event is published and consumed: the customer's profile exists, their KYC is
/// verified in loan's projection, and no outbox row is pending.
pub(super) async fn settle(world: &World, clients: &[(&'static str, tokio_postgres::Client)]) {
    let me = format!("{}/graphql", world.stack.user_url);
    let token = world.tokens["customer"].clone();
    eventually(async || {
        let response = post_graphql(&me, "{ me { id } }", json!({}), Some(&token)).await;
        !response["data"]["me"].is_null()
    })
    .await;
    let loan = &clients.iter().find(|(s, _)| *s == "loan").unwrap().1;
    let user = world.customer.user_id.to_string();
    eventually(async || {
        loan.query(
            "SELECT 1 FROM loan_kyc_eligibility WHERE user_id::text = $1 AND status = 'VERIFIED'",
            &[&user],
        )
        .await
        .is_ok_and(|rows| !rows.is_empty())
    })
    .await;
    eventually(async || {
        for (_, client) in clients {
            let pending: i64 = client
                .query_one(
                    "SELECT count(*) FROM outbox_events WHERE published_at IS NULL",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if pending > 0 {
                return false;
            }
        }
        true
    })
    .await;
    // Consumers commit after the relay publishes: give them a moment to finish.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Notification has told the customer of their KYC verdict, and sent all it had to send.
    let notification = world
        .stack
        .notification
        .as_ref()
        .expect("notification runs");
    let inbox = notification
        .db
        .collection::<Document>(tenor_harness::notification::INBOX);
    eventually(async || {
        inbox
            .count_documents(doc! { "user_id": &user, "event_type": "kyc.verified.v1" })
            .await
            .is_ok_and(|n| n == 1)
    })
    .await;
    notification.settle().await;
}
