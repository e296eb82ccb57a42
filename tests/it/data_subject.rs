//! Journey 5, the data-subject request (docs/conventions.md § Data-subject requests): a
//! borrower with a verified KYC and a decided loan downloads everything Tenor holds about them
//! with the app's `MyDataExport` — one request, every subgraph answering its own part — then
//! deletes the account — refused while the approved loan is open, accepted once the borrower
//! declined it (the user context learns that through Kafka). Afterwards the export and login are refused, staff with every scope
//! see no PII in user, KYC or notification (eventually: the erasures follow the DELETED event
//! through Kafka), and the loan record is still there for staff under the opaque user id.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::deciders::bureau;
use tenor_harness::journeys::{
    apply_when_eligible, fresh_nik, verified_customer, wait_until_verified,
};
use tenor_harness::{LOGIN, RouterStack, eventually};
use uuid::Uuid;

const EXPORT: &str = include_str!("../../schema/operations/MyDataExport.graphql");

const STAFF_CASE: &str = "query StaffCase($loan: ID!) { loan(id: $loan) { id status amount userId
    user { kyc { status documentNumberMasked documentNumber } } } }";
const STAFF_USERS: &str =
    "query Users($q: String!) { users(filter: { query: $q }) { edges { node { id } } } }";
const STAFF_MESSAGES: &str = "query Messages($user: ID!) { borrowerNotifications(userId: $user) {
    edges { node { notification { title content } deliveries { to title content } } } } }";
const LOAN_STATUS: &str = "query LoanDetails($id: ID!) { loan(id: $id) { status } }";
const INBOX: &str = "query MyNotifications { myNotifications(first: 10) { nodes { id } } }";
const DELETE: &str =
    "mutation DeleteMyAccount { deleteMyAccount(confirm: true) { deletedAt userErrors { code } } }";
const CANCEL: &str =
    "mutation CancelLoan($id: ID!) { cancelLoan(id: $id) { loan { status } userErrors { code } } }";

/// `query` through the router, waiting out the per-user rate limit: the polls above spend the
/// borrower's burst.
async fn gql(stack: &RouterStack, query: &str, variables: Value, token: Option<&str>) -> Value {
    loop {
        let response = stack.gql(query, variables.clone(), token).await;
        let Some(wait) = response["errors"][0]["extensions"]["retryAfterMs"].as_u64() else {
            return response;
        };
        tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    }
}

