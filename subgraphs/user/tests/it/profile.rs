//! The owner's side: the profile appears on registration, `me`, editing, and account deletion,
//! through HTTP against the running service, real PostgreSQL and real Kafka.
//!
//! Longer than 400 lines because each test is one self-contained owner journey with its queries.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::Request;
use chrono::Utc;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use serde_json::{Value, json};
use tenor_contracts::identity::{AccountStatus, UserProfileUpdatedV1, UserStatusChangedV1};
use tenor_platform::auth::Principal;
use tenor_platform::graphql::Caller;
use tenor_platform::testing::TestIssuer;
use tenor_platform::testing::{error_code, user_error_codes};
use tenor_user::domain::{self, DELETED_FULLNAME};
use tenor_user::events::Publisher;
use tenor_user::schema::{self, loaders::LoaderStats};
use tenor_user::service::UserService;
use tenor_user::testing::*;
use uuid::Uuid;

const ME: &str = "query { me { id email phoneNumber fullname status kind
    preferences { language notificationChannels marketingConsent marketingConsentAt }
    createdAt updatedAt } }";

const UPDATE: &str = "mutation($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
        user { id fullname preferences { language notificationChannels marketingConsent marketingConsentAt } updatedAt }
        userErrors { code field message }
    } }";

const DELETE: &str = "mutation($confirm: Boolean!) {
    deleteMyAccount(confirm: $confirm) { deletedAt userErrors { code field message } } }";

