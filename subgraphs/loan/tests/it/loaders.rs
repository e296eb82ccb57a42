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

/// A status change reaches every subscriber of the loan, and each resolves the loan and its
/// `outstanding` as of now: through the shared loaders those reads are a batch each, not one
/// query per socket (before, each socket read the loan itself: eight subscribers, eight
/// queries, and no batch for the loan at all).
#[tokio::test]
async fn every_subscriber_of_a_loan_reads_it_in_one_batch_when_it_changes() {
    const SUBSCRIBERS: usize = 8;
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let loan = loan_id(&service.apply(&token, 2_000_000, 3, "fan-out").await);
    let mut sockets = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut socket = service.websocket(&service.base_url, Some(&token)).await;
        let ack = socket.next_message(WAIT).await.expect("connection_ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        socket
            .send(json!({
                "id": "s",
                "type": "subscribe",
                "payload": {
                    "query": "subscription($loan: ID) { loanStatusChanged(loanId: $loan) { status snapshot loan { id status outstanding } } }",
                    "variables": { "loan": loan.to_string() },
                }
            }))
            .await;
        let snapshot = next_change(&mut socket).await;
        assert_eq!(snapshot["snapshot"], true, "{snapshot}");
        sockets.push(socket);
    }

    // The application's own SUBMITTED change may still be on its way: let it pass first.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for socket in &mut sockets {
        while let Some(late) = socket
            .next_message(std::time::Duration::from_millis(100))
            .await
        {
            assert_eq!(
                late["payload"]["data"]["loanStatusChanged"]["status"], "SUBMITTED",
                "{late}"
            );
        }
    }
    let before = service.loader_stats().batches();
    service.decide(loan, user, CreditDecision::Approved).await;
    for socket in &mut sockets {
        let change = next_change(socket).await;
        assert_eq!(change["status"], "APPROVED", "{change}");
        assert_eq!(change["loan"]["status"], "APPROVED", "{change}");
        assert!(change["loan"]["outstanding"].as_i64().unwrap() > 2_000_000);
    }
    // One batch for the loan and one for its schedule; a subscriber woken a millisecond late
    // may start a second of either.
    let batches = service.loader_stats().batches() - before;
    assert!(
        (2..=4).contains(&batches),
        "{batches} batches for {SUBSCRIBERS} subscribers"
    );
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The next `loanStatusChanged` payload on `socket` (answering pings).
async fn next_change(socket: &mut WsClient) -> serde_json::Value {
    loop {
        let message = socket.next_message(WAIT).await.expect("a status push");
        match message["type"].as_str() {
            Some("next") => return message["payload"]["data"]["loanStatusChanged"].clone(),
            Some("ping") => socket.send(json!({ "type": "pong" })).await,
            _ => panic!("unexpected message {message}"),
        }
    }
}
