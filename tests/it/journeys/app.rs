//! The mobile app as these journeys drive it: typed operations over HTTP (persisted documents)
//! and the app's live subscriptions over the router's WebSocket.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::journeys::matching_images;
use tenor_harness::notification::{Notifications, emails_to};
use tenor_harness::ws::{self, Live};
use tenor_harness::{RouterStack, eventually};
use tenor_mobile::{
    ApplyLoan, GraphQLQuery, LoanDetails, Login, MobileClient, MyKyc, MyNotifications, Register,
    RequestKycUpload, SubmitKyc, WatchLoanStatus, apply_loan, loan_details, login, my_kyc,
    my_notifications, register, request_kyc_upload, submit_kyc, subscribe_payload,
    watch_loan_status,
};
use uuid::Uuid;

pub const PASSWORD: &str = "kopi tubruk tanpa gula";
/// How long a push or a notification may take on a loaded two-core machine.
pub const PUSH: Duration = Duration::from_secs(30);

/// A borrower as the app knows them: who they are and the app signed in as them.
pub struct Borrower {
    pub user_id: String,
    pub email: String,
    pub phone: String,
    pub app: MobileClient,
    pub token: String,
}

/// Registers through the router as a new user does and signs in.
pub async fn register_and_sign_in(stack: &RouterStack) -> Borrower {
    let app = MobileClient::new(stack.router.graphql_url());
    let n = Uuid::new_v4().as_u128();
    let email = format!("budi{}@example.id", n % 1_000_000_000_000);
    let phone = format!("+62813{:08}", (n >> 64) % 100_000_000);
    let registered = app
        .run::<Register>(register::Variables {
            input: register::RegisterInput {
                fullname: "Budi Santoso".into(),
                email: email.clone(),
                phone_number: phone.clone(),
                password: PASSWORD.into(),
            },
        })
        .await
        .data()
        .register;
    assert!(registered.user_errors.is_empty(), "{registered:?}");
    let user_id = registered.user_id.expect("a user id on success");
    let tokens = app
        .run::<Login>(login::Variables {
            input: login::LoginInput {
                identifier: email.clone(),
                password: PASSWORD.into(),
                device: None,
            },
        })
        .await
        .data()
        .login
        .tokens
        .expect("tokens on a good password");
    assert_eq!(tokens.user_id, user_id);
    Borrower {
        app: app.signed_in(&tokens.access_token),
        token: tokens.access_token,
        user_id,
        email,
        phone,
    }
}

/// Uploads a KTP and a matching selfie and submits them; returns once the KYC is VERIFIED as
/// the app reads it.
pub async fn verify_identity(borrower: &Borrower, nik: &str) {
    submit_identity(borrower, nik, matching_images()).await;
    wait_for_kyc(borrower, |kyc| {
        matches!(kyc.status, my_kyc::KycStatus::VERIFIED)
    })
    .await;
}

/// Uploads `images` (document, selfie) and submits them with `nik`; the submission's id.
pub async fn submit_identity(borrower: &Borrower, nik: &str, images: (Vec<u8>, Vec<u8>)) -> String {
    let (document, selfie) = images;
    let document = upload(
        borrower,
        request_kyc_upload::KycUploadKind::DOCUMENT_FRONT,
        document,
    )
    .await;
    let selfie = upload(borrower, request_kyc_upload::KycUploadKind::SELFIE, selfie).await;
    let submitted = borrower
        .app
        .run::<SubmitKyc>(submit_kyc::Variables {
            input: submit_kyc::SubmitKycInput {
                document_type: submit_kyc::KycDocumentType::KTP,
                document_number: nik.to_owned(),
                document_upload_id: document,
                selfie_upload_id: selfie,
            },
        })
        .await
        .data()
        .submit_kyc;
    assert!(submitted.user_errors.is_empty(), "{submitted:?}");
    let kyc = submitted.kyc.expect("the submission");
    assert!(
        matches!(kyc.status, submit_kyc::KycStatus::PENDING),
        "{kyc:?}"
    );
    assert!(
        !kyc.document_number_masked.contains(&nik[6..12]),
        "the NIK comes back masked"
    );
    kyc.id
}

/// Waits until the app's `MyKyc` shows a submission for which `done` holds.
pub async fn wait_for_kyc(borrower: &Borrower, done: impl Fn(&my_kyc::MyKycMeKyc) -> bool) {
    eventually(async || {
        let me = borrower.app.run::<MyKyc>(my_kyc::Variables).await.data().me;
        me.and_then(|me| me.kyc).is_some_and(|kyc| done(&kyc))
    })
    .await;
}

async fn upload(
    borrower: &Borrower,
    kind: request_kyc_upload::KycUploadKind,
    bytes: Vec<u8>,
) -> String {
    let requested = borrower
        .app
        .run::<RequestKycUpload>(request_kyc_upload::Variables { kind })
        .await
        .data()
        .request_kyc_upload;
    let upload = requested
        .upload
        .unwrap_or_else(|| panic!("{:?}", requested.user_errors));
    assert_eq!(upload.method, "PUT");
    let put = reqwest::Client::new()
        .put(&upload.url)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    upload.upload_id
}

/// One of the app's subscriptions on a WebSocket of its own, read continuously.
pub struct Subscription {
    socket: Live,
}

