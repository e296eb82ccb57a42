//! A deleted account's personal data leaves the notification store (docs/conventions.md
//! § Data-subject requests): the contact projection loses the email address, phone number and
//! names, and every finished message and inbox item loses its address and rendered text (which
//! greet the borrower by name). What stays is the record that a message of a given type went
//! on a given channel at a given time, with its status and attempts.
//!
//! Messages still waiting for delivery are withdrawn (skipped, "account deleted") with their text
//! blanked, except one a worker holds at that moment: the worker settles that one and erases
//! again after it (`service::delivery`). FerretDB does not isolate two concurrent updates of one
//! document (docs/architecture.md), so whoever may race the erasure checks the account after
//! its own write (`NotificationService::erase_if_deleted`).

use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use uuid::Uuid;

use super::{StoreError, bson_time};

/// Blank the contact's identifiers and names, and move its registration and profile guards to
/// the deletion's time so that an older registration or profile event arriving late cannot
/// bring them back.
pub async fn erase_contact(
    contacts: &Collection<Document>,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    contacts
        .update_one(
            doc! { "_id": user.to_string() },
            doc! { "$set": erased_contact(at) },
        )
        .await?;
    Ok(())
}

/// The contact fields a deletion at `at` writes. The status change writes them together with
/// `DELETED` in one document update, so no reader ever sees a deleted account's contact with
/// its personal data; [`erase_contact`] writes them again for a redelivered or out-of-order
/// deletion.
pub fn erased_contact(at: DateTime<Utc>) -> Document {
    doc! {
        "email": Bson::Null,
        "phone_number": Bson::Null,
        "fullname": Bson::Null,
        "registered_fullname": Bson::Null,
        "registered_at": bson_time(at),
        "profile_at": bson_time(at),
    }
}

/// The reason a withdrawn message carries.
pub const ACCOUNT_DELETED: &str = "account deleted";

/// Blank the address and rendered text of the user's messages, and withdraw those still waiting
/// that no worker holds at `now`. How many changed.
pub async fn erase_messages(
    notifications: &Collection<Document>,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let finished = notifications
        .update_many(
            doc! {
                "user_id": user.to_string(),
                "status": { "$in": ["sent", "failed", "skipped"] },
            },
            doc! { "$set": { "to": "", "title": "", "content": "" } },
        )
        .await?;
    let waiting = notifications
        .update_many(
            doc! {
                "user_id": user.to_string(),
                "status": "pending",
                "claimed_until": { "$lte": bson_time(now) },
            },
            doc! { "$set": withdrawn() },
        )
        .await?;
    Ok(finished.modified_count + waiting.modified_count)
}

/// Withdraw one waiting message of a deleted account (the worker, holding its claim, found the
/// account deleted); one no longer waiting is left as it is.
pub async fn withdraw_message(
    notifications: &Collection<Document>,
    id: Uuid,
) -> Result<(), StoreError> {
    notifications
        .update_one(
            doc! { "_id": id.to_string(), "status": "pending" },
            doc! { "$set": withdrawn() },
        )
        .await?;
    Ok(())
}

fn withdrawn() -> Document {
    doc! {
        "status": "skipped",
        "skip_reason": ACCOUNT_DELETED,
        "next_attempt_at": Bson::Null,
        "to": "",
        "title": "",
        "content": "",
    }
}

/// Blank the rendered text of the user's inbox items.
pub async fn erase_inbox(inbox: &Collection<Document>, user: Uuid) -> Result<u64, StoreError> {
    let result = inbox
        .update_many(
            doc! { "user_id": user.to_string() },
            doc! { "$set": { "title": "", "content": "" } },
        )
        .await?;
    Ok(result.modified_count)
}
