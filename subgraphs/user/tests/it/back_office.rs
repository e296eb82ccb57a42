//! Longer than 400 lines: each test is one staff task over a seeded list of accounts, queries included.
//! Staff operations: blocking, unblocking and listing accounts, behind `user:admin`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_platform::testing::{error_code, user_error_codes};
use tenor_user::domain;
use tenor_user::testing::*;
use uuid::Uuid;

const BLOCK: &str = "mutation($id: ID!, $reason: String!) {
    blockUser(id: $id, reason: $reason) {
        user { id status blockReason blockedAt }
        userErrors { code field message }
    } }";

const UNBLOCK: &str = "mutation($id: ID!) {
    unblockUser(id: $id) { user { id status blockReason } userErrors { code field message } } }";

const USERS: &str = "query($filter: UserFilter, $first: Int, $after: String) {
    users(filter: $filter, first: $first, after: $after) {
        edges { cursor node { id fullname status } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
    } }";

#[tokio::test]
async fn staff_block_and_unblock_publish_status_changes() {
    let service = TestService::start().await;
    let customer = service.seed("Siti Rahayu").await;
    let staff = Uuid::new_v4();
    let token = service.staff_token(staff);

    let response = service
        .graphql
        .query(
            Some(&token),
            BLOCK,
            json!({ "id": customer, "reason": " suspected identity fraud " }),
        )
        .await;
    let payload = &response["data"]["blockUser"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    assert_eq!(payload["user"]["status"], "BLOCKED");
    assert_eq!(payload["user"]["blockReason"], "suspected identity fraud");

    let blocked = service.profile(customer).await.unwrap();
    assert_eq!(blocked.status, domain::AccountStatus::Blocked);
    let block = blocked.block.clone().unwrap();
    assert_eq!(block.by, Some(staff));
    assert_eq!(block.reason, "suspected identity fraud");

    let response = service
        .graphql
        .query(Some(&token), UNBLOCK, json!({ "id": customer }))
        .await;
    let payload = &response["data"]["unblockUser"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    assert_eq!(payload["user"]["status"], "ACTIVE");
    assert_eq!(payload["user"]["blockReason"], Value::Null);
    let unblocked = service.profile(customer).await.unwrap();
    assert_eq!(unblocked.status, domain::AccountStatus::Active);
    assert_eq!(unblocked.block, None);

    let events = service.user_events(|events| events.len() >= 2).await;
    let changes: Vec<UserStatusChangedV1> = events
        .iter()
        .map(|e| {
            assert_eq!(e.event_type(), "user.status.changed.v1");
            assert_eq!(e.subject(), Some(customer.to_string().as_str()));
            e.decode().unwrap()
        })
        .collect();
    assert_eq!(
        changes,
        [
            UserStatusChangedV1 {
                user_id: customer,
                status: AccountStatus::Blocked,
                previous_status: AccountStatus::Active,
                reason: Some("suspected identity fraud".into()),
                changed_by: Some(staff),
                changed_at: block.at,
            },
            UserStatusChangedV1 {
                user_id: customer,
                status: AccountStatus::Active,
                previous_status: AccountStatus::Blocked,
                reason: None,
                changed_by: Some(staff),
                changed_at: unblocked.updated_at,
            },
        ]
    );
}

#[tokio::test]
async fn customers_cannot_use_back_office_operations() {
    let service = TestService::start().await;
    let victim = service.seed("Siti Rahayu").await;
    let customer = service.seed("Budi Santoso").await;
    let before = service.profile(victim).await.unwrap();
    let variables = json!({ "id": victim, "reason": "I do not like her" });

    let response = service
        .graphql
        .query(
            Some(&service.customer_token(customer)),
            BLOCK,
            variables.clone(),
        )
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    assert_eq!(response["data"], Value::Null);

    let response = service.graphql.query(None, BLOCK, variables).await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");

    let response = service
        .graphql
        .query(Some(&service.customer_token(customer)), USERS, json!({}))
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");

    assert_eq!(service.profile(victim).await.unwrap(), before);
    // The outbox is relayed in order: had a refused call published anything, it would come
    // before this legitimate block.
    let staff = Uuid::new_v4();
    let response = service
        .graphql
        .query(
            Some(&service.staff_token(staff)),
            BLOCK,
            json!({ "id": customer, "reason": "legitimate review" }),
        )
        .await;
    assert_eq!(response["data"]["blockUser"]["userErrors"], json!([]));
    let events = service.user_events(|events| !events.is_empty()).await;
    let first: UserStatusChangedV1 = events[0].decode().unwrap();
    assert_eq!((first.user_id, first.changed_by), (customer, Some(staff)));
}

#[tokio::test]
async fn refused_status_changes_are_user_errors_and_change_nothing() {
    let service = TestService::start().await;
    let staff = Uuid::new_v4();
    let token = service.staff_token(staff);
    let customer = service.seed("Siti Rahayu").await;
    let before = service.profile(customer).await.unwrap();

    let block = async |id: Value, reason: &str| {
        let response = service
            .graphql
            .query(Some(&token), BLOCK, json!({ "id": id, "reason": reason }))
            .await;
        user_error_codes(&response["data"]["blockUser"])
    };
    assert_eq!(
        block(json!(Uuid::new_v4()), "fraud review").await,
        ["USER_NOT_FOUND"]
    );
    assert_eq!(
        block(json!("not-a-uuid"), "fraud review").await,
        ["USER_NOT_FOUND"]
    );
    assert_eq!(block(json!(customer), " x ").await, ["REASON_INVALID"]);
    assert_eq!(
        block(json!(customer), &"x".repeat(501)).await,
        ["REASON_INVALID"]
    );
    assert_eq!(
        block(json!(staff), "fraud review").await,
        ["USER_NOT_FOUND"]
    );

    let response = service
        .graphql
        .query(Some(&token), UNBLOCK, json!({ "id": customer }))
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["unblockUser"]),
        ["INVALID_STATUS_TRANSITION"]
    );
    assert_eq!(service.profile(customer).await.unwrap(), before);

    // Blocked twice: the second is refused, the first stays as it was.
    assert!(block(json!(customer), "fraud review").await.is_empty());
    assert_eq!(
        block(json!(customer), "another reason").await,
        ["INVALID_STATUS_TRANSITION"]
    );
    let blocked = service.profile(customer).await.unwrap();
    assert_eq!(blocked.block.unwrap().reason, "fraud review");

    // Staff cannot lock themselves out.
    let staff_profile = service.seed("Admin Tenor").await;
    let response = service
        .graphql
        .query(
            Some(&service.staff_token(staff_profile)),
            BLOCK,
            json!({ "id": staff_profile, "reason": "testing" }),
        )
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["blockUser"]),
        ["CANNOT_BLOCK_SELF"]
    );

    // A deleted account no longer exists for the back office.
    let leaver = service.seed("Dewi Lestari").await;
    let response = service
        .graphql
        .query(
            Some(&service.customer_token(leaver)),
            "mutation { deleteMyAccount(confirm: true) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"]["deleteMyAccount"]["userErrors"],
        json!([]),
        "{response}"
    );
    assert_eq!(
        block(json!(leaver), "fraud review").await,
        ["USER_NOT_FOUND"]
    );
    let response = service
        .graphql
        .query(Some(&token), UNBLOCK, json!({ "id": leaver }))
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["unblockUser"]),
        ["USER_NOT_FOUND"]
    );

    // Only the successful block and the deletion were published.
    let events = service.user_events(|events| events.len() >= 2).await;
    let changes: Vec<(Uuid, AccountStatus)> = events
        .iter()
        .map(|e| {
            let change: UserStatusChangedV1 = e.decode().unwrap();
            (change.user_id, change.status)
        })
        .collect();
    assert_eq!(
        changes,
        [
            (customer, AccountStatus::Blocked),
            (leaver, AccountStatus::Deleted)
        ]
    );
}

