//! The borrower's time zone: WIB until they choose another, readable on the profile, set
//! through `updateProfile`, announced in `user.profile.updated.v1`; anything but WIB, WITA or WIT
//! is refused and changes nothing.

use serde_json::Value;
use serde_json::json;
use tenor_contracts::identity::UserProfileUpdatedV1;
use tenor_platform::testing::user_error_codes;
use tenor_user::domain::IndonesianTimeZone;
use tenor_user::testing::*;

const ME: &str = "query { me { preferences { language timeZone } } }";

const UPDATE: &str = "mutation($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
        user { preferences { language timeZone } }
        userErrors { code field }
    } }";

#[tokio::test]
async fn the_time_zone_defaults_to_wib_and_changes_through_update_profile() {
    let service = TestService::start().await;
    let id = service.seed("Made Wirawan").await;
    let token = service.customer_token(id);

    let response = service.graphql.query(Some(&token), ME, json!({})).await;
    assert_eq!(
        response["data"]["me"]["preferences"],
        json!({ "language": "ID", "timeZone": "WIB" }),
        "{response}"
    );

    // Moving to Bali.
    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": { "timeZone": "WITA" } }),
        )
        .await;
    let payload = &response["data"]["updateProfile"];
    assert_eq!(
        user_error_codes(payload),
        Vec::<String>::new(),
        "{response}"
    );
    assert_eq!(payload["user"]["preferences"]["timeZone"], "WITA");
    assert_eq!(
        service.profile(id).await.unwrap().preferences.time_zone,
        IndonesianTimeZone::Wita
    );
    let response = service.graphql.query(Some(&token), ME, json!({})).await;
    assert_eq!(response["data"]["me"]["preferences"]["timeZone"], "WITA");

    // The same zone again changes nothing and announces nothing; then WIT and English at once.
    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": { "timeZone": "WITA" } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["updateProfile"]),
        Vec::<String>::new()
    );
    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": { "timeZone": "WIT", "language": "EN" } }),
        )
        .await;
    assert_eq!(
        response["data"]["updateProfile"]["user"]["preferences"],
        json!({ "language": "EN", "timeZone": "WIT" }),
        "{response}"
    );

    let events = service.user_events(|events| events.len() >= 2).await;
    let updates: Vec<UserProfileUpdatedV1> = events
        .iter()
        .map(|e| e.decode::<UserProfileUpdatedV1>().unwrap())
        .collect();
    let zones: Vec<(Option<&str>, &str)> = updates
        .iter()
        .map(|u| (u.time_zone.as_deref(), u.language.as_str()))
        .collect();
    assert_eq!(zones, [(Some("WITA"), "id"), (Some("WIT"), "en")]);
    assert!(updates.iter().all(|u| u.user_id == id));
}

/// A request-level error naming the enum, and no data at all.
fn refused_as_unknown_zone(response: &Value) -> bool {
    response["data"].is_null()
        && response["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("IndonesianTimeZone"))
}

#[tokio::test]
async fn an_unknown_time_zone_is_refused_and_changes_nothing() {
    let service = TestService::start().await;
    let id = service.seed("Made Wirawan").await;
    let token = service.customer_token(id);
    let before = service.profile(id).await.unwrap();

    for zone in ["PST", "wita", "UTC+8", "", "Asia/Makassar"] {
        // Along with a valid change: the whole request is refused, not half of it.
        let response = service
            .graphql
            .query(
                Some(&token),
                UPDATE,
                json!({ "input": { "timeZone": zone, "fullname": "Made W." } }),
            )
            .await;
        // Refused by GraphQL validation (the enum), before any resolver runs.
        assert!(refused_as_unknown_zone(&response), "{zone}: {response}");
    }
    // Written inline rather than as a variable: refused by validation just the same.
    let response = service
        .graphql
        .query(
            Some(&token),
            "mutation { updateProfile(input: { timeZone: CET }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert!(refused_as_unknown_zone(&response), "{response}");

    assert_eq!(service.profile(id).await.unwrap(), before);
    // Nothing was announced: a later valid change is the first event on the topic.
    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": { "timeZone": "WIT" } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["updateProfile"]),
        Vec::<String>::new()
    );
    let events = service.user_events(|events| !events.is_empty()).await;
    assert_eq!(events.len(), 1);
    let update: UserProfileUpdatedV1 = events[0].decode().unwrap();
    assert_eq!(update.time_zone.as_deref(), Some("WIT"));
    assert_eq!(update.fullname, before.fullname);
}
