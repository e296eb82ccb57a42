//! The service stopped mid-batch, sends in flight (cancelled as a crash would): after the
//! restart nothing is lost, nothing that had been recorded as sent is sent again, and the only
//! repeats are messages the provider had already received when the process died — at most one
//! per send in flight, each carrying the same idempotency key so the provider can drop it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;

#[tokio::test]
async fn a_service_stopped_mid_batch_loses_nothing_and_repeats_only_what_was_in_flight() {
    // A slow provider, two sends at a time: the stop finds sends in flight.
    let sms = Receiver::start([Reply::status(200).after(Duration::from_millis(300))]).await;
    let env = [
        ("NOTIFICATION_SMS_URL", sms.url()),
        ("NOTIFICATION_WORKER_CONCURRENCY", "2".to_owned()),
        ("NOTIFICATION_SEND_TIMEOUT", "2s".to_owned()),
        ("NOTIFICATION_CLAIM_LEASE", "3s".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut service = TestService::start_with(&env, None).await;
    let borrower = Borrower::new("Putri Ayu").channels(&["SMS"]);
    service.borrower(&borrower).await;
    let events = 10;
    for i in 0..events {
        service.approve_loan(borrower.id, 1_000_000 + i).await;
    }
    sms.wait_for(3, Duration::from_secs(20)).await;

    service.stop().await;
    let at_stop = service.notifications(borrower.id).await;
    let sent_before: HashSet<String> = at_stop
        .iter()
        .filter(|n| n.status == NotificationStatus::Sent)
        .map(|n| n.id.to_string())
        .collect();
    let received_before: HashSet<String> = keys(&sms);
    assert!(sent_before.len() < events as usize, "stopped mid-batch");

    service.restart().await;
    let settled = service
        .notifications_when(borrower.id, |n| {
            n.len() == events as usize && all_settled(n)
        })
        .await;

    // Nothing lost: one notification per event, each sent, with exactly one successful call.
    assert_eq!(settled.len(), events as usize);
    for n in &settled {
        assert_eq!(n.status, NotificationStatus::Sent, "{n:?}");
        let sent = n.attempts.iter().filter(|a| a.outcome == "sent").count();
        assert_eq!(sent, 1, "{n:?}");
    }
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for request in sms.received() {
        let key = request.header("idempotency-key").unwrap().to_owned();
        *per_key.entry(key).or_default() += 1;
    }
    let ids: HashSet<String> = settled.iter().map(|n| n.id.to_string()).collect();
    assert_eq!(per_key.keys().cloned().collect::<HashSet<_>>(), ids);
    for (key, count) in &per_key {
        if sent_before.contains(key) {
            assert_eq!(
                *count, 1,
                "{key} was recorded as sent and must not go again"
            );
        } else if *count > 1 {
            // Received but not yet recorded when the process died: the one repeat allowed.
            assert!(received_before.contains(key), "{key}");
            assert_eq!(*count, 2, "{key}");
        }
    }
    let repeats = per_key.values().filter(|c| **c > 1).count();
    assert!(
        repeats <= 2,
        "at most one repeat per send in flight: {per_key:?}"
    );
}

fn keys(receiver: &Receiver) -> HashSet<String> {
    receiver
        .received()
        .iter()
        .filter_map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect()
}
