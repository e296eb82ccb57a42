//! A reminder that comes in at 22:00 WIB waits for 08:00 WIB the next allowed day (time
//! injected, not slept), and an English-speaking borrower gets it in English.

use std::time::Duration;

use chrono::NaiveDate;
use tenor_notification::domain::ChannelKind;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;

#[tokio::test]
async fn a_reminder_at_22_wib_goes_at_08_wib_the_next_allowed_day_in_the_borrowers_language() {
    // Friday 15 January 2027, 22:00 WIB: Saturday 16 is a working day.
    let clock = ManualClock::at(wib("2027-01-15 22:00"));
    let service = TestService::start_with(&[], Some(clock.clone())).await;
    let borrower = Borrower::new("Sarah Johnson")
        .english()
        .channels(&["EMAIL"]);
    service.borrower(&borrower).await;
    let due = NaiveDate::from_ymd_opt(2027, 1, 20).unwrap();

    service.installment_due(borrower.id, due, 1_041_667).await;

    let pending = service
        .notifications_when(borrower.id, |n| !n.is_empty())
        .await;
    assert_eq!(pending.len(), 1);
    let reminder = &pending[0];
    assert_eq!(reminder.channel, ChannelKind::Email);
    assert_eq!(reminder.status, NotificationStatus::Pending);
    assert!(reminder.quiet_hours);
    assert_eq!(reminder.next_attempt_at, Some(wib("2027-01-16 08:00")));
    assert!(
        reminder.title.starts_with("Reminder:"),
        "English: {reminder:?}"
    );
    assert!(reminder.content.contains("20 January 2027"), "{reminder:?}");
    // Nothing goes during the night, however often the worker looks.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(emails_to(&borrower.email).await.is_empty());

    clock.set(wib("2027-01-16 07:59"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        emails_to(&borrower.email).await.is_empty(),
        "not before 08:00"
    );

    clock.set(wib("2027-01-16 08:00"));
    let emails = wait_for_emails(&borrower.email, 1, Duration::from_secs(20)).await;
    assert_eq!(emails.len(), 1);
    assert!(emails[0].subject.contains("Rp1.041.667"), "{:?}", emails[0]);
    assert!(
        emails[0].text.contains("Hello Sarah Johnson"),
        "{:?}",
        emails[0]
    );
    let sent = service.notifications_when(borrower.id, all_settled).await;
    assert_eq!(sent[0].sent_at, Some(wib("2027-01-16 08:00")));
}

#[tokio::test]
async fn a_reminder_on_saturday_night_skips_sunday() {
    // Saturday 16 January 2027, 21:30 WIB → Monday 18 January 08:00 WIB.
    let clock = ManualClock::at(wib("2027-01-16 21:30"));
    let service = TestService::start_with(&[], Some(clock)).await;
    let borrower = Borrower::new("Agus Salim").channels(&["EMAIL"]);
    service.borrower(&borrower).await;

    service
        .installment_due(
            borrower.id,
            NaiveDate::from_ymd_opt(2027, 1, 25).unwrap(),
            500_000,
        )
        .await;

    let pending = service
        .notifications_when(borrower.id, |n| !n.is_empty())
        .await;
    assert_eq!(pending[0].next_attempt_at, Some(wib("2027-01-18 08:00")));
    assert!(
        pending[0].title.starts_with("Pengingat"),
        "Indonesian: {:?}",
        pending[0]
    );
}
