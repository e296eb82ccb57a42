//! Every source topic is read: a security event from `auth.events` and a KYC result from
//! `kyc.events` reach the borrower with their category; a deleted account hears nothing.

use std::time::Duration;

use chrono::Utc;
use mongodb::bson::doc;
use tenor_contracts::identity::{AccountStatus, PasswordChangedV1, UserStatusChangedV1};
use tenor_contracts::kyc::{DocumentType, KycDecisionSource, KycVerifiedV1};
use tenor_notification::domain::Category;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;
use uuid::Uuid;

#[tokio::test]
async fn security_and_kyc_events_reach_the_borrower_and_a_deleted_account_hears_nothing() {
    let service = TestService::start().await;
    let borrower = Borrower::new("Wahyu Nugroho")
        .english()
        .channels(&["EMAIL"]);
    service.borrower(&borrower).await;

    let changed = PasswordChangedV1 {
        user_id: borrower.id,
        changed_at: Utc::now(),
    };
    service
        .publish(&service.topics.auth, borrower.id, &changed)
        .await;
    let verified = KycVerifiedV1 {
        kyc_id: Uuid::new_v4(),
        user_id: borrower.id,
        document_type: DocumentType::Ktp,
        source: KycDecisionSource::Automatic,
        decided_by: None,
        verified_at: Utc::now(),
        expires_at: Utc::now() + chrono::Duration::days(365),
    };
    service
        .publish(&service.topics.kyc, verified.kyc_id, &verified)
        .await;

    let stored = service
        .notifications_when(borrower.id, |n| n.len() == 2 && all_settled(n))
        .await;
    let mut categories: Vec<Category> = stored.iter().map(|n| n.category).collect();
    categories.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(categories, [Category::Kyc, Category::Security]);
    assert!(stored.iter().all(|n| n.status == NotificationStatus::Sent));
    assert_eq!(
        wait_for_emails(&borrower.email, 2, Duration::from_secs(20))
            .await
            .len(),
        2
    );

    let gone = Borrower::new("Deleted Person").channels(&["EMAIL"]);
    service.borrower(&gone).await;
    let deleted = UserStatusChangedV1::deleted_by_owner(gone.id, AccountStatus::Active, Utc::now());
    service
        .publish(&service.topics.user, gone.id, &deleted)
        .await;
    let seen = tenor_platform::testing::wait_for(async || {
        service
            .contact(gone.id)
            .await
            .is_some_and(|c| c.status.as_deref() == Some("DELETED"))
    })
    .await;
    assert!(seen);
    service.approve_loan(gone.id, 1_000_000).await;
    // Nothing to wait for when nothing happens: give it several times what handling an event
    // takes here.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(service.notifications(gone.id).await.is_empty());
    assert_eq!(
        service
            .count(
                "notification_inbox",
                doc! { "user_id": gone.id.to_string() }
            )
            .await,
        0
    );
    assert!(emails_to(&gone.email).await.is_empty());
}
