//! applyLoan, quoteLoan and cancelLoan against the real stack: every rule refuses with its own
//! code and changes nothing; one open loan per borrower even under concurrency; idempotency.

use std::time::Duration;

use crate::support::*;
use chrono::Utc;
use serde_json::json;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1, LoanSubmittedV1};
use tenor_loan::domain::eligibility::{AccountState, KycStatus};
use uuid::Uuid;

async fn loan_count(service: &TestService, user: Uuid) -> usize {
    let mut conn = service.db.pool().get().await.unwrap();
    tenor_loan::store::loans::of_user(&mut conn, user)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_rule_refuses_with_its_own_code_and_changes_nothing() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);

    for (amount, tenor, code) in [
        (12_000_001, 6, "AMOUNT_TOO_HIGH"),
        (1_000, 6, "AMOUNT_TOO_LOW"),
        (5_000_000, 13, "TENOR_TOO_LONG"),
        (5_000_000, 0, "TENOR_TOO_SHORT"),
    ] {
        let payload = service
            .apply(&token, amount, tenor, &Uuid::new_v4().to_string())
            .await;
        assert_eq!(
            user_error_codes(&payload),
            [code],
            "{amount}/{tenor}: {payload}"
        );
        assert!(payload["loan"].is_null());
    }
    assert_eq!(loan_count(&service, user).await, 0);

    // KYC not verified: a customer the projection knows nothing about.
    let stranger = Uuid::new_v4();
    let payload = service
        .apply(&service.customer_token(stranger), 5_000_000, 6, "k1")
        .await;
    assert_eq!(user_error_codes(&payload), ["KYC_NOT_VERIFIED"]);
    assert_eq!(loan_count(&service, stranger).await, 0);

    // The maximum itself is fine; a second open loan is not.
    let first = service.apply(&token, 12_000_000, 12, "first").await;
    assert!(
        first["userErrors"].as_array().unwrap().is_empty(),
        "{first}"
    );
    assert_eq!(first["loan"]["status"], "SUBMITTED");
    let second = service.apply(&token, 1_000_000, 3, "second").await;
    assert_eq!(user_error_codes(&second), ["LOAN_ALREADY_OPEN"]);
    assert_eq!(loan_count(&service, user).await, 1);

    // Without the scope the resolver refuses even if the router were bypassed.
    let response = service
        .graphql(
            Some(&service.issuer.token(user, "kyc:submit")),
            APPLY,
            json!({ "amount": 1_000_000, "tenor": 3, "purpose": "x", "key": "k" }),
        )
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
}

#[tokio::test]
async fn twenty_concurrent_applications_make_exactly_one_loan() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let attempts = (0..20).map(|i| {
        let service = &service;
        let token = token.clone();
        async move {
            service
                .apply(&token, 2_000_000, 6, &format!("key-{i}"))
                .await
        }
    });
    let payloads = futures::future::join_all(attempts).await;
    let created: Vec<_> = payloads.iter().filter(|p| !p["loan"].is_null()).collect();
    assert_eq!(created.len(), 1, "{payloads:?}");
    for payload in payloads.iter().filter(|p| p["loan"].is_null()) {
        assert_eq!(
            user_error_codes(payload),
            ["LOAN_ALREADY_OPEN"],
            "{payload}"
        );
    }
    assert_eq!(loan_count(&service, user).await, 1);

    // Exactly one loan.submitted went out, keyed by the loan.
    let loan = loan_id(created[0]);
    let events = service
        .loan_events(|events| {
            events
                .iter()
                .filter(|e| e.is::<LoanStatusChangedV1>())
                .count()
                >= 1
        })
        .await;
    let submitted: Vec<LoanSubmittedV1> = events
        .iter()
        .filter(|e| e.is::<LoanSubmittedV1>())
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].loan_id, loan);
    assert_eq!(submitted[0].amount, 2_000_000);
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_same_loan() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);

    // Concurrent retries of one request, then a late one.
    let attempts = (0..5).map(|_| service.apply(&token, 3_000_000, 4, "same-key"));
    let payloads = futures::future::join_all(attempts).await;
    let ids: Vec<Uuid> = payloads.iter().map(loan_id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{payloads:?}");
    let late = service.apply(&token, 3_000_000, 4, "same-key").await;
    assert_eq!(loan_id(&late), ids[0]);
    assert_eq!(loan_count(&service, user).await, 1);

    // The same key for a different request is refused.
    let other = service.apply(&token, 3_500_000, 4, "same-key").await;
    assert_eq!(user_error_codes(&other), ["IDEMPOTENCY_KEY_REUSED"]);

    // Only one submission event despite the retries.
    let events = service.loan_events(|e| e.len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        events.iter().filter(|e| e.is::<LoanSubmittedV1>()).count(),
        1
    );
}

