//! The borrower's inbox over GraphQL: newest first with cursors, unread only, counts, read
//! marks; owner only — another user's id is answered exactly like an unknown id.

use serde_json::json;
use tenor_notification::testing::*;
use uuid::Uuid;

const PAGE: &str = "query($first: Int, $after: String, $unread: Boolean) {
    myNotifications(first: $first, after: $after, unreadOnly: $unread) {
        edges { cursor node { id title category read readAt } }
        pageInfo { hasNextPage endCursor }
    }
    unreadNotificationCount
}";

const MARK: &str = "mutation($id: ID!) {
    markNotificationRead(input: { id: $id }) {
        notification { id read readAt }
        userErrors { code field message }
    }
}";

#[tokio::test]
async fn the_inbox_pages_newest_first_counts_unread_and_marks_read_for_its_owner_only() {
    let service = TestService::start().await;
    let owner = Borrower::new("Maya Sari").channels(&["EMAIL"]);
    let other = Borrower::new("Joko Widodo").channels(&["EMAIL"]);
    service.borrower(&owner).await;
    service.borrower(&other).await;
    let mut events = Vec::new();
    for amount in [1_000_000, 2_000_000, 3_000_000] {
        events.push(service.approve_loan(owner.id, amount).await.id());
        // Distinct creation times, so "newest first" is observable.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let theirs = service.approve_loan(other.id, 9_000_000).await.id();
    let token = service.token(owner.id, "");
    let wait = tenor_platform::testing::wait_for(async || {
        let page = service.client.query(Some(&token), PAGE, json!({})).await;
        page["data"]["unreadNotificationCount"] == 3
    })
    .await;
    assert!(wait, "three items for the owner");

    let first = service
        .client
        .query(Some(&token), PAGE, json!({ "first": 2 }))
        .await;
    let connection = &first["data"]["myNotifications"];
    let ids: Vec<String> = connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [events[2].to_string(), events[1].to_string()]);
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    let after = connection["pageInfo"]["endCursor"].clone();
    let rest = service
        .client
        .query(Some(&token), PAGE, json!({ "first": 2, "after": after }))
        .await;
    let rest = &rest["data"]["myNotifications"];
    assert_eq!(rest["edges"][0]["node"]["id"], events[0].to_string());
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    // Mark one read: count and unread filter follow.
    let marked = service
        .client
        .query(Some(&token), MARK, json!({ "id": events[1] }))
        .await;
    let payload = &marked["data"]["markNotificationRead"];
    assert_eq!(payload["userErrors"], json!([]), "{marked}");
    assert_eq!(payload["notification"]["read"], true);
    let unread = service
        .client
        .query(Some(&token), PAGE, json!({ "unread": true }))
        .await;
    assert_eq!(unread["data"]["unreadNotificationCount"], 2);
    assert_eq!(
        unread["data"]["myNotifications"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Someone else's item and an item that does not exist: the same NOT_FOUND, nothing changed.
    for id in [theirs, Uuid::new_v4()] {
        let refused = service
            .client
            .query(Some(&token), MARK, json!({ "id": id }))
            .await;
        let payload = &refused["data"]["markNotificationRead"];
        assert_eq!(payload["notification"], json!(null));
        assert_eq!(user_error_codes(payload), ["NOT_FOUND"], "{refused}");
    }
    let other_token = service.token(other.id, "");
    let theirs_page = service
        .client
        .query(Some(&other_token), PAGE, json!({}))
        .await;
    assert_eq!(theirs_page["data"]["unreadNotificationCount"], 1);
    assert_eq!(
        theirs_page["data"]["myNotifications"]["edges"][0]["node"]["read"],
        false
    );

    // Mark all.
    let all = service
        .client
        .query(
            Some(&token),
            "mutation { markAllNotificationsRead { markedCount userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["data"]["markAllNotificationsRead"]["markedCount"], 2,
        "{all}"
    );
    let after_all = service.client.query(Some(&token), PAGE, json!({})).await;
    assert_eq!(after_all["data"]["unreadNotificationCount"], 0);
}

#[tokio::test]
async fn the_inbox_needs_a_signed_in_user() {
    let service = TestService::start().await;
    let anonymous = service.client.query(None, PAGE, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}
