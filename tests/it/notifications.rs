//! Borrowers hear about their loan decisions, with no test producer anywhere: a borrower applies
//! through the router, risk and credit approve, loan publishes `loan.approved`, and notification
//! — a process of its own — sends one email (to the stack's Mailpit), one SMS (to the stack's
//! SMS receiver) and puts one item in the borrower's inbox, pushed over the router's WebSocket
//! on the app's `WatchNotifications`. In the borrower's language: Indonesian unless their
//! profile says English. Only the owner can mark an item read; anyone else gets `NOT_FOUND`.
//!
//! Also: notification killed (SIGKILL) while decisions keep coming and started again tells
//! every decision as exactly one notification — a send the kill caught between the provider's
//! acceptance and its record may reach the provider twice, as the same notification.
//!
//! The app's operations are read from `schema/operations/`, so what is tested is what ships.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenor_harness::deciders::bureau;
use tenor_harness::journeys::{apply_when_eligible, make_eligible};
use tenor_harness::notification::{CaughtEmail, Notifications, ReceivedRequest, emails_to};
use tenor_harness::ws::{self, Live};
use tenor_harness::{Account, RouterStack, eventually, repo_root};
use uuid::Uuid;

const UPDATE_PROFILE: &str = "mutation UpdateProfile($input: UpdateProfileInput!) { updateProfile(input: $input) { userErrors { code field message } } }";
const LOAN_STATUS: &str = "query LoanStatus($id: ID!) { loan(id: $id) { status } }";
const APPROVED: &str = "loan.approved.v1";
/// What `apply_when_eligible` asks for, as a borrower reads it.
const AMOUNT: &str = "Rp5.000.000";

/// What an approval says in one language.
struct Wording {
    /// Profile language (`None`: never chosen, so Indonesian).
    profile: Option<&'static str>,
    email_subject: &'static str,
    email_text: &'static str,
    sms: &'static str,
    inbox: &'static str,
}

const INDONESIAN: Wording = Wording {
    profile: None,
    email_subject: "Pengajuan pinjaman Anda sebesar Rp5.000.000 disetujui",
    email_text: "Jumlah pinjaman: Rp5.000.000",
    sms: "pinjaman Anda sebesar Rp5.000.000 untuk 6 bulan telah disetujui",
    inbox: "Pinjaman Anda sebesar Rp5.000.000 untuk 6 bulan telah disetujui",
};

const ENGLISH: Wording = Wording {
    profile: Some("EN"),
    email_subject: "Your loan application for Rp5.000.000 is approved",
    email_text: "Loan amount: Rp5.000.000",
    sms: "your loan of Rp5.000.000 for 6 months is approved",
    inbox: "Your loan of Rp5.000.000 for 6 months is approved",
};

/// A borrower with verified KYC, a clean bureau file and a phone number, whose inbox holds
/// nothing unread.
struct Borrower {
    account: Account,
    token: String,
}

impl Borrower {
    fn email(&self) -> &str {
        &self.account.identifier
    }

    fn phone(&self) -> &str {
        self.account
            .phone
            .as_deref()
            .expect("a phone on the account")
    }
}

