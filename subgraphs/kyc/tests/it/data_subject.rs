//! The data-subject request on KYC's side (docs/conventions.md § Data-subject requests): the
//! owner's export (`myIdentityVerificationData`) and the erasure a deleted account's
//! `user.status.changed` event triggers — PII gone from the rows and the object store, the
//! verification outcome kept, applied once however often the event arrives.

use std::path::Path;

use chrono::Utc;
use serde_json::{Value, json};
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_events::Envelope;
use tenor_kyc::testing::*;
use tenor_platform::testing::wait_for;
use uuid::Uuid;

const EXPORT: &str = "query MyDataExport { myIdentityVerificationData {
        submissions { id documentType status documentNumberMasked
            document { number nik { provinceCode regencyCode districtCode birthDate sex } }
            documentImage { contentType sizeBytes uploadedAt downloadUrl }
            selfieImage { contentType sizeBytes }
            decisionSource submittedAt decidedAt expiresAt }
        accessLog { actorId field operationName } } }";

const STAFF_READ: &str = "query KycCaseFile($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on User {
        kyc { id status documentNumberMasked documentNumber documentImageUrl selfieImageUrl } } } }";

fn user_reps(user: Uuid) -> Value {
    json!({ "reps": [{ "__typename": "User", "id": user }] })
}

/// A customer whose KTP (with `NIK` unless another is given) is VERIFIED, and the document
/// image's bytes.
async fn verified(service: &TestService, nik: &str) -> (Uuid, Vec<u8>) {
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document.clone(), selfie).await;
    let payload = service.submit(&token, "KTP", nik, &d, &s).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    service.wait_status(customer, "VERIFIED").await;
    (customer, document)
}

fn deleted(user: Uuid) -> Envelope {
    let event = UserStatusChangedV1::deleted_by_owner(user, AccountStatus::Active, Utc::now());
    Envelope::new("/tenor/user", user.to_string(), &event, None).unwrap()
}

/// When `user`'s (only) submission was erased, as text.
async fn erased_at(service: &TestService, user: Uuid) -> Option<String> {
    use diesel::sql_types::{Nullable, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Text>)]
        at: Option<String>,
    }
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "SELECT erased_at::text AS at FROM user_kyc WHERE user_id = '{user}'"
    ))
    .get_result::<Row>(&mut conn)
    .await
    .unwrap()
    .at
}

/// Regular files under `dir` (the encrypted objects).
fn objects_in(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() { objects_in(&path) } else { 1 }
        })
        .sum()
}

#[tokio::test]
async fn the_owner_exports_every_submission_with_the_decoded_nik_images_and_access_log() {
    let service = TestService::start().await;
    let (customer, document) = verified(&service, NIK).await;
    // A reviewer reads the number: that is processing the owner must see.
    let reviewer = Uuid::new_v4();
    let staff = service.token(reviewer, "kyc:pii:read");
    let read = service
        .client
        .query(Some(&staff), STAFF_READ, user_reps(customer))
        .await;
    let staff_kyc = &read["data"]["_entities"][0]["kyc"];
    assert_eq!(staff_kyc["documentNumber"], NIK, "{read}");

    let response = service
        .client
        .query(Some(&service.customer_token(customer)), EXPORT, json!({}))
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["myIdentityVerificationData"];
    let submission = &export["submissions"][0];
    assert_eq!(submission["status"], "VERIFIED", "{response}");
    assert_eq!(submission["documentType"], "KTP");
    assert_eq!(submission["document"]["number"], NIK);
    assert_eq!(
        submission["document"]["nik"],
        json!({ "provinceCode": "32", "regencyCode": "01", "districtCode": "01",
                "birthDate": "1990-03-12", "sex": "MALE" })
    );
    assert_eq!(submission["decisionSource"], "AUTOMATIC");
    assert_eq!(submission["documentImage"]["contentType"], "image/png");
    assert_eq!(
        submission["documentImage"]["sizeBytes"],
        json!(document.len())
    );
    assert_eq!(submission["selfieImage"]["contentType"], "image/jpeg");
    // The link downloads the owner's own image.
    let url = submission["documentImage"]["downloadUrl"].as_str().unwrap();
    let downloaded = service.http.get(url).send().await.unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(
        downloaded.bytes().await.unwrap().as_ref(),
        document.as_slice()
    );
    // The reviewer's read is in the log (the export's own reads may be listed too).
    let log = export["accessLog"].as_array().unwrap();
    assert!(
        log.iter()
            .any(|entry| entry["actorId"] == reviewer.to_string()
                && entry["field"] == "documentNumber"
                && entry["operationName"] == "KycCaseFile"),
        "{export}"
    );
    // The export's own reads (the number, the image link) and the download are logged as the
    // owner's.
    let owner_reads = service
        .count(&format!(
            "SELECT count(*) AS n FROM pii_access_log WHERE actor_id = '{customer}'"
        ))
        .await;
    assert_eq!(
        owner_reads, 3,
        "documentNumber, documentImageUrl, documentImage.download"
    );
}