#[tokio::test]
async fn a_borrower_exports_everything_then_deletes_the_account_and_no_pii_is_left() {
    let stack = RouterStack::start_deciding().await;
    let nik = fresh_nik();
    let (borrower, token) = verified_customer(&stack, &nik).await;
    let user = borrower.user_id.to_string();
    wait_until_verified(&stack, &token).await;
    // A clean file at the simulated bureau: the loan is decided, not referred to a reviewer
    // (the file the simulated bureau derives from a new user id puts some borrowers in the
    // review band, and the loan then waits for a reviewer: CI saw it).
    stack
        .deciders()
        .bureau_file(borrower.user_id, &bureau::clean())
        .await;

    // A reviewer reads the full number: the export must show who processed the data.
    let reviewer = stack
        .staff(&[
            "kyc:pii:read",
            "kyc:review",
            "loan:operate",
            "user:admin",
            "notification:admin",
        ])
        .await;
    let staff = stack.router.login(&reviewer).await;
    // A loan, decided by credit and risk, told in the inbox.
    let applied = apply_when_eligible(&stack, &token, &Uuid::new_v4().to_string()).await;
    let loan = applied["loan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("applied: {applied}"))
        .to_owned();
    eventually(async || {
        let status = gql(&stack, LOAN_STATUS, json!({ "id": loan }), Some(&token)).await;
        status["data"]["loan"]["status"] != "SUBMITTED"
    })
    .await;
    let case = gql(&stack, STAFF_CASE, json!({ "loan": loan }), Some(&staff)).await;
    assert_eq!(
        case["data"]["loan"]["user"]["kyc"]["documentNumber"], nik,
        "{case}"
    );
    eventually(async || {
        let inbox = gql(&stack, INBOX, json!({}), Some(&token)).await;
        inbox["data"]["myNotifications"]["nodes"]
            .as_array()
            .is_some_and(|nodes| !nodes.is_empty())
    })
    .await;

    // The export: every subgraph answers.
    let response = gql(&stack, EXPORT, json!({}), Some(&token)).await;
    assert!(response["errors"].is_null(), "{response}");
    let data = &response["data"];
    let export = &data["myDataExport"];
    assert_eq!(export["userId"], user);
    assert_eq!(export["profile"]["email"], borrower.identifier.as_str());
    assert_eq!(data["mySignInData"]["email"], borrower.identifier.as_str());
    assert!(
        !data["mySignInData"]["sessions"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{data}"
    );
    let submission = &data["myIdentityVerificationData"]["submissions"][0];
    assert_eq!(submission["status"], "VERIFIED", "{data}");
    assert_eq!(submission["document"]["number"], nik.as_str());
    assert_eq!(submission["document"]["nik"]["provinceCode"], "32");
    assert_eq!(submission["documentImage"]["contentType"], "image/png");
    let access_log = data["myIdentityVerificationData"]["accessLog"]
        .as_array()
        .unwrap();
    assert!(
        access_log
            .iter()
            .any(|entry| entry["actorId"] == reviewer.user_id.to_string()
                && entry["field"] == "documentNumber"
                && entry["operationName"] == "StaffCase"),
        "the reviewer's read is in the processing history: {access_log:?}"
    );
    let lent = &data["myLendingData"]["loans"][0];
    assert_eq!(lent["id"], loan.as_str());
    assert_eq!(lent["amount"], 5_000_000);
    let decision = &data["myCreditDecisionData"]["decisions"][0];
    assert_eq!(decision["loanId"], loan.as_str(), "{data}");
    assert!(
        !decision["reason"].as_str().unwrap_or_default().is_empty(),
        "{decision}"
    );
    assert_eq!(
        lent["status"] == "APPROVED",
        decision["outcome"] == "APPROVE"
    );
    assert_eq!(
        data["myRiskAssessmentData"]["assessments"][0]["loanId"],
        loan.as_str(),
        "{data}"
    );
    let inbox = data["myNotificationData"]["inbox"].as_array().unwrap();
    assert!(
        inbox.iter().any(|item| item["eventType"]
            .as_str()
            .is_some_and(|t| t.starts_with("loan."))),
        "{data}"
    );
    assert_eq!(
        data["myNotificationData"]["contact"]["email"],
        borrower.identifier.as_str()
    );

    // An approved loan keeps the account: the borrower declines it before it is paid out.
    if lent["status"] == "APPROVED" {
        let refused = gql(&stack, DELETE, json!({}), Some(&token)).await;
        assert_eq!(
            refused["data"]["deleteMyAccount"]["userErrors"][0]["code"], "LOANS_OPEN",
            "{refused}"
        );
        let declined = gql(&stack, CANCEL, json!({ "id": loan }), Some(&token)).await;
        assert_eq!(
            declined["data"]["cancelLoan"]["loan"]["status"], "CANCELLED",
            "{declined}"
        );
    }

    // Delete the account, once the user context has heard that no loan is open.
    let mut deleted = Value::Null;
    eventually(async || {
        deleted = gql(&stack, DELETE, json!({}), Some(&token)).await;
        deleted["data"]["deleteMyAccount"]["userErrors"][0]["code"] != "LOANS_OPEN"
    })
    .await;
    assert!(
        deleted["data"]["deleteMyAccount"]["deletedAt"].is_string(),
        "{deleted}"
    );

    // The export is refused at once by the user subgraph (the profile), and within moments of
    // the DELETED event everything else is gone too: the router refuses the revoked session,
    // and each subgraph, asked directly with the still-unexpired token, has nothing personal.
    let response = gql(&stack, EXPORT, json!({}), Some(&token)).await;
    assert!(response["data"]["myDataExport"].is_null(), "{response}");
    eventually(async || {
        let response = gql(&stack, EXPORT, json!({}), Some(&token)).await;
        response["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            && response["data"].is_null()
    })
    .await;
    let direct = async |url: &str, query: &str| {
        tenor_harness::post_graphql(&format!("{url}/graphql"), query, json!({}), Some(&token)).await
    };
    let user_part = direct(
        &stack.subgraphs.user_url,
        "query { myDataExport { userId } }",
    )
    .await;
    assert_eq!(
        user_part["errors"][0]["extensions"]["code"], "ACCOUNT_DELETED",
        "{user_part}"
    );
    eventually(async || {
        let kyc = direct(
            &stack.subgraphs.kyc_url,
            "query { myIdentityVerificationData { submissions { id } accessLog { id } } }",
        )
        .await;
        let auth = direct(
            &stack.subgraphs.auth_url,
            "query { mySignInData { email } }",
        )
        .await;
        let loan = direct(
            &stack.subgraphs.loan_url,
            "query { myLendingData { loans { id } } }",
        )
        .await;
        kyc["data"]["myIdentityVerificationData"] == json!({ "submissions": [], "accessLog": [] })
            && auth["data"]["mySignInData"].is_null()
            && loan["data"]["myLendingData"].is_null()
    })
    .await;

    // Login is refused.
    let login = gql(
        &stack,
        LOGIN,
        json!({ "i": { "identifier": borrower.identifier, "password": borrower.password } }),
        None,
    )
    .await;
    assert!(login["data"]["login"]["tokens"].is_null(), "{login}");

    // Staff with every scope: no PII in user, KYC or notification; the loan stays.
    let found = gql(
        &stack,
        STAFF_USERS,
        json!({ "q": borrower.identifier }),
        Some(&staff),
    )
    .await;
    assert_eq!(found["data"]["users"]["edges"], json!([]), "{found}");
    eventually(async || {
        let case = gql(&stack, STAFF_CASE, json!({ "loan": loan }), Some(&staff)).await;
        case["data"]["loan"]["user"]["kyc"]["documentNumber"].is_null()
            && case["data"]["loan"]["user"]["kyc"]["documentNumberMasked"] == "****************"
    })
    .await;
    let case = gql(&stack, STAFF_CASE, json!({ "loan": loan }), Some(&staff)).await;
    assert_eq!(case["data"]["loan"]["amount"], 5_000_000, "{case}");
    assert_eq!(case["data"]["loan"]["userId"], user);
    assert!(!case.to_string().contains(&nik), "{case}");
    eventually(async || {
        let messages = gql(
            &stack,
            STAFF_MESSAGES,
            json!({ "user": user }),
            Some(&staff),
        )
        .await;
        let text = messages.to_string();
        messages["data"]["borrowerNotifications"]["edges"].is_array()
            && !text.contains(&borrower.identifier)
            && !text.contains("Siti")
    })
    .await;
}
