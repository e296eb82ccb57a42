//! A borrower's request for human review of an automatic rejection (UU PDP: the right to object
//! to a decision made solely by automated means) is the one path by which a decided loan is
//! decided again: credit's staff decision names the rejection it reviews, and loan applies it
//! once. Every other decision for a decided loan changes nothing.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_contracts::loan::LoanStatus;
use tenor_events::Envelope;
use tenor_loan::store;
use uuid::Uuid;

use crate::support::*;

async fn rejected_loan(service: &TestService) -> (Uuid, Uuid, CreditDecisionMadeV1) {
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let payload = service.apply(&token, 3_000_000, 3, "apply-1").await;
    let loan = loan_id(&payload);
    let rejection = service.decide(loan, user, CreditDecision::Rejected).await;
    service.wait_for_status(loan, "REJECTED").await;
    (user, loan, rejection)
}

fn review(
    loan: Uuid,
    user: Uuid,
    decision: CreditDecision,
    reviews: Option<Uuid>,
) -> CreditDecisionMadeV1 {
    CreditDecisionMadeV1 {
        source: CreditDecisionSource::Manual,
        decided_by: Some(Uuid::new_v4()),
        reason: Some("reviewed by a credit officer".into()),
        reason_codes: vec!["HUMAN_REVIEW".into()],
        reviews_decision: reviews,
        decided_at: Utc::now(),
        ..decision_event(loan, user, decision)
    }
}

/// Publish `event` and wait until loan's consumer has handled it (its id is in the inbox).
async fn deliver(service: &TestService, loan: Uuid, event: &CreditDecisionMadeV1) {
    diesel::table! { inbox_events (consumer, event_id) { consumer -> Text, event_id -> Uuid, } }
    let envelope = Envelope::new("/tenor/credit", loan.to_string(), event, None).unwrap();
    tenor_events::testing::publish(&service.topics.credit, &envelope).await;
    let handled = wait_for(async || {
        let mut conn = service.db.pool().get().await.unwrap();
        inbox_events::table
            .filter(inbox_events::event_id.eq(envelope.id()))
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap()
            == 1
    })
    .await;
    assert!(handled, "loan never consumed {}", envelope.id());
}

async fn statuses(service: &TestService, loan: Uuid, at_least: usize) -> Vec<LoanStatus> {
    let events = service
        .loan_events(|e| status_changes(e, loan).len() >= at_least)
        .await;
    status_changes(&events, loan)
}

#[tokio::test]
async fn only_a_staff_review_naming_the_automatic_rejection_approves_a_rejected_loan_once() {
    let service = TestService::start().await;
    let (user, loan, rejection) = rejected_loan(&service).await;

    // Not a review, a review of another decision, and an automatic "review": all ignored.
    let plain_manual = review(loan, user, CreditDecision::Approved, None);
    let wrong_decision = review(loan, user, CreditDecision::Approved, Some(Uuid::new_v4()));
    let automatic = CreditDecisionMadeV1 {
        source: CreditDecisionSource::Automatic,
        decided_by: None,
        ..review(
            loan,
            user,
            CreditDecision::Approved,
            Some(rejection.decision_id),
        )
    };
    for ignored in [&plain_manual, &wrong_decision, &automatic] {
        deliver(&service, loan, ignored).await;
        assert_eq!(service.loan_status(loan).await.as_deref(), Some("REJECTED"));
    }

    let approval = review(
        loan,
        user,
        CreditDecision::Approved,
        Some(rejection.decision_id),
    );
    deliver(&service, loan, &approval).await;
    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));

    // A second review of the same rejection (say, a contradicting one) changes nothing.
    let second = review(
        loan,
        user,
        CreditDecision::Rejected,
        Some(rejection.decision_id),
    );
    deliver(&service, loan, &second).await;
    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));

    let mut conn = service.db.pool().get().await.unwrap();
    let installments = store::installments::installments(&mut conn, loan)
        .await
        .unwrap();
    assert_eq!(installments.len(), 3, "the approval wrote the schedule");
    let history = store::reviews::reviews(&mut conn, loan).await.unwrap();
    let sources: Vec<(&str, Option<Uuid>)> = history
        .iter()
        .map(|(source, _, id, _)| (source.as_str(), *id))
        .collect();
    assert_eq!(
        sources,
        [
            ("AUTOMATIC", Some(rejection.decision_id)),
            ("MANUAL", Some(approval.decision_id))
        ]
    );
    assert_eq!(
        statuses(&service, loan, 3).await,
        [
            LoanStatus::Submitted,
            LoanStatus::Rejected,
            LoanStatus::Approved
        ]
    );
}

#[tokio::test]
async fn a_review_that_confirms_the_rejection_is_recorded_and_pushed_with_its_reason() {
    let service = TestService::start().await;
    let (user, loan, rejection) = rejected_loan(&service).await;

    let confirmation = review(
        loan,
        user,
        CreditDecision::Rejected,
        Some(rejection.decision_id),
    );
    deliver(&service, loan, &confirmation).await;

    assert_eq!(service.loan_status(loan).await.as_deref(), Some("REJECTED"));
    let events = service
        .loan_events(|e| status_events(e, loan).len() >= 3)
        .await;
    let last = status_events(&events, loan).pop().unwrap();
    assert_eq!(last.previous_status, Some(LoanStatus::Rejected));
    assert_eq!(last.status, LoanStatus::Rejected);
    assert_eq!(last.reason.as_deref(), Some("reviewed by a credit officer"));
}

#[tokio::test]
async fn a_review_cannot_approve_while_the_borrower_has_another_open_loan() {
    let service = TestService::start().await;
    let (user, loan, rejection) = rejected_loan(&service).await;
    let token = service.customer_token(user);
    let newer = loan_id(&service.apply(&token, 1_000_000, 2, "apply-2").await);

    let approval = review(
        loan,
        user,
        CreditDecision::Approved,
        Some(rejection.decision_id),
    );
    deliver(&service, loan, &approval).await;

    assert_eq!(service.loan_status(loan).await.as_deref(), Some("REJECTED"));
    assert_eq!(
        service.loan_status(newer).await.as_deref(),
        Some("SUBMITTED")
    );
}
