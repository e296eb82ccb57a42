//! The back office (`notification:admin`): templates listed, a new version refused with the
//! template error's code or stored, previewed with sample data, activated — and then used for
//! the next event; one borrower's deliveries with their attempts. Borrowers get FORBIDDEN.

use serde_json::json;
use tenor_notification::testing::*;

const CREATE: &str = "mutation($input: CreateNotificationTemplateVersionInput!) {
    createNotificationTemplateVersion(input: $input) {
        template { key version active title }
        userErrors { code field message }
    }
}";

const ACTIVATE: &str = "mutation($input: ActivateNotificationTemplateVersionInput!) {
    activateNotificationTemplateVersion(input: $input) {
        activation { key activeVersion }
        userErrors { code field message }
    }
}";

#[tokio::test]
async fn staff_write_preview_and_activate_a_template_that_the_next_event_uses() {
    let service = TestService::start().await;
    let admin = service.token(uuid::Uuid::new_v4(), "notification:admin");

    let listed = service
        .client
        .query(
            Some(&admin),
            "{ notificationTemplates(eventType: \"loan.approved.v1\", channel: EMAIL, language: ID) { key version active } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["data"]["notificationTemplates"],
        json!([{ "key": "loan.approved.v1/email/id", "version": 1, "active": true }]),
        "{listed}"
    );

    let unknown = service
        .client
        .query(
            Some(&admin),
            CREATE,
            json!({ "input": {
                "eventType": "loan.approved.v1", "channel": "EMAIL", "language": "ID",
                "title": "Disetujui {{ amout | rupiah }}", "body": "Halo {{ name }}",
            } }),
        )
        .await;
    let payload = &unknown["data"]["createNotificationTemplateVersion"];
    assert_eq!(payload["template"], json!(null));
    assert_eq!(user_error_codes(payload), ["UNKNOWN_VARIABLE"], "{unknown}");
    assert_eq!(payload["userErrors"][0]["field"], "title");

    let preview = service
        .client
        .query(
            Some(&admin),
            "mutation($input: PreviewNotificationTemplateInput!) {
                previewNotificationTemplate(input: $input) { preview { title body } userErrors { code } }
            }",
            json!({ "input": {
                "eventType": "loan.approved.v1", "channel": "EMAIL", "language": "ID",
                "title": "Selamat! {{ amount | rupiah }} disetujui", "body": "Halo {{ name }}.",
                "data": { "amount": 7500000 },
            } }),
        )
        .await;
    assert_eq!(
        preview["data"]["previewNotificationTemplate"]["preview"]["title"],
        "Selamat! Rp7.500.000 disetujui",
        "{preview}"
    );

    // The time zone is one of the three the profile offers, typed like the profile's.
    let preview_in = |zone: &'static str| {
        service.client.query(
            Some(&admin),
            "mutation($input: PreviewNotificationTemplateInput!) {
                previewNotificationTemplate(input: $input) { preview { title } userErrors { code } }
            }",
            json!({ "input": {
                "eventType": "loan.approved.v1", "channel": "EMAIL", "language": "ID",
                "title": "Halo {{ name }}", "body": "Halo {{ name }}.", "timeZone": zone,
            } }),
        )
    };
    let in_wita = preview_in("WITA").await;
    assert!(
        in_wita["data"]["previewNotificationTemplate"]["preview"]["title"].is_string(),
        "{in_wita}"
    );
    let unknown_zone = preview_in("Asia/Jakarta").await;
    assert!(unknown_zone["data"].is_null(), "{unknown_zone}");
    assert!(
        unknown_zone["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("IndonesianTimeZone")),
        "{unknown_zone}"
    );

    let created = service
        .client
        .query(
            Some(&admin),
            CREATE,
            json!({ "input": {
                "eventType": "loan.approved.v1", "channel": "EMAIL", "language": "ID",
                "title": "Selamat! {{ amount | rupiah }} disetujui", "body": "Halo {{ name }}.",
            } }),
        )
        .await;
    let template = &created["data"]["createNotificationTemplateVersion"]["template"];
    assert_eq!(template["version"], 2, "{created}");
    assert_eq!(template["active"], false);

    let activated = service
        .client
        .query(
            Some(&admin),
            ACTIVATE,
            json!({ "input": { "eventType": "loan.approved.v1", "channel": "EMAIL", "language": "ID", "version": 2 } }),
        )
        .await;
    assert_eq!(
        activated["data"]["activateNotificationTemplateVersion"]["activation"]["activeVersion"], 2,
        "{activated}"
    );
    let missing = service
        .client
        .query(
            Some(&admin),
            ACTIVATE,
            json!({ "input": { "eventType": "loan.approved.v1", "channel": "EMAIL", "language": "ID", "version": 9 } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&missing["data"]["activateNotificationTemplateVersion"]),
        ["UNKNOWN_VERSION"]
    );

    let borrower = Borrower::new("Lina Marlina").channels(&["EMAIL"]);
    service.borrower(&borrower).await;
    service.approve_loan(borrower.id, 7_500_000).await;
    let emails = wait_for_emails(&borrower.email, 1, std::time::Duration::from_secs(20)).await;
    assert_eq!(emails[0].subject, "Selamat! Rp7.500.000 disetujui");

    // Staff see the borrower's deliveries with their attempts.
    service.notifications_when(borrower.id, all_settled).await;
    let deliveries = service
        .client
        .query(
            Some(&admin),
            "query($user: ID!) { borrowerNotifications(userId: $user) { edges { node {
                notification { eventType title }
                deliveries { channel status to attempts { provider outcome } }
            } } } }",
            json!({ "user": borrower.id }),
        )
        .await;
    let node = &deliveries["data"]["borrowerNotifications"]["edges"][0]["node"];
    assert_eq!(
        node["notification"]["eventType"], "loan.approved.v1",
        "{deliveries}"
    );
    assert_eq!(node["deliveries"][0]["status"], "SENT");
    assert_eq!(node["deliveries"][0]["to"], borrower.email);
    assert_eq!(node["deliveries"][0]["attempts"][0]["outcome"], "sent");
}

#[tokio::test]
async fn borrowers_cannot_reach_the_back_office() {
    let service = TestService::start().await;
    let borrower = service.token(uuid::Uuid::new_v4(), "");
    let listed = service
        .client
        .query(
            Some(&borrower),
            "{ notificationTemplates { key } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&listed), "FORBIDDEN");
    let theirs = service
        .client
        .query(
            Some(&borrower),
            "query($user: ID!) { borrowerNotifications(userId: $user) { edges { cursor } } }",
            json!({ "user": uuid::Uuid::new_v4() }),
        )
        .await;
    assert_eq!(error_code(&theirs), "FORBIDDEN");
}