#[tokio::test]
async fn eligibility_follows_kyc_and_user_events() {
    let service = TestService::start().await;
    let user = Uuid::new_v4();
    let token = service.customer_token(user);

    service.publish_kyc_verified(user, Utc::now()).await;
    let verified = wait_for(async || {
        let mut conn = service.db.pool().get().await.unwrap();
        tenor_loan::store::eligibility::kyc_eligibility(&mut conn, user)
            .await
            .unwrap()
            .is_some_and(|k| k.status == KycStatus::Verified)
    })
    .await;
    assert!(verified, "kyc.verified was not projected");

    // Blocked by staff: refused; unblocked later: allowed. A late, older event changes nothing.
    let blocked_at = Utc::now();
    let block = UserStatusChangedV1 {
        user_id: user,
        status: AccountStatus::Blocked,
        previous_status: AccountStatus::Active,
        reason: Some("fraud review".into()),
        changed_by: Some(Uuid::new_v4()),
        changed_at: blocked_at,
    };
    service.publish(&service.topics.user, user, &block).await;
    let stale_unblock = UserStatusChangedV1 {
        status: AccountStatus::Active,
        previous_status: AccountStatus::Blocked,
        changed_at: blocked_at - chrono::Duration::hours(1),
        ..block.clone()
    };
    service
        .publish(&service.topics.user, user, &stale_unblock)
        .await;
    // Wait for the projection itself: an application tried before it would be accepted, and
    // retrying under the same idempotency key would replay that acceptance (CI saw it).
    let blocked =
        wait_for(async || projected_status(&service, user).await == Some(AccountState::Blocked))
            .await;
    assert!(blocked, "the block was not projected");
    let payload = service.apply(&token, 1_000_000, 3, "while-blocked").await;
    assert_eq!(user_error_codes(&payload), ["USER_NOT_ACTIVE"]);
    // Give the stale event time to be consumed; it must not reactivate the account.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let payload = service.apply(&token, 1_000_000, 3, "still-blocked").await;
    assert_eq!(user_error_codes(&payload), ["USER_NOT_ACTIVE"]);
    assert_eq!(loan_count(&service, user).await, 0);

    let unblock = UserStatusChangedV1 {
        status: AccountStatus::Active,
        previous_status: AccountStatus::Blocked,
        changed_at: blocked_at + chrono::Duration::seconds(1),
        ..block
    };
    service.publish(&service.topics.user, user, &unblock).await;
    let active =
        wait_for(async || projected_status(&service, user).await == Some(AccountState::Active))
            .await;
    assert!(active, "the unblock was not projected");
    let applied = service.apply(&token, 1_000_000, 3, "after-unblock").await;
    assert!(!applied["loan"].is_null(), "{applied}");
}

