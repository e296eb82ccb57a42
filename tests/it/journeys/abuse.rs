//! Journey 4: what a borrower (or someone holding their phone) may not do, met the way an
//! attacker meets it — through the router with the app's own operations: a second open loan,
//! more than the product lends, another borrower's loan and notifications, PII without the
//! scope, a live subscription outliving its token, hammering the API, and a user blocked in the
//! middle of their journey.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tenor_harness::deciders::bureau;
use tenor_harness::journeys::fresh_nik;
use tenor_harness::{RouterStack, error_codes, eventually};
use tenor_mobile::{
    ApplyLoan, LoanDetails, MarkNotificationRead, Me, WatchLoanStatus, apply_loan, loan_details,
    mark_notification_read, me, watch_loan_status,
};
use uuid::Uuid;

use super::app::{
    Borrower, Subscription, apply, assert_in_inbox, inbox, register_and_sign_in, status_pushed,
    verify_identity,
};

type Status = watch_loan_status::LoanStatus;

const CUSTOMER_KYC: &str = "query CustomerKyc($email: String) { users(filter: { query: $email }, first: 1) { nodes { id kyc { status documentNumber } } } }";
const BLOCK: &str = "mutation BlockUser($id: ID!) { blockUser(id: $id, reason: \"dugaan penipuan identitas\") { user { status } userErrors { code } } }";

#[tokio::test]
async fn what_a_borrower_may_not_do_is_refused_and_changes_nothing() {
    let stack = RouterStack::start_deciding().await;
    let (alice, bob) = tokio::join!(approved_borrower(&stack), approved_borrower(&stack));
    let (alice, alice_loan, alice_nik) = alice;
    let (bob, _, _) = bob;

    // A second open loan, and more than the product lends.
    for (amount, code) in [
        (2_000_000, "LOAN_ALREADY_OPEN"),
        (900_000_000, "AMOUNT_TOO_HIGH"),
    ] {
        let payload = try_apply(&alice, amount).await;
        assert!(payload.loan.is_none(), "{payload:?}");
        assert!(
            payload.user_errors.iter().any(|e| e.code == code),
            "{amount}: {payload:?}"
        );
    }
    assert_eq!(
        my_loan_count(&stack, &alice).await,
        1,
        "refusals created nothing"
    );

    // Another borrower's loan: looks like no loan at all.
    let peek = bob
        .app
        .run::<LoanDetails>(loan_details::Variables {
            id: alice_loan.clone(),
        })
        .await;
    assert!(
        peek.response.data.as_ref().is_none_or(|d| d.loan.is_none()),
        "{peek:?}"
    );
    // …and their inbox: marking Alice's item read from Bob's phone is NOT_FOUND and leaves it
    // unread.
    let alice_item = inbox(&alice)
        .await
        .into_iter()
        .find(|n| !n.read)
        .expect("an unread item");
    let marked = bob
        .app
        .run::<MarkNotificationRead>(mark_notification_read::Variables {
            input: mark_notification_read::MarkNotificationReadInput {
                id: alice_item.id.clone(),
            },
        })
        .await
        .data()
        .mark_notification_read;
    assert!(marked.notification.is_none());
    assert!(
        marked.user_errors.iter().any(|e| e.code == "NOT_FOUND"),
        "{marked:?}"
    );
    assert!(
        inbox(&alice)
            .await
            .iter()
            .any(|n| n.id == alice_item.id && !n.read)
    );
    assert!(inbox(&bob).await.iter().all(|n| n.id != alice_item.id));

    // PII: a borrower's token cannot read anyone's full NIK; neither can staff without
    // kyc:pii:read.
    let clerk = stack.staff(&["user:admin"]).await;
    let clerk = stack.router.login(&clerk).await;
    for (who, token) in [
        ("a borrower", &bob.token),
        ("staff without kyc:pii:read", &clerk),
    ] {
        let read = stack
            .gql(CUSTOMER_KYC, json!({ "email": alice.email }), Some(token))
            .await;
        assert!(!read.to_string().contains(&alice_nik), "{who}: {read}");
        assert!(
            error_codes(&read).iter().any(|c| c == "FORBIDDEN"),
            "{who}: {read}"
        );
    }

    // A live subscription ends when its token expires; the phone must sign in again.
    let short = short_lived_token(&stack, &bob, 2);
    let mut watch = Subscription::open::<WatchLoanStatus>(
        &stack,
        &short,
        watch_loan_status::Variables { loan_id: None },
    )
    .await;
    let ended = loop {
        match watch
            .raw(Duration::from_secs(15))
            .await
            .expect("the subscription ends")
        {
            Ok(message) if message["payload"]["data"]["loanStatusChanged"]["snapshot"] == true => {
                continue;
            }
            other => break other,
        }
    };
    let ended = ended.expect("an error message, not a dropped socket");
    assert!(ended.to_string().contains("UNAUTHENTICATED"), "{ended}");

    // Hammering: the router's per-user budget answers RATE_LIMITED with when to retry, and
    // only for that user.
    let burst = futures::future::join_all((0..90).map(|_| bob.app.run::<Me>(me::Variables))).await;
    let limited: Vec<_> = burst
        .iter()
        .filter(|r| r.error_codes().iter().any(|c| c == "RATE_LIMITED"))
        .collect();
    assert!(
        !limited.is_empty(),
        "90 requests at once pass a 60-request burst"
    );
    let retry_after = limited[0].response.errors.as_ref().unwrap()[0]
        .extensions
        .as_ref()
        .and_then(|x| x.get("retryAfterMs"))
        .and_then(Value::as_u64);
    assert!(retry_after.is_some_and(|ms| ms > 0), "{:?}", limited[0]);
    assert!(
        alice
            .app
            .run::<Me>(me::Variables)
            .await
            .response
            .errors
            .is_none()
    );

    // Blocked mid-journey: staff block Alice (suspected fraud) while her loan is open. Her
    // sessions end, her subscription with them, and her token is refused.
    let mut alice_watch = Subscription::open::<WatchLoanStatus>(
        &stack,
        &alice.token,
        watch_loan_status::Variables {
            loan_id: Some(alice_loan.clone()),
        },
    )
    .await;
    assert!(status_pushed(&mut alice_watch).await.snapshot);
    let admin = stack.staff(&["user:admin"]).await;
    let admin = stack.router.login(&admin).await;
    let blocked = stack
        .gql(BLOCK, json!({ "id": alice.user_id }), Some(&admin))
        .await;
    assert_eq!(
        blocked["data"]["blockUser"]["user"]["status"], "BLOCKED",
        "{blocked}"
    );
    let ended = alice_watch
        .raw(Duration::from_secs(20))
        .await
        .expect("the subscription ends");
    assert!(
        ended.as_ref().is_err()
            || ended
                .as_ref()
                .unwrap()
                .to_string()
                .contains("UNAUTHENTICATED"),
        "{ended:?}"
    );
    eventually(async || {
        let me = alice.app.run::<Me>(me::Variables).await;
        me.error_codes().iter().any(|c| c == "UNAUTHENTICATED")
    })
    .await;
    assert!(
        try_apply(&alice, 1_000_000).await.loan.is_none(),
        "a blocked user cannot borrow"
    );
}

