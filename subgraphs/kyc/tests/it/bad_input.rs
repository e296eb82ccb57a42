//! Every refusal is typed and leaves nothing behind: malformed numbers (each NIK rule), a number
//! held by another account, bad uploads (size, type, expired, tampered, reused), and submitting
//! while a KYC is pending or verified.
//!
//! (Over 400 lines: one table-driven test per refusal family, kept together so a new refusal
//! has one obvious home.)

use std::sync::Arc;

use serde_json::{Value, json};
use tenor_kyc::testing::*;
use tenor_kyc::verification::SimulatedKycVendor;
use uuid::Uuid;

/// Rows a refused submission must not have written.
async fn nothing_stored(service: &TestService) {
    for table in [
        "user_kyc",
        "kyc_document_claims",
        "outbox_events",
        "kyc_reviews",
    ] {
        assert_eq!(
            service
                .count(&format!("SELECT count(*) AS n FROM {table}"))
                .await,
            0,
            "{table} has rows"
        );
    }
}

fn object_files(service: &TestService) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&service.objects_dir)
}

#[tokio::test]
async fn each_malformed_document_number_has_its_code_and_stores_nothing() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;

    for (kind, number, code) in [
        ("KTP", "320101120390001", "NIK_INVALID_LENGTH"),
        ("KTP", "32010112039O0001", "NIK_NOT_NUMERIC"),
        ("KTP", "9901011203900001", "NIK_INVALID_PROVINCE"),
        ("KTP", "3200011203900001", "NIK_INVALID_REGENCY"),
        ("KTP", "3201001203900001", "NIK_INVALID_DISTRICT"),
        ("KTP", "3201013503900001", "NIK_INVALID_BIRTH_DAY"),
        ("KTP", "3201011213900001", "NIK_INVALID_BIRTH_MONTH"),
        ("KTP", "3201013102900001", "NIK_INVALID_BIRTH_DATE"),
        ("KTP", "3201011203900000", "NIK_INVALID_SERIAL"),
        ("SIM", "12345", "SIM_INVALID_FORMAT"),
        ("NPWP", "01.234.567.5-012.000", "NPWP_INVALID_CHECK_DIGIT"),
        ("NPWP", "12-34", "NPWP_INVALID_FORMAT"),
    ] {
        let payload = service.submit(&token, kind, number, &d, &s).await;
        assert_eq!(user_error_codes(&payload), [code], "{number}: {payload}");
        assert_eq!(payload["userErrors"][0]["field"], "documentNumber");
        assert_eq!(payload["kyc"], Value::Null);
        let message = payload["userErrors"][0]["message"].as_str().unwrap();
        assert!(!message.contains(number), "the message echoes the number");
    }
    nothing_stored(&service).await;
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM kyc_uploads WHERE status = 'STORED'")
            .await,
        2,
        "the uploads are still usable"
    );
    // …and the same uploads then work with a valid number.
    let payload = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
}

#[tokio::test]
async fn one_number_one_account_until_a_rejection_releases_it() {
    let service = TestService::start().await;
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let first_kyc = service
        .submit_scoring(&service.customer_token(first), NIK, Band::Borderline)
        .await;

    // While the first account's submission is pending, the number is taken.
    let token = service.customer_token(second);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;
    let payload = service
        .submit(&token, "KTP", "3201-0112-0390-0001", &d, &s)
        .await;
    assert_eq!(
        user_error_codes(&payload),
        ["DOCUMENT_NUMBER_TAKEN"],
        "{payload}"
    );
    assert_eq!(payload["userErrors"][0]["field"], "documentNumber");
    assert_eq!(
        service
            .count(&format!(
                "SELECT count(*) AS n FROM user_kyc WHERE user_id = '{second}'"
            ))
            .await,
        0
    );

    // Once staff reject it, the number is free for its real owner.
    let reviewer = service.token(Uuid::new_v4(), "kyc:review");
    let response = service
        .client.query(
            Some(&reviewer),
            "mutation($id: ID!) { reviewKyc(kycId: $id, decision: REJECT, reason: \"not the card holder\") {
                userErrors { code } } }",
            json!({ "id": first_kyc }),
        )
        .await;
    assert_eq!(
        response["data"]["reviewKyc"]["userErrors"],
        json!([]),
        "{response}"
    );
    let payload = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    service.wait_status(second, "VERIFIED").await;

    // Now verified for `second`: the first account cannot take it back.
    let token = service.customer_token(first);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;
    let payload = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(user_error_codes(&payload), ["DOCUMENT_NUMBER_TAKEN"]);
    assert_eq!(
        service
            .count(&format!(
                "SELECT count(*) AS n FROM user_kyc WHERE user_id = '{first}'"
            ))
            .await,
        1,
        "only the earlier rejected submission"
    );
}

