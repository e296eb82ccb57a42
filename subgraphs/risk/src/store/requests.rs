//! `risk_requests`: the work queue. One document per submitted loan (`_id` = loan id), inserted
//! by the consumer if absent, claimed by a worker for a lease, rescheduled after a failed bureau
//! call, and marked DONE once the loan's evaluation exists. Kept for `RISK_REQUEST_RETENTION`
//! afterwards, so a redelivered `loan.submitted` finds it and changes nothing; once forgotten, a
//! late redelivery costs one bureau call and the evaluation's unique index still keeps it to one
//! evaluation and one event.
//!
//! ```text
//! { _id, user_id, amount, tenor_months, submitted_at, deadline, state: PENDING|DONE,
//!   attempts, next_attempt_at, claimed_until, last_error, traceparent, created_at, done_at,
//!   withdrawn (DONE because the borrower cancelled the loan, not evaluated) }
//! ```

use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Database, IndexModel};
use uuid::Uuid;

use super::{StoreError, bson_time, int_field, is_duplicate_key, time_field, uuid_field};

pub const COLLECTION: &str = "risk_requests";
const PENDING: &str = "PENDING";
const DONE: &str = "DONE";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

/// What the consumer stores for a submitted loan.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: u32,
    pub submitted_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The submission's trace, continued by the evaluation's event.
    pub traceparent: Option<String>,
}

/// A claimed request, as the worker sees it.
#[derive(Debug, Clone)]
pub struct RiskRequest {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub deadline: DateTime<Utc>,
    /// Bureau calls started so far, this one included.
    pub attempts: u32,
    pub traceparent: Option<String>,
}

/// Store `request` unless one exists for the loan, claimed by the caller for `lease` with its
/// first attempt counted: the stored request, or `None` when the loan already had one.
pub async fn insert_if_absent(
    requests: &Collection<Document>,
    request: &NewRequest,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> Result<Option<RiskRequest>, StoreError> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let document = doc! {
        "_id": request.loan_id.to_string(),
        "user_id": request.user_id.to_string(),
        "amount": request.amount,
        "tenor_months": i64::from(request.tenor_months),
        "submitted_at": bson_time(request.submitted_at),
        "deadline": bson_time(request.deadline),
        "state": PENDING,
        "attempts": 1i64,
        "next_attempt_at": bson_time(now),
        "claimed_until": bson_time(until),
        "last_error": null,
        "traceparent": request.traceparent.clone(),
        "created_at": bson_time(now),
    };
    match requests.insert_one(document).await {
        Ok(_) => Ok(Some(RiskRequest {
            loan_id: request.loan_id,
            user_id: request.user_id,
            deadline: request.deadline,
            attempts: 1,
            traceparent: request.traceparent.clone(),
        })),
        Err(error) if is_duplicate_key(&error) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Claim the request that has been due longest and is not claimed, for `lease`: counts the
/// attempt. `None` when nothing is due. On FerretDB two replicas may claim the same request at
/// the same instant; the evaluation's unique index keeps that to one evaluation.
pub async fn claim_due(
    requests: &Collection<Document>,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> Result<Option<RiskRequest>, StoreError> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let claimed = requests
        .find_one_and_update(
            doc! {
                "state": PENDING,
                "next_attempt_at": { "$lte": bson_time(now) },
                "claimed_until": { "$lte": bson_time(now) },
            },
            doc! {
                "$set": { "claimed_until": bson_time(until) },
                "$inc": { "attempts": 1i64 },
            },
        )
        .sort(doc! { "next_attempt_at": 1 })
        .return_document(ReturnDocument::After)
        .await?;
    claimed.as_ref().map(parse).transpose()
}

/// After a failed bureau call: try again at `next_attempt_at`, unclaimed.
pub async fn reschedule(
    requests: &Collection<Document>,
    loan_id: Uuid,
    next_attempt_at: DateTime<Utc>,
    error_code: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    requests
        .update_one(
            doc! { "_id": loan_id.to_string() },
            doc! { "$set": {
                "next_attempt_at": bson_time(next_attempt_at),
                "claimed_until": bson_time(now),
                "last_error": error_code,
            } },
        )
        .await?;
    Ok(())
}

/// The loan has its evaluation: nothing more to do.
pub async fn mark_done(
    requests: &Collection<Document>,
    loan_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    requests
        .update_one(
            doc! { "_id": loan_id.to_string() },
            doc! { "$set": { "state": DONE, "claimed_until": bson_time(now), "done_at": bson_time(now) } },
        )
        .await?;
    Ok(())
}

/// The borrower cancelled the loan: a request still pending ends without an evaluation (no
/// more bureau calls; an inquiry may show on the borrower's bureau file). A call already under
/// way finishes and is stored as usual. Whether a pending request was ended.
pub async fn withdraw(
    requests: &Collection<Document>,
    loan_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let ended = requests
        .update_one(
            doc! { "_id": loan_id.to_string(), "state": PENDING },
            doc! { "$set": {
                "state": DONE,
                "withdrawn": true,
                "claimed_until": bson_time(now),
                "done_at": bson_time(now),
            } },
        )
        .await?;
    Ok(ended.modified_count > 0)
}

/// Delete the requests that finished before `before`; how many.
pub async fn forget_done(
    requests: &Collection<Document>,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let deleted = requests
        .delete_many(doc! { "state": DONE, "done_at": { "$lt": bson_time(before) } })
        .await?;
    Ok(deleted.deleted_count)
}

pub async fn ensure_indexes(db: &Database) -> mongodb::error::Result<()> {
    let index = IndexModel::builder()
        .keys(doc! { "state": 1, "next_attempt_at": 1 })
        .build();
    collection(db).create_index(index).await.map(|_| ())
}

fn parse(document: &Document) -> Result<RiskRequest, StoreError> {
    Ok(RiskRequest {
        loan_id: uuid_field(document, "_id")?,
        user_id: uuid_field(document, "user_id")?,
        deadline: time_field(document, "deadline")?,
        attempts: int_field(document, "attempts")?.clamp(0, i64::from(u32::MAX)) as u32,
        traceparent: document.get_str("traceparent").ok().map(str::to_owned),
    })
}
