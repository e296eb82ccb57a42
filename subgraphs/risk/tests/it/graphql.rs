//! Field-level authorization on evaluations and raw reports, enforced by the subgraph itself
//! (no router in front here), the access log of raw reads, and one query per batch of loans.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_risk::testing::*;
use uuid::Uuid;

use crate::events_for;

const FIELDS: &str = "id creditScoreId vendorName outcome riskLevel rulesVersion attempts
    failureReason rawKeyId createdAt
    normalizedScore { score worstCollectability activeFacilities activePlatforms outstandingDebt maxDaysPastDue12m }";

/// A service with one evaluated loan of a borrower with `profile`: (service, loan).
async fn evaluated(profile: BureauProfile) -> (TestService, Uuid) {
    let service = TestService::start().await;
    let user = Uuid::new_v4();
    service.set_profile(user, &profile).await;
    let (loan, _) = service.submit_loan(user).await;
    assert_eq!(
        events_for(&service, loan, 1, Duration::from_secs(20))
            .await
            .len(),
        1
    );
    (service, loan)
}

fn evaluations(response: &Value) -> &Value {
    &response["data"]["_entities"][0]["riskEvaluations"]
}

#[tokio::test]
async fn risk_evaluations_need_risk_read() {
    let (service, loan) = evaluated(many_platforms()).await;

    let anonymous = service
        .risk_evaluations(None, &[loan], FIELDS, "RiskFile")
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    assert_eq!(evaluations(&anonymous), &Value::Null);

    let customer = service.token(Uuid::new_v4(), "loan:apply kyc:submit");
    let refused = service
        .risk_evaluations(Some(&customer), &[loan], FIELDS, "RiskFile")
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    assert_eq!(evaluations(&refused), &Value::Null);

    let staff = service.token(Uuid::new_v4(), "risk:read");
    let response = service
        .risk_evaluations(Some(&staff), &[loan], FIELDS, "RiskFile")
        .await;
    assert_eq!(response["errors"], Value::Null, "{response}");
    let list = evaluations(&response).as_array().unwrap();
    assert_eq!(list.len(), 1);
    let evaluation = &list[0];
    assert_eq!(evaluation["vendorName"], "simulated-slik");
    assert_eq!(evaluation["outcome"], "EVALUATED");
    assert_eq!(evaluation["riskLevel"], "MEDIUM");
    assert_eq!(evaluation["rawKeyId"], "risk-1");
    assert_eq!(evaluation["attempts"], 1);
    assert_eq!(
        evaluation["creditScoreId"],
        tenor_contracts::credit::credit_score_id(loan).to_string()
    );
    assert_eq!(
        evaluation["normalizedScore"],
        json!({ "score": 700, "worstCollectability": 1, "activeFacilities": 6,
                "activePlatforms": 6, "outstandingDebt": 9_000_000, "maxDaysPastDue12m": 0 })
    );

    // A loan without an evaluation has an empty list, not an error.
    let none = service
        .risk_evaluations(Some(&staff), &[Uuid::new_v4()], "id", "RiskFile")
        .await;
    assert_eq!(evaluations(&none), &json!([]));
}

