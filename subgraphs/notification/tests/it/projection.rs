//! The contacts projection: an older or repeated `user.*` event never overwrites a newer one,
//! whatever order the two topics deliver them in; the language and zone it keeps decide how the
//! borrower is written to.

use chrono::{Duration, Utc};
use tenor_contracts::identity::{AccountStatus, UserProfileUpdatedV1, UserStatusChangedV1};
use tenor_notification::domain::{ChannelKind, IndonesianZone, Language};
use tenor_notification::testing::*;

fn profile(
    user: uuid::Uuid,
    language: &str,
    zone: &str,
    at: chrono::DateTime<Utc>,
) -> UserProfileUpdatedV1 {
    UserProfileUpdatedV1 {
        user_id: user,
        fullname: format!("Name at {at}"),
        language: language.to_owned(),
        notification_channels: vec!["SMS".into(), "PUSH".into()],
        marketing_consent: true,
        time_zone: Some(zone.to_owned()),
        updated_at: at,
    }
}

#[tokio::test]
async fn older_and_repeated_user_events_never_overwrite_newer_ones() {
    let service = TestService::start().await;
    let borrower = Borrower::new("Tono Sutrisno");
    service.borrower(&borrower).await;
    let user = borrower.id;
    let now = Utc::now();

    let newer = profile(user, "en", "WITA", now);
    let newer_envelope = service.publish(&service.topics.user, user, &newer).await;
    let older = profile(user, "id", "WIT", now - Duration::minutes(1));
    service.publish(&service.topics.user, user, &older).await;
    service
        .redeliver(&service.topics.user, &newer_envelope)
        .await;
    let blocked = UserStatusChangedV1 {
        user_id: user,
        status: AccountStatus::Blocked,
        previous_status: AccountStatus::Active,
        reason: None,
        changed_by: None,
        changed_at: now,
    };
    service.publish(&service.topics.user, user, &blocked).await;

    let arrived = tenor_platform::testing::wait_for(async || {
        service
            .contact(user)
            .await
            .is_some_and(|c| c.status.as_deref() == Some("BLOCKED"))
    })
    .await;
    assert!(arrived);
    // user.events is keyed by user: the status event came after both profiles.
    let contact = service.contact(user).await.unwrap();
    assert_eq!(contact.language, Language::En);
    assert_eq!(contact.zone, IndonesianZone::Wita);
    assert_eq!(
        contact.channels,
        Some(vec![ChannelKind::Sms, ChannelKind::Push])
    );
    assert_eq!(contact.fullname.as_deref(), Some(newer.fullname.as_str()));
    // Registration (another topic) kept its own part.
    assert_eq!(contact.email.as_deref(), Some(borrower.email.as_str()));
    assert!(contact.marketing_consent);
}
