//! Issue 10: someone else's loan and a loan that does not exist must look the same, byte for
//! byte, on every "one of mine" field — otherwise the answer reveals that the loan exists. And
//! hostile text in applyLoan is a userError, never INTERNAL, and stores nothing.

use std::time::Duration;

use crate::support::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// The response with every occurrence of `id` replaced, so two answers about two ids compare.
fn with_id_masked(response: &Value, id: Uuid) -> String {
    response.to_string().replace(&id.to_string(), "<ID>")
}

async fn same_answer(
    service: &TestService,
    token: &str,
    query: &str,
    vars: impl Fn(Uuid) -> Value,
    theirs: Uuid,
) {
    let unknown = Uuid::now_v7();
    let stranger = service.graphql(Some(token), query, vars(theirs)).await;
    let missing = service.graphql(Some(token), query, vars(unknown)).await;
    assert_eq!(
        with_id_masked(&stranger, theirs),
        with_id_masked(&missing, unknown),
        "{query}: someone else's loan must answer like an unknown id"
    );
    assert!(!stranger.to_string().contains("FORBIDDEN"), "{stranger}");
}

#[tokio::test]
async fn someone_elses_loan_answers_like_an_unknown_id_everywhere() {
    let service = TestService::start().await;
    let owner = service.verified_customer().await;
    let owner_token = service.customer_token(owner);
    let loan = loan_id(&service.apply(&owner_token, 2_000_000, 3, "mine-1").await);
    let stranger = service.customer_token(Uuid::new_v4());

    // loan(id): null, no error — for the stranger and for an id nobody has.
    let query = "query($id: ID!) { loan(id: $id) { id status amount purpose } }";
    same_answer(&service, &stranger, query, |id| json!({ "id": id }), loan).await;
    let response = service
        .graphql(Some(&stranger), query, json!({ "id": loan }))
        .await;
    assert_eq!(response, json!({ "data": { "loan": null } }));

    // The owner and staff still read it.
    let own = service
        .graphql(Some(&owner_token), query, json!({ "id": loan }))
        .await;
    assert_eq!(own["data"]["loan"]["id"], loan.to_string(), "{own}");
    let staff = service
        .graphql(
            Some(&service.staff_token(Uuid::new_v4())),
            query,
            json!({ "id": loan }),
        )
        .await;
    assert_eq!(staff["data"]["loan"]["id"], loan.to_string(), "{staff}");

    // _entities for Loan (how the router resolves a Loan reference).
    let entities = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Loan { id status } } }";
    same_answer(
        &service,
        &stranger,
        entities,
        |id| json!({ "reps": [{ "__typename": "Loan", "id": id }] }),
        loan,
    )
    .await;

    // cancelLoan and payInstallment: the same NOT_FOUND userError.
    same_answer(
        &service,
        &stranger,
        "mutation($id: ID!) { cancelLoan(id: $id) { loan { id } userErrors { code field message } } }",
        |id| json!({ "id": id }),
        loan,
    )
    .await;
    same_answer(
        &service,
        &stranger,
        "mutation($id: ID!) { payInstallment(loanId: $id, amount: 100000, idempotencyKey: \"pay-1\") { loan { id } payment { replayed } userErrors { code field message } } }",
        |id| json!({ "id": id }),
        loan,
    )
    .await;

    // Nothing the stranger did touched the loan.
    assert_eq!(
        service.loan_status(loan).await.as_deref(),
        Some("SUBMITTED")
    );

    // loanStatusChanged(loanId): the same refusal for both.
    let mut answers = Vec::new();
    for id in [loan, Uuid::now_v7()] {
        let mut ws = service.websocket(&service.base_url, Some(&stranger)).await;
        let ack = ws.next_message(Duration::from_secs(10)).await.unwrap();
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws.subscribe("watch", Some(id)).await;
        let answer = ws.next_message(Duration::from_secs(10)).await.unwrap();
        answers.push(with_id_masked(&answer, id));
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn hostile_text_in_apply_loan_is_a_user_error_and_stores_nothing() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let purposes = [
        "modal\u{0}usaha".to_owned(),
        "modal\u{1b}[2Jusaha".to_owned(),
        "modal\u{7f}".to_owned(),
        "modal\u{85}usaha".to_owned(),
        "\u{202e}ahasu ladom".to_owned(),
        "modal\u{200b}usaha".to_owned(),
        "modal\u{e0041}".to_owned(),
        "\u{feff}modal usaha".to_owned(),
        "\u{301}modal usaha".to_owned(),
        "x".repeat(10_000),
        "x".repeat(1 << 20),
    ];
    for (i, purpose) in purposes.iter().enumerate() {
        let response = service
            .graphql(
                Some(&token),
                APPLY,
                json!({ "amount": 2_000_000, "tenor": 3, "purpose": purpose, "key": format!("hostile-{i}") }),
            )
            .await;
        assert!(response["errors"].is_null(), "case {i}: {response}");
        assert_eq!(
            user_error_codes(&response["data"]["applyLoan"]),
            ["PURPOSE_INVALID"],
            "case {i}: {response}"
        );
    }
    let mut conn = service.db.pool().get().await.unwrap();
    let loans = tenor_loan::store::loans::of_user(&mut conn, user)
        .await
        .unwrap();
    assert!(loans.is_empty());

    // NFC: a decomposed purpose is stored composed.
    let payload = service
        .graphql(
            Some(&token),
            "mutation($purpose: String!) { applyLoan(amount: 2000000, tenorMonths: 3, purpose: $purpose, idempotencyKey: \"fine-1\") { loan { purpose } userErrors { code } } }",
            json!({ "purpose": "  Renovasi   cafe\u{301} " }),
        )
        .await;
    assert_eq!(
        payload["data"]["applyLoan"]["loan"]["purpose"], "Renovasi café",
        "{payload}"
    );
}
