//! The acceptance path: a loan approved → exactly one email in Mailpit (right amount, right
//! language), one SMS at the provider, one inbox item pushed live; the same event redelivered —
//! with and without its Redis dedupe key — changes nothing.

use std::time::Duration;

use tenor_notification::domain::ChannelKind;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;

use crate::support::WsClient;

#[tokio::test]
async fn an_approved_loan_is_one_email_one_sms_and_one_live_inbox_item_even_when_redelivered() {
    let sms = Receiver::answering([200]).await;
    let service = TestService::start_with(&[("NOTIFICATION_SMS_URL", &sms.url())], None).await;
    let borrower = Borrower::new("Siti Rahayu");
    service.borrower(&borrower).await;
    let token = service.token(borrower.id, "");
    let mut live = WsClient::connect(&service.base_url, &token).await;
    live.subscribe_notifications("inbox").await;

    let approved = service.approve_loan(borrower.id, 1_250_000).await;

    let emails = wait_for_emails(&borrower.email, 1, Duration::from_secs(20)).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let email = &emails[0];
    assert!(email.subject.contains("Rp1.250.000"), "{email:?}");
    assert!(email.subject.contains("disetujui"), "Indonesian: {email:?}");
    assert!(email.text.contains("Halo Siti Rahayu"), "{email:?}");
    let requests = sms.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json["to"], borrower.phone.clone().unwrap());
    assert!(
        requests[0].body.contains("Rp1.250.000"),
        "{}",
        requests[0].body
    );

    let pushed = live.received(Duration::from_secs(10)).await;
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert_eq!(pushed[0]["id"], approved.id().to_string());
    assert_eq!(pushed[0]["category"], "LOAN");
    assert_eq!(pushed[0]["read"], false);
    assert!(
        pushed[0]["content"]
            .as_str()
            .unwrap()
            .contains("Rp1.250.000")
    );

    let stored = service
        .notifications_when(borrower.id, |n| {
            n.iter()
                .filter(|n| n.status == NotificationStatus::Sent)
                .count()
                == 2
        })
        .await;
    let email_row = stored
        .iter()
        .find(|n| n.channel == ChannelKind::Email)
        .unwrap();
    assert_eq!(
        email.notification_id.as_deref(),
        Some(email_row.id.to_string().as_str())
    );
    assert_eq!(email_row.attempts.len(), 1);
    assert_eq!(email_row.attempts[0].outcome, "sent");
    assert_eq!(
        email_row.content,
        email.text.trim_end().replace("\r\n", "\n").trim_end()
    );

    // Redelivered as it was: the Redis key short-cuts it.
    service.redeliver(&service.topics.loan, &approved).await;
    // Redelivered after the key is gone: the unique indexes refuse every insert.
    service.forget_handled(approved.id()).await;
    service.redeliver(&service.topics.loan, &approved).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert_eq!(emails_to(&borrower.email).await.len(), 1);
    assert_eq!(sms.received().len(), 1);
    assert_eq!(live.received(Duration::from_millis(500)).await.len(), 0);
    assert_eq!(service.notifications(borrower.id).await.len(), 2);
    assert_eq!(
        service
            .count(
                "notification_inbox",
                mongodb::bson::doc! { "user_id": borrower.id.to_string() }
            )
            .await,
        1
    );
}

#[tokio::test]
async fn a_channel_without_an_address_or_provider_is_skipped_not_failed() {
    // No SMS provider configured and no push: SMS and push are "not available".
    let service = TestService::start().await;
    let mut borrower = Borrower::new("Budi Santoso").channels(&["EMAIL", "SMS", "PUSH"]);
    borrower.phone = None;
    service.borrower(&borrower).await;

    service.approve_loan(borrower.id, 3_000_000).await;

    let stored = service.notifications_when(borrower.id, all_settled).await;
    let status = |kind: ChannelKind| {
        let n = stored.iter().find(|n| n.channel == kind).unwrap();
        (n.status, n.skip_reason.clone())
    };
    assert_eq!(status(ChannelKind::Email).0, NotificationStatus::Sent);
    assert_eq!(
        status(ChannelKind::Sms),
        (
            NotificationStatus::Skipped,
            Some("sms not available".into())
        )
    );
    assert_eq!(
        status(ChannelKind::Push),
        (
            NotificationStatus::Skipped,
            Some("push not available".into())
        )
    );
}

#[tokio::test]
async fn a_rejection_reads_in_the_borrowers_language_whatever_language_credit_explained_it_in() {
    let sms = Receiver::answering([200, 200]).await;
    let service = TestService::start_with(&[("NOTIFICATION_SMS_URL", &sms.url())], None).await;
    let siti = Borrower::new("Siti Rahayu").channels(&["SMS"]);
    let john = Borrower::new("John Tan").english().channels(&["SMS"]);
    service.borrower(&siti).await;
    service.borrower(&john).await;
    // What credit publishes for a score below the threshold: its code and an English sentence.
    let english = "Your application does not meet our credit score requirements at this time.";

    service
        .reject_loan(siti.id, &["SCORE_BELOW_THRESHOLD"], english)
        .await;
    service
        .reject_loan(john.id, &["SCORE_BELOW_THRESHOLD"], english)
        .await;

    let requests = sms.wait_for(2, Duration::from_secs(20)).await;
    let text_to = |borrower: &Borrower| {
        let to = borrower.phone.clone().unwrap();
        let request = requests.iter().find(|r| r.json["to"] == to).unwrap();
        request.json["text"].as_str().unwrap().to_owned()
    };
    let indonesian = text_to(&siti);
    assert!(
        indonesian.contains("Alasan: Skor kredit Anda belum memenuhi persyaratan kami saat ini. "),
        "{indonesian}"
    );
    assert!(!indonesian.contains("Your application"), "{indonesian}");
    assert!(!indonesian.contains(".."), "{indonesian}");
    let english_sms = text_to(&john);
    assert!(
        english_sms
            .contains("Reason: Your credit score does not meet our requirements at this time. "),
        "{english_sms}"
    );
    assert!(!english_sms.contains(".."), "{english_sms}");
}