#[tokio::test]
async fn two_accounts_racing_for_one_number_get_one_submission() {
    let service = TestService::start().await;
    let users = [
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    ];
    let mut prepared = vec![];
    for user in users {
        let token = service.customer_token(user);
        let (document, selfie) = images_in(Band::Borderline);
        let (d, s) = service.upload_pair(&token, document, selfie).await;
        prepared.push((token, d, s));
    }
    let results = futures::future::join_all(
        prepared
            .iter()
            .map(|(token, d, s)| service.submit(token, "KTP", NIK, d, s)),
    )
    .await;
    let accepted = results
        .iter()
        .filter(|p| p["userErrors"] == json!([]))
        .count();
    assert_eq!(accepted, 1, "{results:?}");
    for payload in results.iter().filter(|p| p["userErrors"] != json!([])) {
        assert_eq!(user_error_codes(payload), ["DOCUMENT_NUMBER_TAKEN"]);
    }
    assert_eq!(service.count("SELECT count(*) AS n FROM user_kyc").await, 1);
}

#[tokio::test]
async fn submitting_while_pending_or_verified_is_refused() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);

    // Borderline: stays PENDING in manual review.
    service.submit_scoring(&token, NIK, Band::Borderline).await;
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;
    let payload = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(user_error_codes(&payload), ["KYC_ALREADY_PENDING"]);
    assert_eq!(service.count("SELECT count(*) AS n FROM user_kyc").await, 1);

    // A different customer, verified.
    let verified = Uuid::new_v4();
    let token = service.customer_token(verified);
    service
        .submit_scoring(&token, "3174055203050042", Band::Approve)
        .await;
    service.wait_status(verified, "VERIFIED").await;
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;
    let outbox_before = service
        .count("SELECT count(*) AS n FROM outbox_events")
        .await;
    let payload = service
        .submit(&token, "KTP", "3174055203050042", &d, &s)
        .await;
    assert_eq!(user_error_codes(&payload), ["KYC_ALREADY_VERIFIED"]);
    assert_eq!(service.count("SELECT count(*) AS n FROM user_kyc").await, 2);
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM outbox_events")
            .await,
        outbox_before
    );
}

#[tokio::test]
async fn uploads_must_be_the_callers_of_the_right_kind_received_and_unused() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;
    let (pending, _) = service.request_upload(&token, "SELFIE").await;
    let other = service.customer_token(Uuid::new_v4());
    let (other_d, other_s) = service
        .upload_pair(&other, png(b"theirs"), jpeg(b"theirs"))
        .await;

    for (document_id, selfie_id, code, field) in [
        (
            s.as_str(),
            s.as_str(),
            "UPLOAD_WRONG_KIND",
            "documentUploadId",
        ),
        (
            d.as_str(),
            d.as_str(),
            "UPLOAD_WRONG_KIND",
            "selfieUploadId",
        ),
        (
            other_d.as_str(),
            s.as_str(),
            "UPLOAD_NOT_FOUND",
            "documentUploadId",
        ),
        (
            d.as_str(),
            other_s.as_str(),
            "UPLOAD_NOT_FOUND",
            "selfieUploadId",
        ),
        (
            d.as_str(),
            pending.as_str(),
            "UPLOAD_NOT_RECEIVED",
            "selfieUploadId",
        ),
        (
            "not-an-id",
            s.as_str(),
            "UPLOAD_NOT_FOUND",
            "documentUploadId",
        ),
    ] {
        let payload = service
            .submit(&token, "KTP", NIK, document_id, selfie_id)
            .await;
        assert_eq!(user_error_codes(&payload), [code], "{payload}");
        assert_eq!(payload["userErrors"][0]["field"], field);
    }
    nothing_stored(&service).await;

    // Without kyc:submit the mutations are refused outright.
    let no_scope = service.token(customer, "loan:apply");
    let response = service
        .client
        .query(
            Some(&no_scope),
            "mutation { requestKycUpload(kind: SELFIE) { upload { url } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
}

