//! Sensitive data at rest: after a full journey (upload, submit, verify, PII reads), neither the
//! raw database rows nor the stored objects contain the document number or the image bytes in
//! plaintext.

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use serde_json::json;
use tenor_kyc::testing::*;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct Dump {
    #[diesel(sql_type = Text)]
    dump: String,
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn neither_rows_nor_objects_hold_the_number_or_the_images_in_clear() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    // Distinctive image content to look for.
    let marker = format!("IMAGE-MARKER-{}", Uuid::new_v4().simple());
    let document = png(marker.as_bytes());
    let selfie = selfie_for(&document, Band::Approve);
    let (d, s) = service
        .upload_pair(&token, document.clone(), selfie.clone())
        .await;
    let payload = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    service.wait_status(customer, "VERIFIED").await;
    let officer = service.token(Uuid::new_v4(), "kyc:review kyc:pii:read");
    let read = service
        .user_kyc(&officer, customer, "documentNumber documentImageUrl")
        .await;
    assert_eq!(read["data"]["_entities"][0]["kyc"]["documentNumber"], NIK);

    // Every row of every table, as text (bytea renders as hex).
    let mut conn = service.db.pool().get().await.unwrap();
    let tables: Vec<TableName> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    for expected in ["user_kyc", "kyc_uploads", "pii_access_log", "outbox_events"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let mut everything = String::new();
    for table in &tables {
        let dump: Dump = diesel::sql_query(format!(
            "SELECT coalesce(json_agg(t)::text, '') AS dump FROM \"{}\" t",
            table.name
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        everything.push_str(&dump.dump);
    }
    assert!(everything.contains("3201********0001"), "the dump is real");
    assert!(!everything.contains(NIK), "NIK in clear in the database");
    assert!(
        !everything.contains(&hex(NIK.as_bytes())),
        "NIK bytes in the database"
    );
    assert!(
        !everything.contains(&marker),
        "image content in the database"
    );
    assert!(!everything.contains(&hex(marker.as_bytes())));

    // Every stored object: ciphertext only.
    let mut files = vec![];
    let mut dirs = vec![service.objects_dir.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(std::fs::read(entry.path()).unwrap());
            }
        }
    }
    assert_eq!(files.len(), 2, "one object per image");
    for file in &files {
        assert!(!contains(file, marker.as_bytes()));
        assert!(!contains(file, &selfie[selfie.len() - 16..]));
        assert!(!contains(file, &document[..16]), "PNG header in clear");
        assert!(!contains(file, NIK.as_bytes()));
    }
}

#[derive(diesel::QueryableByName)]
struct KeyId {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    key_id: Option<String>,
}

#[tokio::test]
async fn a_rotated_master_key_seals_new_data_and_still_opens_old_data() {
    let mut service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document.clone(), selfie).await;
    assert_eq!(
        service.submit(&token, "KTP", NIK, &d, &s).await["userErrors"],
        json!([])
    );
    service.wait_status(customer, "VERIFIED").await;

    // Rotate: a new current key under a new id; the old one kept for reading only.
    let old = service.master_key().to_owned();
    service.set_env(
        "KYC_MASTER_KEY",
        &tenor_kyc::crypto::Key32::random().to_base64(),
    );
    service.set_env("KYC_MASTER_KEY_ID", "2026-12");
    service.set_env("KYC_PREVIOUS_MASTER_KEYS", &format!("primary={old}"));
    service
        .restart(std::sync::Arc::new(
            tenor_kyc::verification::SimulatedKycVendor,
        ))
        .await;

    let officer = service.token(Uuid::new_v4(), "kyc:review kyc:pii:read");
    let read = service
        .user_kyc(&officer, customer, "documentNumber documentImageUrl")
        .await;
    let kyc = &read["data"]["_entities"][0]["kyc"];
    assert_eq!(kyc["documentNumber"], NIK, "{read}");
    let image = service
        .http
        .get(kyc["documentImageUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(image.as_ref(), document.as_slice());

    // New uploads are sealed under the new key.
    let (_, url) = service.request_upload(&token, "SELFIE").await;
    assert_eq!(service.put(&url, jpeg(b"after rotation")).await.0, 200);
    let mut conn = service.db.pool().get().await.unwrap();
    let ids: Vec<KeyId> = diesel::sql_query("SELECT key_id FROM kyc_uploads ORDER BY created_at")
        .load(&mut conn)
        .await
        .unwrap();
    let ids: Vec<_> = ids.into_iter().map(|k| k.key_id.unwrap()).collect();
    assert_eq!(ids, ["primary", "primary", "2026-12"]);
}