#[tokio::test]
async fn quote_prices_without_applying_and_cancel_withdraws_before_a_decision() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);

    let quote = service
        .graphql(
            None,
            "{ quoteLoan(amount: 6000000, tenorMonths: 6) { quote { totalCost totalRepayment monthlyInstallment installments { number amount dueDate } } userErrors { code } } }",
            json!({}),
        )
        .await;
    let q = &quote["data"]["quoteLoan"]["quote"];
    let installments = q["installments"].as_array().unwrap();
    assert_eq!(installments.len(), 6);
    let sum: i64 = installments
        .iter()
        .map(|i| i["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, q["totalRepayment"].as_i64().unwrap());
    assert_eq!(sum, 6_000_000 + q["totalCost"].as_i64().unwrap());
    let refused = service
        .graphql(None, "{ quoteLoan(amount: 6000000, tenorMonths: 13) { quote { totalCost } userErrors { code } } }", json!({}))
        .await;
    assert_eq!(
        refused["data"]["quoteLoan"]["userErrors"][0]["code"],
        "TENOR_TOO_LONG"
    );

    let applied = service.apply(&token, 6_000_000, 6, "q1").await;
    let loan = loan_id(&applied);
    assert_eq!(applied["loan"]["totalCost"], q["totalCost"]);

    let cancel =
        "mutation($id: ID!) { cancelLoan(id: $id) { loan { status } userErrors { code } } }";
    // Someone else cannot cancel it (and cannot tell it exists).
    let other = service
        .graphql(
            Some(&service.customer_token(Uuid::new_v4())),
            cancel,
            json!({ "id": loan }),
        )
        .await;
    assert_eq!(
        other["data"]["cancelLoan"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let done = service
        .graphql(Some(&token), cancel, json!({ "id": loan }))
        .await;
    assert_eq!(
        done["data"]["cancelLoan"]["loan"]["status"], "CANCELLED",
        "{done}"
    );
    let again = service
        .graphql(Some(&token), cancel, json!({ "id": loan }))
        .await;
    assert_eq!(
        again["data"]["cancelLoan"]["userErrors"][0]["code"],
        "LOAN_NOT_CANCELLABLE"
    );

    // A cancelled loan is not open: a new application is accepted.
    let next = service.apply(&token, 1_000_000, 2, "q2").await;
    assert!(!next["loan"].is_null(), "{next}");

    let events = service
        .loan_events(|e| {
            e.iter()
                .filter_map(|e| e.decode::<LoanStatusChangedV1>().ok())
                .any(|s| s.status == LoanStatus::Cancelled)
        })
        .await;
    let cancelled: Vec<LoanStatusChangedV1> = events
        .iter()
        .filter_map(|e| e.decode::<LoanStatusChangedV1>().ok())
        .filter(|s| s.loan_id == loan)
        .collect();
    assert_eq!(
        cancelled.iter().map(|s| s.status).collect::<Vec<_>>(),
        [LoanStatus::Submitted, LoanStatus::Cancelled]
    );
}

/// At most `LOAN_APPLICATIONS_PER_DAY` (3) applications in any 24 hours, whatever became of
/// them: each buys a credit-bureau inquiry, and withdrawing one is free. The fourth is refused
/// with the hours to wait and stores and announces nothing; a replayed key still answers; the
/// window rolls.
#[tokio::test]
async fn a_borrower_applies_at_most_three_times_in_any_day() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let cancel = "mutation($id: ID!) { cancelLoan(id: $id) { loan { status } } }";
    let mut loans = Vec::new();
    for n in 0..3 {
        let loan = loan_id(
            &service
                .apply(&token, 1_000_000, 2, &format!("daily-{n}"))
                .await,
        );
        service
            .graphql(Some(&token), cancel, json!({ "id": loan }))
            .await;
        loans.push(loan);
    }

    let refused = service.apply(&token, 1_000_000, 2, "daily-3").await;
    let error = &refused["userErrors"][0];
    assert_eq!(error["code"], "APPLICATION_LIMIT", "{refused}");
    assert!(refused["loan"].is_null());
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("24 jam") && message.contains("24 hours"),
        "{message}"
    );
    assert_eq!(loan_count(&service, user).await, 3);
    // A retry of an accepted application is not a new one.
    let replayed = service.apply(&token, 1_000_000, 2, "daily-2").await;
    assert_eq!(loan_id(&replayed), loans[2], "{replayed}");
    // Someone else is not limited by it.
    let other = service.verified_customer().await;
    let theirs = service
        .apply(&service.customer_token(other), 1_000_000, 2, "daily-0")
        .await;
    assert!(!theirs["loan"].is_null(), "{theirs}");

    // A day after the first application, its place is free again.
    use diesel_async::RunQueryDsl;
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query("UPDATE loans SET created_at = now() - interval '25 hours' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(loans[0])
        .execute(&mut conn)
        .await
        .unwrap();
    let next = service.apply(&token, 1_000_000, 2, "daily-4").await;
    assert!(!next["loan"].is_null(), "{next}");

    // Announced: the three and the one a day later (the refusal stored nothing, and the
    // outbox is written in the same transaction as the loan).
    loans.push(loan_id(&next));
    let submitted_by_user = |events: &[tenor_events::Envelope]| {
        let mut ids: Vec<Uuid> = events
            .iter()
            .filter_map(|e| e.decode::<LoanSubmittedV1>().ok())
            .filter(|s| s.user_id == user)
            .map(|s| s.loan_id)
            .collect();
        ids.sort();
        ids
    };
    let events = service
        .loan_events(|e| submitted_by_user(e).len() >= 4)
        .await;
    loans.sort();
    assert_eq!(submitted_by_user(&events), loans);
}
