//! Auth's side of the data-subject request (docs/conventions.md § Data-subject requests):
//! `mySignInData` gives the caller their own login identifiers, sessions, devices and sign-in
//! attempts, and never a secret.

use serde_json::json;
use tenor_auth::testing::*;

const EXPORT: &str = "query MyDataExport { mySignInData { email phoneNumber status
    sessions { id deviceId deviceName userAgent method revokedAt }
    knownDevices { deviceId }
    signInAttempts { succeeded method } } }";

#[tokio::test]
async fn the_owner_exports_sessions_devices_and_attempts_and_no_secret() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let failed = auth.login(&email, "not the password at all").await;
    assert!(failed["tokens"].is_null(), "{failed}");
    let login = auth.login(&email, PASSWORD).await;
    let token = login["tokens"]["accessToken"].as_str().unwrap().to_owned();
    let session = login["tokens"]["sessionId"].as_str().unwrap().to_owned();
    let (other_email, other_phone) = identity();
    auth.register(&other_email, &other_phone, PASSWORD).await;
    auth.login(&other_email, PASSWORD).await;

    let response = auth.gql(EXPORT, json!({}), Some(&token)).await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["mySignInData"];
    assert_eq!(export["email"], email.as_str());
    assert_eq!(export["status"], "ACTIVE");
    let sessions = export["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{export}");
    assert_eq!(sessions[0]["id"], session.as_str());
    assert_eq!(sessions[0]["deviceId"], "test-device-1");
    assert_eq!(sessions[0]["deviceName"], "Pixel 7");
    assert_eq!(sessions[0]["method"], "PASSWORD");
    assert_eq!(
        export["knownDevices"],
        json!([{ "deviceId": "test-device-1" }])
    );
    assert_eq!(
        export["signInAttempts"],
        json!([
            { "succeeded": true, "method": "PASSWORD" },
            { "succeeded": false, "method": "PASSWORD" }
        ])
    );
    // Only the caller's own, and no hash or token of any kind.
    let text = response.to_string();
    assert!(!text.contains(&other_email), "{text}");
    assert!(!text.contains("argon2"), "{text}");
    assert!(!text.contains(login["tokens"]["refreshToken"].as_str().unwrap()));

    let response = auth.gql(EXPORT, json!({}), None).await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{response}"
    );
}
