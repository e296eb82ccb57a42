//! The per-user rate limit: past `NOTIFICATION_USER_RATE_LIMIT` messages in a window, the next
//! one waits for the next window — deferred, never dropped, no attempt spent.

use std::time::Duration;

use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;

#[tokio::test]
async fn messages_over_the_limit_wait_for_the_next_window() {
    let clock = ManualClock::at(wib("2027-01-15 10:00"));
    let env = [
        ("NOTIFICATION_USER_RATE_LIMIT", "2"),
        ("NOTIFICATION_USER_RATE_WINDOW", "1h"),
    ];
    let service = TestService::start_with(&env, Some(clock.clone())).await;
    let borrower = Borrower::new("Rina Kusuma").channels(&["EMAIL"]);
    let other = Borrower::new("Hadi Pranoto").channels(&["EMAIL"]);
    service.borrower(&borrower).await;
    service.borrower(&other).await;

    for amount in [1_000_000, 2_000_000, 3_000_000] {
        service.approve_loan(borrower.id, amount).await;
    }
    service.approve_loan(other.id, 4_000_000).await;

    service
        .notifications_when(borrower.id, |n| {
            n.iter()
                .filter(|n| n.status == NotificationStatus::Sent)
                .count()
                == 2
                && n.len() == 3
        })
        .await;
    // However often the worker looks meanwhile, the third stays held.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = service.notifications(borrower.id).await;
    let held: Vec<_> = stored
        .iter()
        .filter(|n| n.status == NotificationStatus::Pending)
        .collect();
    assert_eq!(held.len(), 1, "{stored:?}");
    assert!(held[0].attempts.is_empty(), "deferring spends no attempt");
    assert_eq!(held[0].next_attempt_at, Some(wib("2027-01-15 11:00")));
    assert_eq!(emails_to(&borrower.email).await.len(), 2);
    // Another borrower has a limit of their own.
    assert_eq!(
        wait_for_emails(&other.email, 1, Duration::from_secs(20))
            .await
            .len(),
        1
    );

    clock.set(wib("2027-01-15 11:00"));
    let emails = wait_for_emails(&borrower.email, 3, Duration::from_secs(20)).await;
    assert_eq!(emails.len(), 3);
    let settled = service.notifications_when(borrower.id, all_settled).await;
    assert!(settled.iter().all(|n| n.status == NotificationStatus::Sent));
}