fn operation(name: &str) -> String {
    let path = repo_root().join(format!("schema/operations/{name}.graphql"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn notifications(stack: &RouterStack) -> &Notifications {
    stack
        .subgraphs
        .notification
        .as_ref()
        .expect("a deciding stack runs notification")
}

async fn borrower(stack: &RouterStack, wording: &Wording) -> Borrower {
    let account = stack.customer_with_phone().await;
    stack
        .deciders()
        .bureau_file(account.user_id, &bureau::clean())
        .await;
    let token = make_eligible(stack, &account).await;
    if let Some(language) = wording.profile {
        let updated = stack
            .gql(
                UPDATE_PROFILE,
                json!({ "input": { "language": language, "notificationChannels": ["EMAIL", "SMS", "PUSH"] } }),
                Some(&token),
            )
            .await;
        assert_eq!(
            updated["data"]["updateProfile"]["userErrors"],
            json!([]),
            "{updated}"
        );
        // A loan is decided in seconds: the choice must have reached notification first, or
        // the test would race the profile event against the decision.
        eventually(async || {
            notifications(stack)
                .contact(account.user_id)
                .await
                .is_some_and(|c| c.get_str("language") == Ok("en"))
        })
        .await;
    }
    // The KYC verdict is told too: read it, so the decision becomes the one unread item.
    eventually(async || {
        my_notifications(stack, &token).await["myNotifications"]["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.iter().any(|n| n["eventType"] == "kyc.verified.v1"))
    })
    .await;
    let marked = stack
        .gql(
            &operation("MarkAllNotificationsRead"),
            json!({}),
            Some(&token),
        )
        .await;
    let marked = &marked["data"]["markAllNotificationsRead"];
    assert_eq!(marked["userErrors"], json!([]), "{marked}");
    assert!(marked["markedCount"].as_i64() >= Some(1), "{marked}");
    Borrower { account, token }
}

/// `MyNotifications`' data (the first 100, newest first).
async fn my_notifications(stack: &RouterStack, token: &str) -> Value {
    let response = stack
        .gql(
            &operation("MyNotifications"),
            json!({ "first": 100 }),
            Some(token),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"].clone()
}

fn approvals_in(inbox: &Value) -> Vec<Value> {
    inbox["myNotifications"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{inbox}"))
        .iter()
        .filter(|n| n["eventType"] == APPROVED)
        .cloned()
        .collect()
}

async fn mark_read(stack: &RouterStack, token: &str, id: &str) -> Value {
    let response = stack
        .gql(
            &operation("MarkNotificationRead"),
            json!({ "input": { "id": id } }),
            Some(token),
        )
        .await;
    response["data"]["markNotificationRead"].clone()
}

/// The app's `WatchNotifications`, on a socket read continuously.
async fn watch(stack: &RouterStack, token: &str) -> Live {
    let mut socket = ws::connect(&stack.router).await;
    ws::init(&mut socket, Some(token)).await;
    ws::send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": operation("WatchNotifications"), "operationName": "WatchNotifications" } }),
    )
    .await;
    Live::new(socket)
}

/// The inbox items pushed within `within`, once nothing more comes.
async fn pushed(socket: &mut Live, within: Duration) -> Vec<Value> {
    let mut items = Vec::new();
    while let Some(message) = socket.next(within).await {
        let message = message.unwrap_or_else(|code| panic!("subscription closed ({code})"));
        assert_eq!(message["type"], "next", "{message}");
        items.push(message["payload"]["data"]["notificationReceived"].clone());
    }
    items
}

/// The approval pushed to `socket` (waiting up to 30 s). A KYC verdict told just before may
/// come first; nothing else may.
async fn approval_pushed(socket: &mut Live) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let within = deadline.saturating_duration_since(Instant::now());
        let message = socket
            .next(within)
            .await
            .expect("no approval pushed within 30 s")
            .unwrap_or_else(|code| panic!("subscription closed ({code})"));
        assert_eq!(message["type"], "next", "{message}");
        let item = message["payload"]["data"]["notificationReceived"].clone();
        if item["eventType"] == APPROVED {
            return item;
        }
        assert_eq!(
            item["eventType"], "kyc.verified.v1",
            "unexpected push {item}"
        );
    }
}

/// The approval emails Mailpit holds for `borrower` once there is one (or after 30 s).
async fn approval_emails(borrower: &Borrower) -> Vec<CaughtEmail> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let emails: Vec<CaughtEmail> = emails_to(borrower.email())
            .await
            .into_iter()
            .filter(|e| e.text.contains(AMOUNT) || e.subject.contains(AMOUNT))
            .collect();
        if !emails.is_empty() || Instant::now() > deadline {
            return emails;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The SMS the receiver got for `borrower` once there is one (or after 30 s).
async fn sms(stack: &RouterStack, borrower: &Borrower) -> Vec<ReceivedRequest> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sms = notifications(stack).sms_to(borrower.phone());
        if !sms.is_empty() || Instant::now() > deadline {
            return sms;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn apply(stack: &RouterStack, borrower: &Borrower) -> String {
    let applied = apply_when_eligible(stack, &borrower.token, &Uuid::new_v4().to_string()).await;
    applied["loan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("applied: {applied}"))
        .to_owned()
}

/// `borrower` applies while watching; what they heard of the approval is checked in `wording`.
/// The inbox item's id.
async fn approval_told(stack: &RouterStack, borrower: &Borrower, wording: &Wording) -> String {
    let mut socket = watch(stack, &borrower.token).await;
    let loan = apply(stack, borrower).await;

    let item = approval_pushed(&mut socket).await;
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(item["category"], "LOAN", "{item}");
    assert_eq!(item["link"], format!("tenor://loans/{loan}"), "{item}");
    assert_eq!(item["read"], false, "{item}");
    let content = item["content"].as_str().unwrap();
    assert!(content.contains(wording.inbox), "{content}");

    let inbox = my_notifications(stack, &borrower.token).await;
    assert_eq!(inbox["unreadNotificationCount"], 1, "{inbox}");
    let approvals = approvals_in(&inbox);
    assert_eq!(approvals.len(), 1, "{inbox}");
    assert_eq!(approvals[0]["id"], id.as_str());

    let emails = approval_emails(borrower).await;
    assert_eq!(emails.len(), 1, "one approval email: {emails:?}");
    let email = &emails[0];
    assert_eq!(email.subject, wording.email_subject, "{email:?}");
    assert!(email.text.contains(wording.email_text), "{email:?}");
    assert!(email.text.contains("Siti Rahayu"), "{email:?}");

    let sms = sms(stack, borrower).await;
    assert_eq!(sms.len(), 1, "one SMS: {sms:?}");
    let text = sms[0].json["text"].as_str().unwrap_or_default();
    assert!(text.contains(wording.sms), "{text}");

    // Nothing more comes: no second push, email or SMS.
    let more = pushed(&mut socket, Duration::from_secs(2)).await;
    assert!(more.iter().all(|i| i["eventType"] != APPROVED), "{more:?}");
    assert_eq!(approval_emails(borrower).await.len(), 1);
    assert_eq!(notifications(stack).sms_to(borrower.phone()).len(), 1);
    id
}

#[tokio::test]
async fn an_approval_is_told_once_by_email_sms_and_inbox_in_the_borrowers_language() {
    let stack = RouterStack::start_deciding().await;
    let (indonesian, english) =
        tokio::join!(borrower(&stack, &INDONESIAN), borrower(&stack, &ENGLISH));
    let (item, english_item) = tokio::join!(
        approval_told(&stack, &indonesian, &INDONESIAN),
        approval_told(&stack, &english, &ENGLISH),
    );

    // Someone else's item looks like an unknown one, and stays unread.
    for id in [item.as_str(), &Uuid::now_v7().to_string()] {
        let payload = mark_read(&stack, &english.token, id).await;
        assert_eq!(payload["notification"], Value::Null, "{payload}");
        let codes: Vec<&Value> = payload["userErrors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["code"])
            .collect();
        assert_eq!(codes, [&json!("NOT_FOUND")], "{payload}");
    }
    let inbox = my_notifications(&stack, &indonesian.token).await;
    assert_eq!(inbox["unreadNotificationCount"], 1, "{inbox}");

    // The owner marks it read.
    let payload = mark_read(&stack, &indonesian.token, &item).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["notification"]["id"], item.as_str());
    assert_eq!(payload["notification"]["read"], true, "{payload}");
    assert!(payload["notification"]["readAt"].is_string(), "{payload}");
    let inbox = my_notifications(&stack, &indonesian.token).await;
    assert_eq!(inbox["unreadNotificationCount"], 0, "{inbox}");
    assert_eq!(approvals_in(&inbox)[0]["read"], true, "{inbox}");
    // The other borrower's item is untouched by all this.
    let inbox = my_notifications(&stack, &english.token).await;
    assert_eq!(inbox["unreadNotificationCount"], 1, "{inbox}");
    assert_eq!(approvals_in(&inbox)[0]["id"], english_item.as_str());
}

async fn loan_status(stack: &RouterStack, borrower: &Borrower, loan: &str) -> Value {
    let response = stack
        .gql(LOAN_STATUS, json!({ "id": loan }), Some(&borrower.token))
        .await;
    response["data"]["loan"]["status"].clone()
}

async fn approved(stack: &RouterStack, borrower: &Borrower, loan: &str) {
    eventually(async || loan_status(stack, borrower, loan).await == "APPROVED").await;
}

/// Once every borrower has heard of their approval: one notification per channel and one inbox
/// item each. The first `in_flight` borrowers' sends may have been cut off by the kill after the
/// provider accepted them and before the service recorded it; such a send is made again after
/// its lease, as the same notification (same `X-Tenor-Notification-Id`, same SMS `reference`, so
/// the receiver can tell): at most one more copy, never a second notification.
async fn each_told_once(stack: &RouterStack, borrowers: &[Borrower], in_flight: usize) {
    for (i, borrower) in borrowers.iter().enumerate() {
        let copies = if i < in_flight { 1..=2 } else { 1..=1 };
        let emails = approval_emails(borrower).await;
        assert!(
            copies.contains(&emails.len()),
            "{}: {emails:?}",
            borrower.email()
        );
        assert!(
            emails
                .iter()
                .all(|e| e.notification_id.is_some()
                    && e.notification_id == emails[0].notification_id),
            "one notification, however many copies: {emails:?}"
        );
        assert_eq!(emails[0].subject, INDONESIAN.email_subject);
        let sms = sms(stack, borrower).await;
        assert!(copies.contains(&sms.len()), "{}: {sms:?}", borrower.phone());
        assert!(
            sms.iter().all(|m| m.json["reference"].is_string()
                && m.json["reference"] == sms[0].json["reference"]),
            "one notification, however many copies: {sms:?}"
        );
        let mut inbox = Value::Null;
        eventually(async || {
            inbox = my_notifications(stack, &borrower.token).await;
            !approvals_in(&inbox).is_empty()
        })
        .await;
        assert_eq!(approvals_in(&inbox).len(), 1, "{inbox}");
        assert_eq!(inbox["unreadNotificationCount"], 1, "{inbox}");
    }
}

#[tokio::test]
async fn a_killed_notification_service_tells_each_decision_as_one_notification_after_restart() {
    let mut stack = RouterStack::start_deciding().await;
    let borrowers = futures::future::join_all((0..4).map(|_| borrower(&stack, &INDONESIAN))).await;

    // Two decisions while notification runs; it dies (SIGKILL) as soon as the first borrower's
    // email is out, with the second's on its way.
    let (first, second) = tokio::join!(apply(&stack, &borrowers[0]), apply(&stack, &borrowers[1]));
    assert_eq!(approval_emails(&borrowers[0]).await.len(), 1);
    stack
        .subgraphs
        .notification
        .as_mut()
        .unwrap()
        .process
        .kill()
        .await;
    approved(&stack, &borrowers[0], &first).await;
    approved(&stack, &borrowers[1], &second).await;

    // Two more decided while it is down: nobody hears of them yet.
    let (third, fourth) = tokio::join!(apply(&stack, &borrowers[2]), apply(&stack, &borrowers[3]));
    approved(&stack, &borrowers[2], &third).await;
    approved(&stack, &borrowers[3], &fourth).await;
    for borrower in &borrowers[2..] {
        let emails = emails_to(borrower.email()).await;
        assert!(
            emails.iter().all(|e| !e.text.contains(AMOUNT)),
            "{emails:?}"
        );
        assert!(notifications(&stack).sms_to(borrower.phone()).is_empty());
    }

    let restarted = Instant::now();
    stack
        .subgraphs
        .notification
        .as_mut()
        .unwrap()
        .process
        .restart()
        .await;
    // The first two were decided while it ran: a send of theirs may have been in flight.
    each_told_once(&stack, &borrowers, 2).await;
    // A send the kill cut off is taken over once its claim lease (5 s here) runs out: wait
    // past that; still one notification each, and only an in-flight send repeated.
    let lease_and_polls = Duration::from_secs(8);
    tokio::time::sleep(lease_and_polls.saturating_sub(restarted.elapsed())).await;
    each_told_once(&stack, &borrowers, 2).await;
}
