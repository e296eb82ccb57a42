//! The MongoDB-compatible server the stack runs (FerretDB) must do what the risk and
//! notification services will ask of it, through the official Rust driver. If a server upgrade
//! or swap breaks one of these, this test says which.
//!
//! Found by this test: FerretDB v1.24.2 computes only the *first* accumulator of a `$group`
//! stage; later ones silently come back as 0. Services use one accumulator per `$group`
//! (several pipelines, or `count_documents`) until the server is replaced.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::error::ErrorKind;
use mongodb::options::{FindOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, IndexModel};
use tenor_platform::testing::mongodb_url;

async fn collection() -> (Client, Collection<Document>) {
    let client = Client::with_uri_str(mongodb_url())
        .await
        .expect("MongoDB URL parses");
    let db = client.database(&format!("compat_{}", std::process::id()));
    let name = format!("c_{}", uuid_suffix());
    let coll = db.collection::<Document>(&name);
    (client, coll)
}

fn uuid_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos:x}")
}

async fn seed(coll: &Collection<Document>) {
    let docs = (1..=10).map(|i| {
        doc! {
            "user_id": format!("u{}", i % 3),
            "seq": i,
            "status": if i % 2 == 0 { "READ" } else { "UNREAD" },
            "score": i * 10,
        }
    });
    coll.insert_many(docs).await.expect("insert_many");
}

#[tokio::test]
async fn find_with_filter_sort_and_limit() {
    let (client, coll) = collection().await;
    seed(&coll).await;
    let found: Vec<Document> = coll
        .find(doc! { "status": "UNREAD" })
        .sort(doc! { "seq": -1 })
        .limit(2)
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("cursor");
    let seqs: Vec<i32> = found.iter().map(|d| d.get_i32("seq").unwrap()).collect();
    assert_eq!(seqs, vec![9, 7]);

    // Batches smaller than the result set exercise getMore.
    let all: Vec<Document> = coll
        .find(doc! {})
        .with_options(FindOptions::builder().batch_size(3).build())
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("getMore");
    assert_eq!(all.len(), 10);
    client.shutdown().await;
}

#[tokio::test]
async fn updates_and_find_one_and_update() {
    let (client, coll) = collection().await;
    seed(&coll).await;
    let result = coll
        .update_many(
            doc! { "user_id": "u1" },
            doc! { "$set": { "status": "READ" } },
        )
        .await
        .expect("update_many");
    assert_eq!(result.matched_count, 4);
    let unread = coll
        .count_documents(doc! { "user_id": "u1", "status": "UNREAD" })
        .await
        .expect("count");
    assert_eq!(unread, 0);

    let after = coll
        .find_one_and_update(doc! { "seq": 5 }, doc! { "$inc": { "score": 7 } })
        .return_document(ReturnDocument::After)
        .await
        .expect("findAndModify")
        .expect("document exists");
    assert_eq!(after.get_i32("score").unwrap(), 57);

    // Upsert: the pattern for single-document state + idempotency keys.
    let upserted = coll
        .find_one_and_update(
            doc! { "_id": "evt-1" },
            doc! { "$setOnInsert": { "handled": true } },
        )
        .upsert(true)
        .return_document(ReturnDocument::After)
        .await
        .expect("upsert")
        .expect("upserted document");
    assert!(upserted.get_bool("handled").unwrap());
    client.shutdown().await;
}

#[tokio::test]
async fn unique_index_rejects_a_duplicate() {
    let (client, coll) = collection().await;
    coll.create_index(
        IndexModel::builder()
            .keys(doc! { "event_id": 1 })
            .options(IndexOptions::builder().unique(true).build())
            .build(),
    )
    .await
    .expect("createIndexes");
    coll.insert_one(doc! { "event_id": "e-1" })
        .await
        .expect("first insert");
    let error = coll
        .insert_one(doc! { "event_id": "e-1" })
        .await
        .expect_err("duplicate must be refused");
    let duplicate = match *error.kind {
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(ref e)) => e.code == 11000,
        _ => false,
    };
    assert!(duplicate, "expected E11000, got {error}");
    assert_eq!(coll.count_documents(doc! {}).await.unwrap(), 1);
    client.shutdown().await;
}

#[tokio::test]
async fn aggregation_stages_the_services_use() {
    let (client, coll) = collection().await;
    seed(&coll).await;
    // Unread count per user (notification), highest first; one accumulator per $group.
    let pipeline = vec![
        doc! { "$match": { "status": "UNREAD" } },
        doc! { "$group": { "_id": "$user_id", "unread": { "$sum": 1 } } },
        doc! { "$sort": { "unread": -1, "_id": 1 } },
        doc! { "$limit": 2 },
        doc! { "$project": { "unread": 1 } },
    ];
    let rows: Vec<Document> = coll
        .aggregate(pipeline)
        .await
        .expect("aggregate")
        .try_collect()
        .await
        .expect("aggregate cursor");
    // UNREAD seqs 1,3,5,7,9 → users u1 (1,7), u0 (3,9), u2 (5).
    let summary: Vec<(String, i32)> = rows
        .iter()
        .map(|d| {
            (
                d.get_str("_id").unwrap().to_owned(),
                d.get_i32("unread").unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, vec![("u0".to_owned(), 2), ("u1".to_owned(), 2)]);

    // Sum of a field per group (risk: exposure per user).
    let sums: Vec<Document> = coll
        .aggregate(vec![
            doc! { "$match": { "status": "UNREAD" } },
            doc! { "$group": { "_id": "$user_id", "score": { "$sum": "$score" } } },
            doc! { "$sort": { "_id": 1 } },
        ])
        .await
        .expect("aggregate $sum of a field")
        .try_collect()
        .await
        .unwrap();
    let sums: Vec<i32> = sums.iter().map(|d| d.get_i32("score").unwrap()).collect();
    assert_eq!(sums, vec![120, 80, 50]);

    let counted: Vec<Document> = coll
        .aggregate(vec![
            doc! { "$match": { "user_id": "u2" } },
            doc! { "$count": "n" },
        ])
        .await
        .expect("$count")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(counted[0].get_i32("n").unwrap(), 3);
    client.shutdown().await;
}

#[tokio::test]
async fn deletes_and_shutdown_without_session_errors() {
    let (client, coll) = collection().await;
    seed(&coll).await;
    let deleted = coll
        .delete_many(doc! { "status": "READ" })
        .await
        .expect("delete_many");
    assert_eq!(deleted.deleted_count, 5);
    // Implicit sessions were used above; ending them at shutdown must not fail or hang.
    tokio::time::timeout(std::time::Duration::from_secs(10), client.shutdown())
        .await
        .expect("client shutdown completes");
}
