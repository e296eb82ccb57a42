//! The data-subject request's start (docs/conventions.md § Data-subject requests):
//! `myDataExport` gives the owner their profile — only their own, there is no id to ask for
//! another — and refuses a deleted account with `ACCOUNT_DELETED`, even with an access token
//! that is still valid.

use serde_json::{Value, json};
use tenor_platform::testing::error_code;
use tenor_user::testing::*;
use uuid::Uuid;

const EXPORT: &str = "query MyDataExport { myDataExport { userId generatedAt
    profile { email phoneNumber fullname status kind language timeZone notificationChannels
              marketingConsent marketingConsentAt createdAt } } }";

const ENTITY: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) { __typename } }";

const DELETE: &str =
    "mutation { deleteMyAccount(confirm: true) { deletedAt userErrors { code } } }";

#[tokio::test]
async fn the_owner_gets_their_profile_and_a_deleted_account_is_refused() {
    let service = TestService::start().await;
    let user = service.seed("Siti Rahayu").await;
    let token = service.customer_token(user);

    let response = service.graphql.query(Some(&token), EXPORT, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["myDataExport"];
    assert_eq!(export["userId"], user.to_string());
    assert_eq!(
        export["profile"]["email"],
        format!("{}@example.id", user.simple())
    );
    assert_eq!(export["profile"]["fullname"], "Siti Rahayu");
    assert_eq!(export["profile"]["status"], "ACTIVE");
    assert_eq!(export["profile"]["kind"], "CUSTOMER");
    assert_eq!(export["profile"]["language"], "ID");
    assert_eq!(export["profile"]["marketingConsent"], false);
    assert!(export["generatedAt"].is_string());

    let deleted = service.graphql.query(Some(&token), DELETE, json!({})).await;
    assert!(
        deleted["data"]["deleteMyAccount"]["deletedAt"].is_string(),
        "{deleted}"
    );
    // The same access token, still unexpired: refused, with nothing of the profile.
    let response = service.graphql.query(Some(&token), EXPORT, json!({})).await;
    assert_eq!(error_code(&response), "ACCOUNT_DELETED", "{response}");
    assert_eq!(response["data"]["myDataExport"], Value::Null);
    assert!(!response.to_string().contains("example.id"), "{response}");
}

#[tokio::test]
async fn each_caller_gets_their_own_profile_and_nobody_can_name_another() {
    let service = TestService::start().await;
    let siti = service.seed("Siti Rahayu").await;
    let budi = service.seed("Budi Santoso").await;
    for (user, name) in [(siti, "Siti Rahayu"), (budi, "Budi Santoso")] {
        let response = service
            .graphql
            .query(Some(&service.customer_token(user)), EXPORT, json!({}))
            .await;
        assert_eq!(response["data"]["myDataExport"]["userId"], user.to_string());
        assert_eq!(
            response["data"]["myDataExport"]["profile"]["fullname"], name,
            "{response}"
        );
    }
    // The export is no entity: the router (or anyone) cannot ask for it by someone's id.
    let reps = json!({ "reps": [{ "__typename": "DataExport", "userId": budi }] });
    let response = service
        .graphql
        .query(Some(&service.customer_token(siti)), ENTITY, reps)
        .await;
    assert!(response["errors"].is_array(), "{response}");
    assert!(!response.to_string().contains("Budi"), "{response}");
    // Staff get their own (empty-handed) answer, never a customer's: there is no argument.
    let staff = service.staff_token(Uuid::new_v4());
    let response = service.graphql.query(Some(&staff), EXPORT, json!({})).await;
    assert_eq!(response["data"]["myDataExport"], Value::Null, "{response}");
    // Without a token: no data either.
    let response = service.graphql.query(None, EXPORT, json!({})).await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED", "{response}");
}