#[tokio::test]
async fn registration_creates_the_profile_once_even_if_delivered_twice() {
    let service = TestService::start().await;
    let mut registered = registration("  Siti Rahayu ", Utc::now());
    registered.phone_number = Some("+6281234567890".into());
    let event = registration_envelope(&registered);
    service.publish(&event).await;
    service.publish(&event).await;
    // The same account re-announced under a new event id (auth replaying its outbox): the
    // profile is not overwritten.
    let mut replayed = registered.clone();
    replayed.fullname = "Someone Else".into();
    service.publish(&registration_envelope(&replayed)).await;
    // A later registration: once it is there, everything before it was handled.
    let sentinel = registration("Budi Santoso", Utc::now());
    service.publish(&registration_envelope(&sentinel)).await;

    assert!(
        wait_for(async || service.profile(sentinel.user_id).await.is_some()).await,
        "the sentinel registration was never applied"
    );
    let profile = service.profile(registered.user_id).await.unwrap();
    assert_eq!(profile.email.as_deref(), Some(registered.email.as_str()));
    assert_eq!(profile.phone_number, registered.phone_number);
    assert_eq!(
        profile.fullname, "Siti Rahayu",
        "normalised like updateProfile"
    );
    assert_eq!(profile.status, domain::AccountStatus::Active);
    assert_eq!(profile.kind, domain::AccountKind::Customer);
    assert_eq!(profile.preferences.language, domain::Language::Id);
    assert_eq!(
        profile.preferences.notification_channels,
        [
            domain::NotificationChannel::Email,
            domain::NotificationChannel::Push
        ]
    );
    assert!(!profile.preferences.marketing_consent);

    // The duplicate delivery was recorded once in the inbox.
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = service.db.pool().get().await.unwrap();
    let Count { n } =
        diesel::sql_query("SELECT count(*) AS n FROM inbox_events WHERE event_id = $1")
            .bind::<SqlUuid, _>(event.id())
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(n, 1);
    let Count { n } = diesel::sql_query("SELECT count(*) AS n FROM user_profile")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn me_returns_the_owners_profile() {
    let service = TestService::start().await;
    let id = service.seed("Siti Rahayu").await;
    let other = service.seed("Budi Santoso").await;

    let response = service
        .graphql
        .query(Some(&service.customer_token(id)), ME, json!({}))
        .await;
    let me = &response["data"]["me"];
    assert_eq!(me["id"], id.to_string(), "{response}");
    assert_eq!(me["fullname"], "Siti Rahayu");
    assert_eq!(me["email"], format!("{}@example.id", id.simple()));
    assert_eq!(me["phoneNumber"], Value::Null);
    assert_eq!(me["status"], "ACTIVE");
    assert_eq!(me["kind"], "CUSTOMER");
    assert_eq!(
        me["preferences"],
        json!({ "language": "ID", "notificationChannels": ["EMAIL", "PUSH"],
                "marketingConsent": false, "marketingConsentAt": null })
    );

    let response = service
        .graphql
        .query(Some(&service.customer_token(other)), ME, json!({}))
        .await;
    assert_eq!(response["data"]["me"]["id"], other.to_string());
}

#[tokio::test]
async fn another_users_token_cannot_read_the_profile() {
    let service = TestService::start().await;
    let owner = service.seed("Siti Rahayu").await;
    let stranger = service.seed("Budi Santoso").await;
    let query = "query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { id fullname email } } }";
    let reps = json!({ "reps": [{ "__typename": "User", "id": owner.to_string() }] });

    let response = service
        .graphql
        .query(Some(&service.customer_token(stranger)), query, reps.clone())
        .await;
    assert_eq!(response["data"]["_entities"], json!([null]), "{response}");
    assert_eq!(error_code(&response), "FORBIDDEN");
    assert!(!response.to_string().contains("example.id"), "{response}");

    let response = service
        .graphql
        .query(Some(&service.customer_token(owner)), query, reps.clone())
        .await;
    assert_eq!(response["data"]["_entities"][0]["fullname"], "Siti Rahayu");

    let response = service
        .graphql
        .query(
            Some(&service.staff_token(Uuid::new_v4())),
            query,
            reps.clone(),
        )
        .await;
    assert_eq!(
        response["data"]["_entities"][0]["id"],
        owner.to_string(),
        "{response}"
    );

    // Staff-only fields stay closed to the owner.
    let response = service
        .graphql
        .query(
            Some(&service.customer_token(owner)),
            "query { me { fullname blockReason } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
}

#[tokio::test]
async fn missing_or_forged_tokens_are_unauthenticated() {
    let service = TestService::start().await;
    let id = service.seed("Siti Rahayu").await;

    let response = service.graphql.query(None, ME, json!({})).await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert_eq!(response["data"]["me"], Value::Null);

    // Signed by a key the JWKS does not publish, claiming to be the owner.
    let forger = TestIssuer::start().await;
    let response = service
        .graphql
        .query(Some(&forger.token(id, "user:admin")), ME, json!({}))
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert!(response["data"].is_null(), "{response}");

    let response = service
        .graphql
        .query(None, UPDATE, json!({ "input": { "fullname": "Mallory" } }))
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert_eq!(service.profile(id).await.unwrap().fullname, "Siti Rahayu");
}

#[tokio::test]
async fn update_profile_changes_the_profile_and_publishes_it() {
    let service = TestService::start().await;
    let id = service.seed("Siti Rahayu").await;
    let token = service.customer_token(id);

    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": {
                "fullname": "  Siti   Nurhaliza ",
                "language": "EN",
                "notificationChannels": ["PUSH", "EMAIL", "PUSH"],
                "marketingConsent": true,
            } }),
        )
        .await;
    let payload = &response["data"]["updateProfile"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    let user = &payload["user"];
    assert_eq!(user["fullname"], "Siti Nurhaliza");
    assert_eq!(user["preferences"]["language"], "EN");
    assert_eq!(
        user["preferences"]["notificationChannels"],
        json!(["EMAIL", "PUSH"])
    );
    assert_eq!(user["preferences"]["marketingConsent"], true);
    assert!(user["preferences"]["marketingConsentAt"].is_string());

    let stored = service.profile(id).await.unwrap();
    assert_eq!(stored.fullname, "Siti Nurhaliza");
    assert_eq!(stored.preferences.language, domain::Language::En);
    let consent_at = stored.preferences.marketing_consent_at.unwrap();

    let events = service.user_events(|events| !events.is_empty()).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.event_type(), "user.profile.updated.v1");
    assert_eq!(event.source(), "/tenor/user");
    assert_eq!(event.subject(), Some(id.to_string().as_str()));
    assert_eq!(
        event.decode::<UserProfileUpdatedV1>().unwrap(),
        UserProfileUpdatedV1 {
            user_id: id,
            fullname: "Siti Nurhaliza".into(),
            language: "en".into(),
            notification_channels: vec!["EMAIL".into(), "PUSH".into()],
            marketing_consent: true,
            time_zone: Some("WIB".into()),
            updated_at: stored.updated_at,
        }
    );

    // Withdrawing consent clears its timestamp.
    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": { "marketingConsent": false } }),
        )
        .await;
    let prefs = &response["data"]["updateProfile"]["user"]["preferences"];
    assert_eq!(prefs["marketingConsent"], false, "{response}");
    assert_eq!(prefs["marketingConsentAt"], Value::Null);
    assert_eq!(consent_at, stored.updated_at);
    assert_eq!(
        service
            .profile(id)
            .await
            .unwrap()
            .preferences
            .marketing_consent_at,
        None
    );
}

