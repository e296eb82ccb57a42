//! Notification's side of the data-subject request (docs/conventions.md § Data-subject
//! requests): `myNotificationData` gives the caller their own contact data, inbox and messages;
//! a DELETED account's contact data and message texts are erased (idempotently), and its export
//! is empty.

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
    let deleted = UserStatusChangedV1 {
        user_id: siti.id,
        status: AccountStatus::Deleted,
        previous_status: AccountStatus::Active,
        reason: None,
        changed_by: None,
        changed_at: Utc::now(),
    };
    let envelope = service
        .publish(&service.topics.user, siti.id, &deleted)
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