#[tokio::test]
async fn the_raw_report_needs_risk_raw_read_and_every_read_is_logged() {
    let (service, loan) = evaluated(clean()).await;
    let logged = || service.count("raw_access_log", mongodb::bson::doc! {});

    let reader_only = service.token(Uuid::new_v4(), "risk:read");
    let refused = service
        .risk_evaluations(Some(&reader_only), &[loan], "id rawBureauReport", "RawFile")
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let path = refused["errors"][0]["path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), "rawBureauReport", "{refused}");
    assert_eq!(evaluations(&refused)[0]["rawBureauReport"], Value::Null);
    assert_eq!(logged().await, 0, "a refused read is not a read");

    let analyst = Uuid::new_v4();
    let token = service.token(analyst, "risk:read risk:raw:read");
    let (_, response) = service
        .client
        .post(
            Some(&token),
            json!({
                "query": "query RawFile__3($reps: [_Any!]!) { _entities(representations: $reps) {
                    ... on Loan { riskEvaluations { id rawBureauReport } } } }",
                "operationName": "RawFile__3",
                "variables": { "reps": [{ "__typename": "Loan", "id": loan }] },
            }),
            &[("x-request-id", "req-raw-1")],
        )
        .await;
    assert_eq!(response["errors"], Value::Null, "{response}");
    let evaluation = &evaluations(&response)[0];
    let report: Value =
        serde_json::from_str(evaluation["rawBureauReport"].as_str().unwrap()).unwrap();
    assert_eq!(report["vendor"], "simulated-slik");
    assert_eq!(report["facilities"][0]["lender"], "Bank Central Asia");
    assert_eq!(logged().await, 1);

    // The access log: by evaluation and by loan, with risk:raw:read only.
    let query = "query($e: ID, $l: ID) { riskAccessLog(evaluationId: $e, loanId: $l, first: 10) {
        edges { node { actorId evaluationId loanId operationName requestId accessedAt } }
        pageInfo { hasNextPage } } }";
    let id = evaluation["id"].as_str().unwrap();
    let refused = service
        .client
        .query(Some(&reader_only), query, json!({ "e": id }))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    for variables in [json!({ "e": id }), json!({ "l": loan })] {
        let log = service.client.query(Some(&token), query, variables).await;
        let edges = log["data"]["riskAccessLog"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 1, "{log}");
        let entry = &edges[0]["node"];
        assert_eq!(entry["actorId"], analyst.to_string());
        assert_eq!(entry["evaluationId"], id);
        assert_eq!(entry["loanId"], loan.to_string());
        assert_eq!(entry["operationName"], "RawFile");
        assert_eq!(entry["requestId"], "req-raw-1");
    }
    let both = service
        .client
        .query(Some(&token), query, json!({ "e": id, "l": loan }))
        .await;
    assert_eq!(error_code(&both), "BAD_USER_INPUT");

    // A second read is a second entry; pages go newest first.
    service
        .risk_evaluations(Some(&token), &[loan], "rawBureauReport", "RawFile")
        .await;
    assert_eq!(logged().await, 2);
    let page = service
        .client
        .query(
            Some(&token),
            "query($l: ID) { riskAccessLog(loanId: $l, first: 1) {
                edges { cursor node { requestId } } pageInfo { hasNextPage endCursor } } }",
            json!({ "l": loan }),
        )
        .await;
    let connection = &page["data"]["riskAccessLog"];
    assert_eq!(connection["pageInfo"]["hasNextPage"], true, "{page}");
    assert_eq!(connection["edges"][0]["node"]["requestId"], Value::Null);
    let next = service
        .client
        .query(
            Some(&token),
            "query($l: ID, $a: String) { riskAccessLog(loanId: $l, first: 1, after: $a) {
                edges { node { requestId } } pageInfo { hasNextPage } } }",
            json!({ "l": loan, "a": connection["pageInfo"]["endCursor"] }),
        )
        .await;
    let connection = &next["data"]["riskAccessLog"];
    assert_eq!(
        connection["edges"][0]["node"]["requestId"], "req-raw-1",
        "{next}"
    );
    assert_eq!(connection["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn evaluations_of_many_loans_load_in_one_query() {
    let service = TestService::start().await;
    let mut loans = Vec::new();
    for _ in 0..4 {
        let user = Uuid::new_v4();
        service.set_profile(user, &clean()).await;
        loans.push(service.submit_loan(user).await.0);
    }
    for loan in &loans {
        assert_eq!(
            events_for(&service, *loan, 1, Duration::from_secs(20))
                .await
                .len(),
            1
        );
    }
    let staff = service.token(Uuid::new_v4(), "risk:read");
    let before = service.loader_stats.batches();
    let response = service
        .risk_evaluations(Some(&staff), &loans, "id riskLevel", "RiskFiles")
        .await;
    assert_eq!(
        service.loader_stats.batches() - before,
        1,
        "one batch for four loans"
    );
    let entities = response["data"]["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), 4);
    for (entity, loan) in entities.iter().zip(&loans) {
        assert_eq!(entity["id"], loan.to_string());
        assert_eq!(entity["riskEvaluations"][0]["riskLevel"], "LOW");
    }
}