#[tokio::test]
async fn upload_urls_check_size_type_signature_and_single_use() {
    // A limit just above the test photos' sizes.
    let limit = png(b"").len().max(jpeg(b"").len()) + 1024;
    let service = TestService::start_with(
        &[("KYC_UPLOAD_MAX_BYTES", &limit.to_string())],
        Arc::new(SimulatedKycVendor),
    )
    .await;
    let token = service.customer_token(Uuid::new_v4());
    let (_, url) = service.request_upload(&token, "DOCUMENT_FRONT").await;

    let (status, body) = service.put(&url, png(&vec![7u8; limit])).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("UPLOAD_TOO_LARGE"))
    );
    // Chunked, without a Content-Length: still cut off at the limit.
    assert_eq!(put_chunked(&url, 4, &vec![1u8; limit / 3]).await, 413);

    let (status, body) = service.put(&url, b"%PDF-1.7 not an image".to_vec()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("UPLOAD_NOT_AN_IMAGE"))
    );
    let (status, body) = service.put(&url, vec![]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("UPLOAD_EMPTY"))
    );
    // A JPEG signature with garbage behind it is not a photo; neither is a thumbnail, nor a
    // header declaring more pixels than any camera takes. Each is refused before the vendor
    // (who charges per call) sees it, and the link stays unused.
    let mut garbage = vec![0xFF, 0xD8, 0xFF];
    garbage.extend_from_slice(&[b'x'; 100]);
    let (status, body) = service.put(&url, garbage).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("UPLOAD_NOT_AN_IMAGE"))
    );
    for (width, height) in [(16u32, 16u32), (100_000, 100_000)] {
        let (status, body) = service.put(&url, png_header_of(width, height, b"")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("UPLOAD_IMAGE_DIMENSIONS")),
            "{width}×{height}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("{width}×{height}"))),
            "{body}"
        );
    }

    // A valid header of a photo-sized image with no image behind it, a photo cut short, and
    // one with its coded data overwritten: each decodes to nothing, and is refused before the
    // vendor sees it.
    let photo = png(b"");
    let mut overwritten = photo.clone();
    let middle = overwritten.len() / 2;
    overwritten[middle..middle + 64].fill(0x5A);
    for broken in [
        png_header_of(1280, 960, &[0x5A; 500]),
        jpeg_header_of(960, 1280, &[0x5A; 500]),
        photo[..photo.len() * 3 / 4].to_vec(),
        jpeg(b"")[..jpeg(b"").len() / 2].to_vec(),
        overwritten,
    ] {
        let (status, body) = service.put(&url, broken).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("UPLOAD_IMAGE_DAMAGED")),
            "{body}"
        );
        assert!(
            body["error"]["message"].as_str().is_some_and(
                |m| m.starts_with("Foto rusak") && m.contains(" / The image is damaged")
            ),
            "{body}"
        );
    }

    // Tampering with the expiry or the id, or dropping the signature, breaks the link.
    let later = {
        let expires: i64 = url
            .split("expires=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        url.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 3600),
        )
    };
    let (_, other_url) = service.request_upload(&token, "SELFIE").await;
    let other_id = other_url
        .split("/kyc/uploads/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let this_id = url
        .split("/kyc/uploads/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let retargeted = url.replace(this_id, other_id);
    let unsigned = url.split("&signature=").next().unwrap().to_owned();
    for bad in [later, retargeted, unsigned] {
        let (status, body) = service.put(&bad, png(b"x")).await;
        assert_eq!(status, 403, "{bad}");
        assert_eq!(body["error"]["code"], "UPLOAD_URL_INVALID");
    }
    assert_eq!(object_files(&service), 0, "refused uploads store nothing");
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM kyc_uploads WHERE status <> 'REQUESTED'")
            .await,
        0
    );

    // The genuine upload works once.
    let (status, body) = service.put(&url, png(b"ok")).await;
    assert_eq!(
        (status, body["contentType"].as_str()),
        (200, Some("image/png"))
    );
    let (status, body) = service.put(&url, png(b"again")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("UPLOAD_ALREADY_USED"))
    );
    assert_eq!(object_files(&service), 1);
}

#[tokio::test]
async fn expired_upload_urls_are_refused() {
    let service = TestService::start_with(
        &[("KYC_UPLOAD_URL_TTL", "1s")],
        Arc::new(SimulatedKycVendor),
    )
    .await;
    let token = service.customer_token(Uuid::new_v4());
    let (_, url) = service.request_upload(&token, "SELFIE").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = service.put(&url, jpeg(b"late")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "UPLOAD_URL_EXPIRED");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(object_files(&service), 0);
}

/// PUT `chunks` copies of `chunk` with `Transfer-Encoding: chunked` (no Content-Length) over a
/// raw connection; the response status.
async fn put_chunked(url: &str, chunks: usize, chunk: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let sent = async {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await
        };
        // The server may answer and close before every chunk is sent.
        if sent.await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn uploads_never_submitted_are_purged_with_their_objects() {
    let service = TestService::start_with(
        &[("KYC_ABANDONED_UPLOAD_TTL", "1s")],
        Arc::new(SimulatedKycVendor),
    )
    .await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    // One pair is submitted (kept), one image is abandoned after upload, one link never used.
    let kyc = service.submit_scoring(&token, NIK, Band::Borderline).await;
    let (_, abandoned) = service.request_upload(&token, "SELFIE").await;
    assert_eq!(service.put(&abandoned, jpeg(b"abandoned")).await.0, 200);
    service.request_upload(&token, "DOCUMENT_FRONT").await;
    assert_eq!(object_files(&service), 3);

    let mut purged = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if service.count("SELECT count(*) AS n FROM kyc_uploads").await == 2 {
            purged = true;
            break;
        }
    }
    assert!(purged, "abandoned uploads were not purged");
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM kyc_uploads WHERE status = 'USED'")
            .await,
        2
    );
    assert_eq!(
        object_files(&service),
        2,
        "the abandoned image's object is gone"
    );
    // The submission's images are intact.
    let reviewer = service.token(Uuid::new_v4(), "kyc:review");
    let response = service
        .user_kyc(&reviewer, customer, "id selfieImageUrl")
        .await;
    assert_eq!(response["data"]["_entities"][0]["kyc"]["id"], kyc);
    let url = response["data"]["_entities"][0]["kyc"]["selfieImageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(service.http.get(&url).send().await.unwrap().status(), 200);
}
