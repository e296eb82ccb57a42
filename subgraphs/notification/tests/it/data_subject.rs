//! Notification's side of the data-subject request (docs/conventions.md § Data-subject
//! requests): `myNotificationData` gives the caller their own contact data, inbox and messages;
//! a DELETED account's contact data and message texts are erased (idempotently), and its export
//! is empty.

use std::sync::{Arc, OnceLock};

use chrono::Utc;
use serde_json::{Value, json};
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_notification::domain::ChannelKind;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;
use tenor_platform::testing::wait_for;

const EXPORT: &str = "query MyDataExport { myNotificationData {
    contact { email phoneNumber fullname language timeZone channels marketingConsent }
    inbox { id eventType title content }
    deliveries { notificationId channel status to title content attemptCount } } }";

const CUSTOMER: &str = "loan:apply kyc:submit";

#[tokio::test]
async fn the_owner_exports_contact_inbox_and_messages_and_a_deletion_erases_them() {
    let service = TestService::start().await;
    let siti = Borrower::new("Siti Rahayu");
    service.borrower(&siti).await;
    let budi = Borrower::new("Budi Santoso");
    service.borrower(&budi).await;
    let approved = service.approve_loan(siti.id, 5_000_000).await;
    service.approve_loan(budi.id, 3_000_000).await;
    service.notifications_when(siti.id, all_settled).await;
    service.notifications_when(budi.id, all_settled).await;

    let token = service.token(siti.id, CUSTOMER);
    let response = service.client.query(Some(&token), EXPORT, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["myNotificationData"];
    assert_eq!(export["contact"]["email"], siti.email.as_str());
    assert_eq!(export["contact"]["fullname"], "Siti Rahayu");
    assert_eq!(export["contact"]["channels"], json!(["EMAIL", "SMS"]));
    let inbox = export["inbox"].as_array().unwrap();
    assert_eq!(inbox.len(), 1, "{export}");
    assert_eq!(inbox[0]["id"], approved.id().to_string());
    assert_eq!(inbox[0]["eventType"], "loan.approved.v1");
    let email = export["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "EMAIL")
        .unwrap_or_else(|| panic!("{export}"));
    assert_eq!(email["to"], siti.email.as_str());
    assert_eq!(email["notificationId"], approved.id().to_string());
    // Only her own: nothing of Budi's.
    assert!(!response.to_string().contains("Budi"), "{response}");
    assert!(!response.to_string().contains(&budi.email), "{response}");

    // The account is deleted: the event arrives twice.
    let envelope = service
        .publish(&service.topics.user, siti.id, &deleted(siti.id))
        .await;
    service.redeliver(&service.topics.user, &envelope).await;
    assert!(
        wait_for(async || service
            .contact(siti.id)
            .await
            .is_some_and(|c| c.status.as_deref() == Some("DELETED")))
        .await
    );
    // DELETED and the erased contact are one write: never one without the other.
    let contact = service.contact(siti.id).await.unwrap();
    assert_eq!(
        (contact.email, contact.phone_number, contact.fullname),
        (None, None, None)
    );
    // Messages and inbox items are erased next, by the same handler.
    assert!(
        wait_for(async || service
            .notifications(siti.id)
            .await
            .iter()
            .all(|m| m.content.is_empty()))
        .await
    );
    let messages = service.notifications(siti.id).await;
    assert!(!messages.is_empty());
    for message in &messages {
        assert_ne!(message.status, NotificationStatus::Pending);
        assert_eq!((message.to.as_str(), message.title.as_str()), ("", ""));
        assert_eq!(message.content, "");
    }
    assert!(
        wait_for(async || service
            .count(
                "notification_inbox",
                mongodb::bson::doc! { "user_id": siti.id.to_string(), "content": { "$ne": "" } }
            )
            .await
            == 0)
        .await
    );
    // Budi's are untouched.
    let his = service.notifications(budi.id).await;
    let his_email = his
        .iter()
        .find(|n| n.channel == ChannelKind::Email)
        .unwrap();
    assert_eq!(his_email.to, budi.email);
    assert!(!his_email.content.is_empty());
    assert_eq!(
        service.contact(budi.id).await.unwrap().email.as_deref(),
        Some(budi.email.as_str())
    );

    // A token still valid after the deletion exports nothing from here.
    let response = service.client.query(Some(&token), EXPORT, json!({})).await;
    assert_eq!(
        response["data"]["myNotificationData"],
        Value::Null,
        "{response}"
    );
    assert!(!response.to_string().contains(&siti.email), "{response}");
}

#[tokio::test]
async fn a_message_waiting_for_quiet_hours_is_withdrawn_by_the_deletion_and_never_sent() {
    // Friday 22:00 WIB: the reminder waits for 08:00.
    let clock = ManualClock::at(wib("2027-01-15 22:00"));
    let service = TestService::start_with(&[], Some(clock.clone())).await;
    let siti = Borrower::new("Siti Rahayu").channels(&["EMAIL"]);
    service.borrower(&siti).await;
    let due = chrono::NaiveDate::from_ymd_opt(2027, 1, 20).unwrap();
    service.installment_due(siti.id, due, 1_041_667).await;
    let waiting = service.notifications_when(siti.id, |n| !n.is_empty()).await;
    assert_eq!(waiting[0].status, NotificationStatus::Pending);
    assert_eq!(waiting[0].to, siti.email);

    service
        .publish(&service.topics.user, siti.id, &deleted(siti.id))
        .await;
    let withdrawn = service
        .notifications_when(siti.id, |n| {
            n.iter().all(|m| m.status == NotificationStatus::Skipped)
        })
        .await;
    assert_eq!(withdrawn.len(), 1);
    let reminder = &withdrawn[0];
    assert_eq!(reminder.skip_reason.as_deref(), Some("account deleted"));
    assert_eq!(
        (
            reminder.to.as_str(),
            reminder.title.as_str(),
            reminder.content.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(reminder.next_attempt_at, None);

    // Morning comes and nothing goes.
    clock.set(wib("2027-01-16 08:00"));
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert!(emails_to(&siti.email).await.is_empty());
}

#[tokio::test]
async fn an_event_taken_in_while_another_replica_deletes_the_account_keeps_nothing_personal() {
    // Another replica applies the deletion between this intake's read of the contact (not yet
    // deleted) and its writes: the two events travel on different partitions.
    let victim: Arc<OnceLock<(mongodb::Database, uuid::Uuid)>> = Arc::default();
    let hook_victim = victim.clone();
    let hook: tenor_notification::service::ContactReadHook = Arc::new(move |user| {
        let victim = hook_victim.clone();
        Box::pin(async move {
            if let Some((db, id)) = victim.get()
                && *id == user
            {
                delete_as_another_replica(db, user).await;
            }
        })
    });
    let service = TestService::start_with_contact_hook(hook).await;
    let siti = Borrower::new("Siti Rahayu");
    service.borrower(&siti).await;
    assert!(
        wait_for(async || service
            .contact(siti.id)
            .await
            .is_some_and(|c| c.email.is_some() && c.fullname.is_some()))
        .await
    );
    victim.set((service.db.clone(), siti.id)).unwrap();

    let approved = service.approve_loan(siti.id, 5_000_000).await;

    assert!(
        wait_for(async || service
            .count(
                "notification_inbox",
                mongodb::bson::doc! { "_id": approved.id().to_string() }
            )
            .await
            == 1)
        .await,
        "the inbox item was stored"
    );
    assert!(
        wait_for(async || {
            let messages = service.notifications(siti.id).await;
            !messages.is_empty()
                && messages.iter().all(|m| {
                    m.status != NotificationStatus::Pending
                        && (m.to.as_str(), m.title.as_str(), m.content.as_str()) == ("", "", "")
                })
        })
        .await,
        "{:?}",
        service.notifications(siti.id).await
    );
    assert_eq!(
        service
            .count(
                "notification_inbox",
                mongodb::bson::doc! { "user_id": siti.id.to_string(), "content": { "$ne": "" } }
            )
            .await,
        0,
        "the inbox item lost its text"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(emails_to(&siti.email).await.is_empty(), "nothing was sent");
}

fn deleted(user: uuid::Uuid) -> UserStatusChangedV1 {
    UserStatusChangedV1::deleted_by_owner(user, AccountStatus::Active, Utc::now())
}

/// What another replica's handling of the deletion writes: DELETED with the contact erased, then
/// the messages and inbox erased.
async fn delete_as_another_replica(db: &mongodb::Database, user: uuid::Uuid) {
    use tenor_notification::store::{contacts, erasure};
    let now = Utc::now();
    let mut erased = erasure::erased_contact(now);
    erased.insert("status", "DELETED");
    erased.insert(
        "status_at",
        mongodb::bson::DateTime::from_millis(now.timestamp_millis()),
    );
    contacts::collection(db)
        .update_one(
            mongodb::bson::doc! { "_id": user.to_string() },
            mongodb::bson::doc! { "$set": erased },
        )
        .await
        .unwrap();
    let notifications = db.collection("notifications");
    erasure::erase_messages(&notifications, user, now)
        .await
        .unwrap();
    erasure::erase_inbox(&db.collection("notification_inbox"), user)
        .await
        .unwrap();
}