#[tokio::test]
async fn the_export_is_the_callers_own_and_nobody_can_name_another() {
    let service = TestService::start().await;
    let (victim, _) = verified(&service, NIK).await;
    // Another customer, and staff with every KYC scope: their own (empty) export, not hers.
    for token in [
        service.customer_token(Uuid::new_v4()),
        service.token(Uuid::new_v4(), "kyc:pii:read kyc:review"),
    ] {
        let response = service.client.query(Some(&token), EXPORT, json!({})).await;
        assert_eq!(
            response["data"]["myIdentityVerificationData"],
            json!({ "submissions": [], "accessLog": [] }),
            "{response}"
        );
    }
    // The export is no entity: no representation names a person.
    let response = service
        .client
        .query(
            Some(&service.customer_token(Uuid::new_v4())),
            "query($reps: [_Any!]!) { _entities(representations: $reps) { __typename } }",
            json!({ "reps": [{ "__typename": "DataExport", "userId": victim }] }),
        )
        .await;
    assert!(response["errors"].is_array(), "{response}");
    assert!(!response.to_string().contains(NIK), "{response}");
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM pii_access_log")
            .await,
        0,
        "nobody read anything"
    );
    let response = service.client.query(None, EXPORT, json!({})).await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED", "{response}");
}

#[tokio::test]
async fn a_deleted_account_loses_its_kyc_pii_once_and_keeps_the_verification_outcome() {
    let service = TestService::start().await;
    let (customer, _) = verified(&service, NIK).await;
    let token = service.customer_token(customer);
    // An image uploaded but never submitted is the person's too.
    let (_, url) = service.request_upload(&token, "SELFIE").await;
    assert_eq!(service.put(&url, jpeg(b"a spare selfie")).await.0, 200);
    // Someone else verified, untouched by the erasure.
    let (bystander, _) = verified(&service, "3201014506920002").await;
    assert_eq!(objects_in(&service.objects_dir), 5);
    let before = service
        .user_kyc(&token, customer, "id status decidedAt expiresAt")
        .await["data"]["_entities"][0]["kyc"]
        .clone();

    let event = deleted(customer);
    service.publish_user_event(&event).await;
    assert!(
        wait_for(async || erased_at(&service, customer).await.is_some()).await,
        "the DELETED event never erased the submission"
    );

    // The rows: number and mask gone, outcome and blind index kept; unused uploads gone.
    let row = |column: &str| {
        format!("SELECT count(*) AS n FROM user_kyc WHERE user_id = '{customer}' AND {column}")
    };
    assert_eq!(
        service
            .count(&row("octet_length(document_number_ciphertext) = 0"))
            .await,
        1
    );
    assert_eq!(
        service
            .count(&row("document_number_masked = '****************'"))
            .await,
        1
    );
    assert_eq!(
        service
            .count(&row(
                "status = 'VERIFIED' AND decided_at IS NOT NULL AND document_number_hash <> ''"
            ))
            .await,
        1
    );
    assert_eq!(
        service
            .count(&format!(
                "SELECT count(*) AS n FROM kyc_document_claims WHERE user_id = '{customer}'"
            ))
            .await,
        1,
        "the claim (a keyed hash) still stops the number backing another account"
    );
    assert_eq!(
        service
            .count(&format!(
                "SELECT count(*) AS n FROM kyc_uploads WHERE user_id = '{customer}' AND status <> 'USED'"
            ))
            .await,
        0
    );
    // The store: only the bystander's two images are left.
    assert_eq!(objects_in(&service.objects_dir), 2);
    assert_eq!(
        service
            .count(&format!(
                "SELECT count(*) AS n FROM user_kyc WHERE user_id = '{bystander}' AND erased_at IS NULL"
            ))
            .await,
        1
    );

    // Staff with every scope see the outcome and no PII; nothing is logged for it.
    let logged_before = service
        .count("SELECT count(*) AS n FROM pii_access_log")
        .await;
    let staff = service.token(Uuid::new_v4(), "kyc:pii:read kyc:review");
    let read = service
        .client
        .query(Some(&staff), STAFF_READ, user_reps(customer))
        .await;
    assert!(read["errors"].is_null(), "{read}");
    let kyc = &read["data"]["_entities"][0]["kyc"];
    assert_eq!(kyc["status"], "VERIFIED");
    assert_eq!(kyc["documentNumberMasked"], "****************");
    assert_eq!(kyc["documentNumber"], Value::Null);
    assert_eq!(kyc["documentImageUrl"], Value::Null);
    assert_eq!(kyc["selfieImageUrl"], Value::Null);
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM pii_access_log")
            .await,
        logged_before
    );
    // A token still valid after the deletion exports nothing from KYC.
    let response = service.client.query(Some(&token), EXPORT, json!({})).await;
    assert_eq!(
        response["data"]["myIdentityVerificationData"],
        json!({ "submissions": [], "accessLog": [] }),
        "{response}"
    );

    // Redelivered (same event id) and announced again (new id): nothing changes. The
    // bystander's deletion afterwards tells when both were handled.
    let first = service
        .user_kyc(&token, customer, "id status decidedAt expiresAt")
        .await["data"]["_entities"][0]["kyc"]
        .clone();
    assert_eq!(
        first, before,
        "the outcome is what it was before the erasure"
    );
    let first_erasure = erased_at(&service, customer).await;
    assert!(first_erasure.is_some());
    service.publish_user_event(&event).await;
    service.publish_user_event(&deleted(customer)).await;
    service.publish_user_event(&deleted(bystander)).await;
    assert!(
        wait_for(async || service
            .count(&format!(
                "SELECT count(*) AS n FROM user_kyc WHERE user_id = '{bystander}' AND erased_at IS NOT NULL"
            ))
            .await
            == 1)
        .await,
        "the bystander's deletion was never applied"
    );
    assert_eq!(
        erased_at(&service, customer).await,
        first_erasure,
        "a second delivery did not erase again"
    );
    assert_eq!(
        service
            .count(&format!(
                "SELECT count(*) AS n FROM inbox_events WHERE event_id = '{}'",
                event.id()
            ))
            .await,
        1,
        "the redelivered event was recorded once"
    );
    assert_eq!(objects_in(&service.objects_dir), 0);
}