#[tokio::test]
async fn each_update_refusal_changes_nothing_and_publishes_nothing() {
    let service = TestService::start().await;
    let id = service.seed("Siti Rahayu").await;
    let token = service.customer_token(id);
    let before = service.profile(id).await.unwrap();

    let cases = [
        (json!({ "fullname": "   " }), vec!["FULLNAME_INVALID"]),
        (
            json!({ "fullname": "x".repeat(101) }),
            vec!["FULLNAME_INVALID"],
        ),
        (
            json!({ "fullname": "Siti\u{7}Rahayu" }),
            vec!["FULLNAME_INVALID"],
        ),
        (json!({ "notificationChannels": [] }), vec!["NO_CHANNEL"]),
        (
            json!({ "notificationChannels": ["SMS"] }),
            vec!["PHONE_NUMBER_REQUIRED"],
        ),
        // One bad field spoils the whole change, and every fault is reported at once.
        (
            json!({ "fullname": "", "notificationChannels": [], "language": "EN" }),
            vec!["FULLNAME_INVALID", "NO_CHANNEL"],
        ),
    ];
    for (input, codes) in cases {
        let response = service
            .graphql
            .query(Some(&token), UPDATE, json!({ "input": input }))
            .await;
        let payload = &response["data"]["updateProfile"];
        assert_eq!(user_error_codes(payload), codes, "{input}: {response}");
        assert_eq!(payload["user"], Value::Null);
        // Messages follow the user's language (Indonesian by default).
        assert!(
            payload["userErrors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{response}"
        );
        assert_eq!(service.profile(id).await.unwrap(), before, "{input}");
    }
    let response = service
        .graphql
        .query(Some(&token), UPDATE, json!({ "input": { "fullname": "" } }))
        .await;
    assert_eq!(
        response["data"]["updateProfile"]["userErrors"][0]["field"],
        "fullname"
    );
    assert_eq!(
        response["data"]["updateProfile"]["userErrors"][0]["message"],
        "Nama lengkap wajib diisi."
    );

    // The outbox is relayed in order: if any refusal had published, it would come first.
    let response = service
        .graphql
        .query(
            Some(&token),
            UPDATE,
            json!({ "input": { "fullname": "Siti R" } }),
        )
        .await;
    assert_eq!(
        response["data"]["updateProfile"]["userErrors"],
        json!([]),
        "{response}"
    );
    let events = service.user_events(|events| !events.is_empty()).await;
    assert_eq!(
        events[0].decode::<UserProfileUpdatedV1>().unwrap().fullname,
        "Siti R"
    );
}

#[tokio::test]
async fn delete_my_account_minimises_personal_data_and_announces_it() {
    let service = TestService::start().await;
    let mut registered = registration("Siti Rahayu", Utc::now());
    registered.phone_number = Some("+6281234567890".into());
    let id = seed_registration(&service.db, &registered).await;
    let token = service.customer_token(id);

    let response = service
        .graphql
        .query(Some(&token), DELETE, json!({ "confirm": false }))
        .await;
    let payload = &response["data"]["deleteMyAccount"];
    assert_eq!(user_error_codes(payload), ["CONFIRMATION_REQUIRED"]);
    assert_eq!(
        service.profile(id).await.unwrap().status,
        domain::AccountStatus::Active
    );

    let response = service
        .graphql
        .query(Some(&token), DELETE, json!({ "confirm": true }))
        .await;
    let payload = &response["data"]["deleteMyAccount"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    let deleted_at = payload["deletedAt"].as_str().unwrap().to_owned();

    let stored = service.profile(id).await.unwrap();
    assert_eq!(stored.status, domain::AccountStatus::Deleted);
    assert_eq!(stored.email, None);
    assert_eq!(stored.phone_number, None);
    assert_eq!(stored.fullname, DELETED_FULLNAME);
    assert!(stored.deleted_at.is_some());

    // Gone from the API; a retry answers like the first call.
    let response = service.graphql.query(Some(&token), ME, json!({})).await;
    assert_eq!(response["data"]["me"], Value::Null, "{response}");
    let response = service
        .graphql
        .query(Some(&token), DELETE, json!({ "confirm": true }))
        .await;
    assert_eq!(response["data"]["deleteMyAccount"]["deletedAt"], deleted_at);

    let events = service.user_events(|events| !events.is_empty()).await;
    assert_eq!(events.len(), 1);
    let changed: UserStatusChangedV1 = events[0].decode().unwrap();
    assert_eq!(changed.user_id, id);
    assert_eq!(changed.status, AccountStatus::Deleted);
    assert_eq!(changed.previous_status, AccountStatus::Active);
    assert_eq!(changed.changed_by, None);
    assert_eq!(Some(changed.changed_at), stored.deleted_at);
    // The event carries no personal data.
    let json = events[0].to_json().to_string();
    assert!(!json.contains("example.id") && !json.contains("6281234567890"));
}

/// `_entities` for many users costs one query, not one per user (docs/conventions.md § API conventions).
#[tokio::test]
async fn entities_are_loaded_in_one_batch() {
    let db = database().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(seed(&db, &format!("Nasabah {i}"), Utc::now()).await);
    }
    let stats = Arc::new(LoaderStats::default());
    let schema = schema::build(
        UserService::new(db.pool(), Publisher::new("unused")),
        stats.clone(),
    );
    let staff = Principal {
        user_id: Uuid::new_v4(),
        session_id: None,
        scopes: BTreeSet::from(["user:admin".to_owned()]),
        expires_at: Utc::now() + chrono::Duration::minutes(5),
    };
    let mut representations: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "__typename": "User", "id": id.to_string() }))
        .collect();
    let unknown = Uuid::new_v4();
    representations.push(json!({ "__typename": "User", "id": unknown.to_string() }));

    let request = Request::new(
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id fullname } } }",
    )
    .variables(async_graphql::Variables::from_json(
        json!({ "reps": representations }),
    ))
    .data(Caller::User(staff));
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), ids.len() + 1);
    for (entity, id) in entities.iter().zip(&ids) {
        assert_eq!(entity["id"], id.to_string());
    }
    assert_eq!(entities[ids.len()], Value::Null);
    assert_eq!(stats.batches(), 1, "one query for {} keys", ids.len() + 1);

    // The loader really is what resolves entities: a second request is a second batch.
    let one = Request::new(
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }",
    )
    .variables(async_graphql::Variables::from_json(
        json!({ "reps": [representations[0].clone()] }),
    ))
    .data(Caller::User(Principal {
        user_id: ids[0],
        scopes: BTreeSet::new(),
        session_id: None,
        expires_at: Utc::now() + chrono::Duration::minutes(5),
    }));
    let response = schema.execute(one).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(stats.batches(), 2);
}
