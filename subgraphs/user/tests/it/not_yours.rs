//! Issue 10: another person's profile and an id nobody has must look the same, byte for byte,
//! and hostile text in updateProfile / blockUser / users is refused cleanly (never INTERNAL)
//! and changes nothing.

use serde_json::{Value, json};
use tenor_platform::testing::{error_code, user_error_codes};
use tenor_user::testing::*;
use uuid::Uuid;

fn with_id_masked(response: &Value, id: Uuid) -> String {
    response.to_string().replace(&id.to_string(), "<ID>")
}

#[tokio::test]
async fn another_persons_profile_answers_like_an_unknown_id() {
    let service = TestService::start().await;
    let owner = service.seed("Siti Rahayu").await;
    let stranger = service.seed("Budi Santoso").await;
    let token = service.customer_token(stranger);
    let query = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id fullname email } } }";
    let unknown = Uuid::now_v7();
    let theirs = service
        .graphql
        .query(
            Some(&token),
            query,
            json!({ "reps": [{ "__typename": "User", "id": owner }] }),
        )
        .await;
    let missing = service
        .graphql
        .query(
            Some(&token),
            query,
            json!({ "reps": [{ "__typename": "User", "id": unknown }] }),
        )
        .await;
    assert_eq!(
        with_id_masked(&theirs, owner),
        with_id_masked(&missing, unknown)
    );
    assert_eq!(theirs["data"]["_entities"], json!([null]), "{theirs}");
}

#[tokio::test]
async fn hostile_text_is_refused_and_changes_nothing() {
    let service = TestService::start().await;
    let id = service.seed("Siti Rahayu").await;
    let token = service.customer_token(id);
    let staff = service.staff_token(Uuid::new_v4());
    let before = service.profile(id).await.unwrap();
    let hostile = [
        "Siti\u{0}Rahayu".to_owned(),
        "Siti\u{1}".to_owned(),
        "Siti\u{7f}".to_owned(),
        "Siti\u{85}Rahayu".to_owned(),
        "\u{202e}uyahaR itiS".to_owned(),
        "Si\u{200b}ti".to_owned(),
        "Siti\u{e0041}".to_owned(),
        "\u{feff}Siti".to_owned(),
        "\u{301}Siti".to_owned(),
        "x".repeat(10_000),
        "x".repeat(1 << 20),
    ];
    for value in &hostile {
        let response = service
            .graphql.query(
                Some(&token),
                "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { user { id } userErrors { code field } } }",
                json!({ "i": { "fullname": value } }),
            )
            .await;
        assert!(response["errors"].is_null(), "{response}");
        assert_eq!(
            user_error_codes(&response["data"]["updateProfile"]),
            ["FULLNAME_INVALID"]
        );
        let response = service
            .graphql.query(
                Some(&staff),
                "mutation($id: ID!, $r: String!) { blockUser(id: $id, reason: $r) { user { id } userErrors { code field } } }",
                json!({ "id": id, "r": format!("fraud {value}") }),
            )
            .await;
        assert!(response["errors"].is_null(), "{response}");
        assert_eq!(
            user_error_codes(&response["data"]["blockUser"]),
            ["REASON_INVALID"]
        );
        let response = service
            .graphql
            .query(
                Some(&staff),
                "query($q: String) { users(filter: { query: $q }) { nodes { id } } }",
                json!({ "q": value }),
            )
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    }
    assert_eq!(service.profile(id).await.unwrap(), before);
}