#[tokio::test]
async fn users_are_listed_in_pages_and_filtered() {
    let service = TestService::start().await;
    let token = service.staff_token(Uuid::new_v4());
    let start = Utc::now() - Duration::days(30);
    let names = [
        "Siti Rahayu",
        "Budi Santoso",
        "Agus Rahayu",
        "Dewi 100%_Lestari",
        "Rina Wati",
    ];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut registered = registration(name, start + Duration::days(i as i64));
        registered.phone_number = Some(format!("+62812000000{i}"));
        ids.push(seed_registration(&service.db, &registered).await);
    }
    // Same creation time as Budi: the id breaks the tie, and no row is skipped or repeated.
    let twin = seed(&service.db, "Budi Kembar", start + Duration::days(1)).await;
    let deleted = seed(&service.db, "Gone Person", start + Duration::days(10)).await;
    let response = service
        .graphql
        .query(
            Some(&service.customer_token(deleted)),
            "mutation { deleteMyAccount(confirm: true) { deletedAt } }",
            json!({}),
        )
        .await;
    assert!(response["data"]["deleteMyAccount"]["deletedAt"].is_string());
    let response = service
        .graphql
        .query(
            Some(&token),
            BLOCK,
            json!({ "id": ids[4], "reason": "chargeback fraud" }),
        )
        .await;
    assert_eq!(response["data"]["blockUser"]["userErrors"], json!([]));

    // Page through everything two at a time.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let response = service
            .graphql
            .query(Some(&token), USERS, json!({ "first": 2, "after": after }))
            .await;
        let users = &response["data"]["users"];
        let edges = users["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"));
        assert!(edges.len() <= 2);
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        assert_eq!(users["pageInfo"]["hasPreviousPage"], pages > 1);
        if users["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = users["pageInfo"]["endCursor"].clone();
        assert!(pages < 10, "paging does not end");
    }
    let (first, second) = if ids[1] < twin {
        (ids[1], twin)
    } else {
        (twin, ids[1])
    };
    let expected: Vec<String> = [ids[0], first, second, ids[2], ids[3], ids[4]]
        .iter()
        .map(Uuid::to_string)
        .collect();
    assert_eq!(seen, expected, "oldest first, deleted accounts left out");
    assert_eq!(pages, 3);

    let list = async |variables: Value| -> Vec<String> {
        let response = service.graphql.query(Some(&token), USERS, variables).await;
        response["data"]["users"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|e| e["node"]["fullname"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        list(json!({ "filter": { "status": "BLOCKED" } })).await,
        ["Rina Wati"]
    );
    assert_eq!(
        list(json!({ "filter": { "query": "rAhAyU" } })).await,
        ["Siti Rahayu", "Agus Rahayu"]
    );
    assert_eq!(
        list(json!({ "filter": { "query": "+628120000001" } })).await,
        ["Budi Santoso"]
    );
    assert_eq!(
        list(json!({ "filter": { "query": ids[2].simple().to_string() } })).await,
        ["Agus Rahayu"],
        "email substring"
    );
    // `%` and `_` are literal characters, not wildcards.
    assert_eq!(
        list(json!({ "filter": { "query": "100%_" } })).await,
        ["Dewi 100%_Lestari"]
    );
    assert!(
        list(json!({ "filter": { "query": "i%a" } }))
            .await
            .is_empty()
    );
    let budis = if ids[1] < twin {
        ["Budi Santoso", "Budi Kembar"]
    } else {
        ["Budi Kembar", "Budi Santoso"]
    };
    assert_eq!(
        list(json!({ "filter": { "status": "ACTIVE", "query": "budi" } })).await,
        budis
    );
    assert!(
        list(json!({ "filter": { "query": "Gone" } }))
            .await
            .is_empty()
    );

    for bad in [
        json!({ "first": 101 }),
        json!({ "first": 0 }),
        json!({ "after": "garbage" }),
    ] {
        let response = service
            .graphql
            .query(Some(&token), USERS, bad.clone())
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{bad}: {response}");
    }
    let response = service
        .graphql
        .query(Some(&token), USERS, json!({ "first": 100 }))
        .await;
    assert_eq!(
        response["data"]["users"]["edges"].as_array().unwrap().len(),
        6
    );
}
