//! `Loan.creditAssessment` of N loans costs one loader batch (docs/conventions.md § API
//! conventions).

use tenor_credit::testing::*;
use tenor_platform::testing::request_statements;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assessments_of_many_loans_load_in_one_batch() {
    let service = TestService::start().await;
    let mut loans = vec![];
    for _ in 0..3 {
        let user = service.verified_borrower().await;
        let loan = service.submit_loan(user, 5_000_000, 6).await;
        service.risk_evaluated(&loan, 780, 1, 1).await;
        service.decided(loan.loan_id).await;
        loans.push(loan.loan_id);
    }
    loans.push(Uuid::now_v7());
    let stats = service.loader_stats();
    let base_url = service.client.url().trim_end_matches("/graphql").to_owned();
    let counted = async || request_statements(&base_url, service.db.name()).await;
    let (before, statements_before) = (stats.batches(), counted().await);
    let token = service.token(Uuid::new_v4(), "risk:read");
    let response = service.assessments(Some(&token), &loans).await;
    assert_eq!(stats.batches() - before, 1, "{response}");
    // Counted as the request's, though the batch runs in a task of its own: the scores, then
    // their obtained scores.
    assert_eq!(counted().await - statements_before, 2, "{response}");
    let entities = response["data"]["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), 4);
    for (entity, loan) in entities.iter().zip(&loans).take(3) {
        assert_eq!(entity["creditAssessment"]["loanId"], loan.to_string());
        assert_eq!(entity["creditAssessment"]["decision"], "APPROVE");
    }
    // A loan credit never received: no assessment.
    assert!(entities[3]["creditAssessment"].is_null(), "{response}");
}