/// A registered, verified borrower with a clean bureau file and an approved loan (id), and
/// their NIK.
async fn approved_borrower(stack: &RouterStack) -> (Borrower, String, String) {
    let borrower = register_and_sign_in(stack).await;
    let user = Uuid::parse_str(&borrower.user_id).unwrap();
    stack.deciders().bureau_file(user, &bureau::clean()).await;
    let nik = fresh_nik();
    verify_identity(&borrower, &nik).await;
    let mut watch = Subscription::open::<WatchLoanStatus>(
        stack,
        &borrower.token,
        watch_loan_status::Variables { loan_id: None },
    )
    .await;
    let loan = apply(&borrower, 3_000_000, 6).await;
    loop {
        let change = status_pushed(&mut watch).await;
        if matches!(change.status, Status::APPROVED) {
            break;
        }
    }
    assert_in_inbox(&borrower, "loan.approved.v1").await;
    (borrower, loan.id, nik)
}

async fn try_apply(borrower: &Borrower, amount: i64) -> apply_loan::ApplyLoanApplyLoan {
    let reply = borrower
        .app
        .run::<ApplyLoan>(apply_loan::Variables {
            amount,
            tenor_months: 6,
            purpose: "Renovasi rumah".into(),
            idempotency_key: Uuid::new_v4().to_string(),
        })
        .await;
    match reply.response.data {
        Some(data) => data.apply_loan,
        None => apply_loan::ApplyLoanApplyLoan {
            loan: None,
            user_errors: Vec::new(),
        },
    }
}

async fn my_loan_count(stack: &RouterStack, borrower: &Borrower) -> usize {
    let mine = stack
        .gql(
            "query MyLoans { me { loans { id } } }",
            json!({}),
            Some(&borrower.token),
        )
        .await;
    mine["data"]["me"]["loans"].as_array().map_or(0, Vec::len)
}

/// An access token for `borrower` signed with auth's own key that expires in `seconds`.
fn short_lived_token(stack: &RouterStack, borrower: &Borrower, seconds: i64) -> String {
    tenor_platform::crypto::install_providers();
    let pem = std::fs::read(stack.subgraphs.key_file()).unwrap();
    let now = Utc::now().timestamp();
    let claims = json!({
        "sub": borrower.user_id, "sid": Uuid::new_v4(), "iss": "tenor-auth", "aud": "tenor",
        "iat": now, "nbf": now, "exp": now + seconds, "scope": "loan:apply kyc:submit",
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".to_owned());
    encode(&header, &claims, &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
}
