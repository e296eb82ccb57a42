//! Every source topic is read: a security event from `auth.events` and a KYC result from
//! `kyc.events` reach the borrower with their category; a deleted account hears nothing; a
//! referral from `credit.events` tells the borrower their application is being reviewed.

use std::time::Duration;

use chrono::Utc;
use mongodb::bson::doc;
use tenor_contracts::credit::CreditReferredV1;
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

/// Credit referring an application to a person (`credit.referred` on `credit.events`) tells the
/// borrower it is being reviewed — by email and push, in their language, never the internal
/// reason code — and a redelivered referral tells them nothing more.
#[tokio::test]
async fn a_referral_from_credit_tells_the_borrower_once_that_it_is_being_reviewed() {
    let service = TestService::start().await;
    let borrower = Borrower::new("Ratna Sari").channels(&["EMAIL", "PUSH"]);
    service.borrower(&borrower).await;

    let loan = Uuid::new_v4();
    let referred = CreditReferredV1 {
        loan_id: loan,
        user_id: borrower.id,
        amount: 7_500_000,
        tenor_months: 12,
        reason_codes: vec!["SCORE_BORDERLINE".into()],
        referred_at: Utc::now(),
    };
    let envelope = service
        .publish(&service.topics.credit, loan, &referred)
        .await;
    let stored = service
        .notifications_when(borrower.id, |n| n.len() == 2 && all_settled(n))
        .await;
    let mut channels: Vec<String> = stored.iter().map(|n| format!("{:?}", n.channel)).collect();
    channels.sort();
    assert_eq!(channels, ["Email", "Push"], "{stored:?}");
    assert!(stored.iter().all(|n| n.category == Category::Loan));
    let emails = wait_for_emails(&borrower.email, 1, Duration::from_secs(20)).await;
    assert_eq!(emails.len(), 1);
    assert!(
        emails[0].subject.contains("sedang ditinjau"),
        "{}",
        emails[0].subject
    );
    assert!(emails[0].text.contains("Rp7.500.000"), "{}", emails[0].text);
    assert!(
        !emails[0].text.contains("SCORE_BORDERLINE"),
        "{}",
        emails[0].text
    );

    service.redeliver(&service.topics.credit, &envelope).await;
    // Nothing to wait for when nothing happens: give it several times what handling took.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(service.notifications(borrower.id).await.len(), 2);
    assert_eq!(
        service
            .count(
                "notification_inbox",
                doc! { "user_id": borrower.id.to_string() }
            )
            .await,
        1
    );
    assert_eq!(emails_to(&borrower.email).await.len(), 1);
}