impl Subscription {
    /// Opens a socket, signs it in with `token` and subscribes with the operation, as the app
    /// does.
    pub async fn open<Q>(stack: &RouterStack, token: &str, variables: Q::Variables) -> Self
    where
        Q: GraphQLQuery,
        Q::Variables: Clone,
    {
        let mut socket = ws::connect(&stack.router).await;
        ws::init(&mut socket, Some(token)).await;
        ws::send(
            &mut socket,
            json!({ "id": "1", "type": "subscribe", "payload": subscribe_payload::<Q>(variables) }),
        )
        .await;
        Self {
            socket: Live::new(socket),
        }
    }

    /// The next pushed result as the operation's typed data, `None` when nothing came `within`.
    pub async fn next<Q: GraphQLQuery>(&mut self, within: Duration) -> Option<Q::ResponseData>
    where
        Q::ResponseData: std::fmt::Debug,
    {
        let message = match self.socket.next(within).await? {
            Ok(message) => message,
            Err(code) => panic!("the router closed the subscription ({code})"),
        };
        assert_eq!(message["type"], "next", "{message}");
        let response = tenor_mobile::decode::<Q>(&message["payload"]);
        assert!(response.errors.is_none(), "{message}");
        Some(
            response
                .data
                .unwrap_or_else(|| panic!("no data: {message}")),
        )
    }

    /// The next pushed message as it came (for errors and close codes).
    pub async fn raw(&mut self, within: Duration) -> Option<Result<Value, u16>> {
        self.socket.next(within).await
    }
}

/// Applies for `amount` over `tenor` months, retrying only while loan has not yet heard of
/// the KYC verification; the loan.
pub async fn apply(
    borrower: &Borrower,
    amount: i64,
    tenor: i64,
) -> apply_loan::ApplyLoanApplyLoanLoan {
    let key = Uuid::new_v4().to_string();
    let mut applied = None;
    // Loan hears of the KYC verification through Kafka; until then it says KYC_NOT_VERIFIED.
    eventually(async || {
        let payload = borrower
            .app
            .run::<ApplyLoan>(apply_loan::Variables {
                amount,
                tenor_months: tenor,
                purpose: "Modal usaha warung".into(),
                idempotency_key: key.clone(),
            })
            .await
            .data()
            .apply_loan;
        let waiting = payload
            .user_errors
            .iter()
            .any(|e| e.code == "KYC_NOT_VERIFIED");
        assert!(waiting || payload.user_errors.is_empty(), "{payload:?}");
        applied = payload.loan;
        !waiting
    })
    .await;
    applied.expect("a loan once KYC is verified")
}

/// The next status pushed on `subscription`.
pub async fn status_pushed(
    subscription: &mut Subscription,
) -> watch_loan_status::WatchLoanStatusLoanStatusChanged {
    subscription
        .next::<WatchLoanStatus>(PUSH)
        .await
        .expect("a status pushed in time")
        .loan_status_changed
}

/// The next status pushed on `subscription` that differs from `current`. A subscription opened
/// just before a change may carry it twice — in its opening snapshot and as the change — and
/// the app reads both as "the status is now X"; so do these journeys.
pub async fn status_after(
    subscription: &mut Subscription,
    current: &watch_loan_status::LoanStatus,
) -> watch_loan_status::WatchLoanStatusLoanStatusChanged {
    loop {
        let pushed = status_pushed(subscription).await;
        if format!("{:?}", pushed.status) != format!("{current:?}") {
            return pushed;
        }
    }
}

/// The app's loan details.
pub async fn details(borrower: &Borrower, loan: &str) -> loan_details::LoanDetailsLoan {
    borrower
        .app
        .run::<LoanDetails>(loan_details::Variables {
            id: loan.to_owned(),
        })
        .await
        .data()
        .loan
        .expect("the borrower's own loan")
}

/// The borrower's inbox as the app shows it (the 50 newest items).
pub async fn inbox(
    borrower: &Borrower,
) -> Vec<my_notifications::MyNotificationsMyNotificationsNodes> {
    borrower
        .app
        .run::<MyNotifications>(my_notifications::Variables {
            first: Some(50),
            after: None,
            unread_only: None,
        })
        .await
        .data()
        .my_notifications
        .nodes
}

/// Waits until an email whose subject contains `subject` has reached the borrower (Mailpit);
/// its text.
pub async fn email_about(borrower: &Borrower, subject: &str) -> String {
    let deadline = std::time::Instant::now() + PUSH;
    loop {
        let emails = emails_to(&borrower.email).await;
        if let Some(email) = emails.iter().find(|e| e.subject.contains(subject)) {
            return email.text.clone();
        }
        let subjects: Vec<_> = emails.iter().map(|e| e.subject.clone()).collect();
        assert!(
            std::time::Instant::now() < deadline,
            "no email about {subject:?}, only {subjects:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the borrower's inbox holds an item of `event_type`.
pub async fn assert_in_inbox(borrower: &Borrower, event_type: &str) {
    eventually(async || {
        inbox(borrower)
            .await
            .iter()
            .any(|n| n.event_type == event_type)
    })
    .await;
}

pub fn notifications(stack: &RouterStack) -> &Notifications {
    stack
        .subgraphs
        .notification
        .as_ref()
        .expect("a deciding stack runs notification")
}
