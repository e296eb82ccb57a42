//! The back-office search pages with the kit's one cursor (`tenor_platform::cursor`): pages
//! join up without gaps or repeats, and a cursor, page size or borrower id the list cannot use
//! is `BAD_USER_INPUT`.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

const SEARCH: &str = "query($first: Int, $after: String, $user: ID) {
    loans(first: $first, after: $after, userId: $user) {
        edges { cursor node { id } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
    } }";

fn ids(page: &Value) -> Vec<String> {
    page["data"]["loans"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges in {page}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_join_up_and_bad_cursors_are_bad_input() {
    let service = TestService::start().await;
    let mut created = Vec::new();
    let mut owner = Uuid::nil();
    for _ in 0..3 {
        let user = service.verified_customer().await;
        if created.is_empty() {
            owner = user;
        }
        let token = service.customer_token(user);
        created.push(loan_id(&service.apply(&token, 1_000_000, 2, "k").await).to_string());
    }
    let staff = service.staff_token(Uuid::new_v4());

    let first = service
        .graphql(Some(&staff), SEARCH, json!({ "first": 2 }))
        .await;
    assert_eq!(
        first["data"]["loans"]["pageInfo"]["hasNextPage"], true,
        "{first}"
    );
    let after = first["data"]["loans"]["pageInfo"]["endCursor"].clone();
    let second = service
        .graphql(Some(&staff), SEARCH, json!({ "first": 2, "after": after }))
        .await;
    assert_eq!(second["data"]["loans"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["data"]["loans"]["pageInfo"]["hasPreviousPage"], true);
    let mut seen = [ids(&first), ids(&second)].concat();
    // Newest first: the reverse of creation order (ids are time-ordered).
    created.reverse();
    assert_eq!(seen, created);
    seen.dedup();
    assert_eq!(seen.len(), 3);
    // One borrower's: theirs only.
    let mine = service
        .graphql(Some(&staff), SEARCH, json!({ "user": owner }))
        .await;
    assert_eq!(ids(&mine), [created[2].clone()], "{mine}");

    for variables in [
        json!({ "after": "%%%" }),
        json!({ "after": "bm90LWEtY3Vyc29y" }),
        json!({ "first": 0 }),
        json!({ "first": 101 }),
        json!({ "user": "not-an-id" }),
        json!({ "user": "" }),
    ] {
        let refused = service
            .graphql(Some(&staff), SEARCH, variables.clone())
            .await;
        assert_eq!(
            error_code(&refused),
            "BAD_USER_INPUT",
            "{variables}: {refused}"
        );
    }
}
