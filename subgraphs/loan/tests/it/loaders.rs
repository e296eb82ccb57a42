//! `Loan.installments` and `Loan.outstanding` of a whole list, `User.loans` and `Loan` references
//! of a whole `_entities` call, load through one DataLoader batch (docs/conventions.md § API
//! conventions: a test counts the queries).

use serde_json::json;
use tenor_contracts::credit::CreditDecision;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn the_schedules_of_many_loans_load_in_one_batch() {
    let service = TestService::start().await;
    let mut loans = Vec::new();
    for i in 0..5 {
        let user = service.verified_customer().await;
        let token = service.customer_token(user);
        let loan = loan_id(&service.apply(&token, 1_000_000 + i * 100_000, 3, "k").await);
        service.decide(loan, user, CreditDecision::Approved).await;
        loans.push(loan);
    }
    for loan in &loans {
        service.wait_for_status(*loan, "APPROVED").await;
    }

    let before = service.loader_stats().batches();
    let response = service
        .graphql(
            Some(&service.staff_token(Uuid::new_v4())),
            "{ loans(first: 20) { nodes { id totalRepayment outstanding installments { number amountDue } } } }",
            json!({}),
        )
        .await;
    let nodes = response["data"]["loans"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), loans.len(), "{response}");
    for node in nodes {
        let installments = node["installments"].as_array().unwrap();
        assert_eq!(installments.len(), 3, "{node}");
        let due: i64 = installments
            .iter()
            .map(|i| i["amountDue"].as_i64().unwrap())
            .sum();
        assert_eq!(node["outstanding"].as_i64().unwrap(), due, "{node}");
        assert_eq!(node["totalRepayment"].as_i64().unwrap(), due, "{node}");
    }
    // Two fields on five loans: one batch, not ten queries.
    assert_eq!(service.loader_stats().batches() - before, 1);
}

/// What the router sends in one `_entities` call — N users' `loans` (the dashboard's path), or
/// N `Loan` references — costs one batch, not N queries.
#[tokio::test]
async fn an_entities_call_for_many_users_or_loans_loads_in_one_batch() {
    let service = TestService::start().await;
    let mut users = Vec::new();
    let mut loans = Vec::new();
    for i in 0..4 {
        let user = service.verified_customer().await;
        let token = service.customer_token(user);
        loans.push(loan_id(
            &service.apply(&token, 1_000_000 + i * 100_000, 3, "k").await,
        ));
        users.push(user);
    }
    let staff = service.staff_token(Uuid::new_v4());

    let representations: Vec<_> = users
        .iter()
        .map(|id| json!({ "__typename": "User", "id": id }))
        .collect();
    let before = service.loader_stats().batches();
    let response = service
        .graphql(
            Some(&staff),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id loans { id userId } } } }",
            json!({ "r": representations }),
        )
        .await;
    let entities = response["data"]["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), users.len(), "{response}");
    for (entity, (user, loan)) in entities.iter().zip(users.iter().zip(&loans)) {
        assert_eq!(
            entity["loans"],
            json!([{ "id": loan, "userId": user }]),
            "{entity}"
        );
    }
    assert_eq!(
        service.loader_stats().batches() - before,
        1,
        "one batch for four users"
    );

    let representations: Vec<_> = loans
        .iter()
        .map(|id| json!({ "__typename": "Loan", "id": id }))
        .collect();
    let before = service.loader_stats().batches();
    let response = service
        .graphql(
            Some(&staff),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Loan { id status } } }",
            json!({ "r": representations }),
        )
        .await;
    let ids: Vec<_> = response["data"]["_entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|loan| loan["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<_> = loans.iter().map(Uuid::to_string).collect();
    assert_eq!(ids, expected, "{response}");
    assert_eq!(
        service.loader_stats().batches() - before,
        1,
        "one batch for four loans"
    );
}
