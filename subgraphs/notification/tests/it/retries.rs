//! A provider answering 500 twice then 200: sent after retries, every attempt recorded. A
//! provider that always answers 500: failed with the reason after the configured attempts,
//! while another borrower's email keeps flowing.

use std::time::Duration;

use tenor_notification::domain::ChannelKind;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;

#[tokio::test]
async fn a_provider_failing_twice_then_answering_gets_the_message_on_the_third_attempt() {
    let sms = Receiver::answering([500, 500, 200]).await;
    let service = TestService::start_with(&[("NOTIFICATION_SMS_URL", &sms.url())], None).await;
    let borrower = Borrower::new("Dewi Lestari").channels(&["SMS"]);
    service.borrower(&borrower).await;

    service.approve_loan(borrower.id, 2_000_000).await;

    let stored = service.notifications_when(borrower.id, all_settled).await;
    assert_eq!(stored.len(), 1);
    let sms_row = &stored[0];
    assert_eq!(sms_row.status, NotificationStatus::Sent, "{sms_row:?}");
    let outcomes: Vec<&str> = sms_row
        .attempts
        .iter()
        .map(|a| a.outcome.as_str())
        .collect();
    assert_eq!(outcomes, ["retryable", "retryable", "sent"]);
    assert!(
        sms_row.attempts[0].response.contains("scripted 500"),
        "{sms_row:?}"
    );
    let gaps: Vec<_> = sms_row
        .attempts
        .windows(2)
        .map(|w| (w[1].at - w[0].at).num_milliseconds())
        .collect();
    // 100ms then 200ms, ±20 % jitter: the backoff grows.
    assert!(gaps[0] >= 80 && gaps[1] >= 160, "{gaps:?}");
    let requests = sms.received();
    assert_eq!(requests.len(), 3);
    // Every attempt carries the notification id, so the provider can drop repeats.
    for request in &requests {
        assert_eq!(
            request.header("idempotency-key"),
            Some(sms_row.id.to_string().as_str())
        );
    }
}

#[tokio::test]
async fn a_provider_that_is_down_fails_its_messages_after_n_attempts_and_stops_nothing_else() {
    let sms = Receiver::answering([500]).await;
    let env = [
        ("NOTIFICATION_SMS_URL", sms.url()),
        ("NOTIFICATION_MAX_ATTEMPTS", "3".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let service = TestService::start_with(&env, None).await;
    let by_sms = Borrower::new("Rudi Hartono").channels(&["SMS"]);
    let by_email = Borrower::new("Ani Wijaya").channels(&["EMAIL"]);
    service.borrower(&by_sms).await;
    service.borrower(&by_email).await;

    service.approve_loan(by_sms.id, 4_000_000).await;
    service.approve_loan(by_email.id, 5_000_000).await;

    let emails = wait_for_emails(&by_email.email, 1, Duration::from_secs(20)).await;
    assert_eq!(emails.len(), 1, "the email went while SMS was failing");
    let failed = service.notifications_when(by_sms.id, all_settled).await;
    assert_eq!(failed.len(), 1);
    let row = &failed[0];
    assert_eq!(row.channel, ChannelKind::Sms);
    assert_eq!(row.status, NotificationStatus::Failed, "{row:?}");
    assert_eq!(row.attempts.len(), 3);
    assert!(row.failed_at.is_some());
    let reason = row.failure_reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("500") && reason.contains("after 3 attempts"),
        "{reason}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sms.received().len(), 3, "no attempt after the last one");
}
