//! `raw_access_log`: one document per read of a raw bureau report (who, which evaluation,
//! when, in which request), append-only.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::{Collection, Database, IndexModel};
use tenor_platform::cursor::Cursor;
use uuid::Uuid;

use super::{StoreError, bson_time, time_field, uuid_field};

pub const COLLECTION: &str = "raw_access_log";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAccess {
    pub id: Uuid,
    pub actor_id: Uuid,
    pub evaluation_id: Uuid,
    pub loan_id: Uuid,
    pub operation_name: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub accessed_at: DateTime<Utc>,
}

/// Which reads to list.
#[derive(Debug, Clone, Copy)]
pub enum AccessFilter {
    Evaluation(Uuid),
    Loan(Uuid),
}

pub async fn insert(log: &Collection<Document>, access: &RawAccess) -> Result<(), StoreError> {
    log.insert_one(doc! {
        "_id": access.id.to_string(),
        "actor_id": access.actor_id.to_string(),
        "evaluation_id": access.evaluation_id.to_string(),
        "loan_id": access.loan_id.to_string(),
        "operation_name": access.operation_name.clone(),
        "request_id": access.request_id.clone(),
        "client_ip": access.client_ip.clone(),
        "accessed_at": bson_time(access.accessed_at),
    })
    .await?;
    Ok(())
}

/// Newest first, after `after` (accessed at, id); at most `limit`.
pub async fn page(
    log: &Collection<Document>,
    filter: AccessFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<RawAccess>, StoreError> {
    let mut query = match filter {
        AccessFilter::Evaluation(id) => doc! { "evaluation_id": id.to_string() },
        AccessFilter::Loan(id) => doc! { "loan_id": id.to_string() },
    };
    if let Some(Cursor { at, id }) = after {
        query.insert(
            "$or",
            vec![
                doc! { "accessed_at": { "$lt": bson_time(at) } },
                doc! { "accessed_at": bson_time(at), "_id": { "$lt": id.to_string() } },
            ],
        );
    }
    let documents: Vec<Document> = log
        .find(query)
        .sort(doc! { "accessed_at": -1, "_id": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    documents.iter().map(parse).collect()
}

pub async fn ensure_indexes(db: &Database) -> mongodb::error::Result<()> {
    for key in ["evaluation_id", "loan_id"] {
        let index = IndexModel::builder()
            .keys(doc! { key: 1, "accessed_at": -1 })
            .build();
        collection(db).create_index(index).await?;
    }
    Ok(())
}

fn parse(document: &Document) -> Result<RawAccess, StoreError> {
    let text = |key: &str| document.get_str(key).ok().map(str::to_owned);
    Ok(RawAccess {
        id: uuid_field(document, "_id")?,
        actor_id: uuid_field(document, "actor_id")?,
        evaluation_id: uuid_field(document, "evaluation_id")?,
        loan_id: uuid_field(document, "loan_id")?,
        operation_name: text("operation_name"),
        request_id: text("request_id"),
        client_ip: text("client_ip"),
        accessed_at: time_field(document, "accessed_at")?,
    })
}
