//! Issue 10: another user's session or biometric device and an id nobody has must look the
//! same, byte for byte; hostile text in auth's inputs is a userError, never INTERNAL.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use tenor_auth::testing::*;
use uuid::Uuid;

async fn signed_in(auth: &TestAuth) -> (String, String) {
    let (email, phone) = identity();
    assert_eq!(
        codes(&auth.register(&email, &phone, PASSWORD).await),
        Vec::<String>::new()
    );
    let login = auth.login(&email, PASSWORD).await;
    (
        login["tokens"]["accessToken"].as_str().unwrap().to_owned(),
        login["tokens"]["sessionId"].as_str().unwrap().to_owned(),
    )
}

fn masked(response: &Value, id: &str) -> String {
    response.to_string().replace(id, "<ID>")
}

#[tokio::test]
async fn another_users_session_and_device_answer_like_unknown_ids() {
    let auth = TestAuth::start(&[]).await;
    let (owner_token, owner_session) = signed_in(&auth).await;
    let (stranger_token, _) = signed_in(&auth).await;

    let revoke =
        "mutation($id: ID!) { revokeSession(id: $id) { ok userErrors { code field message } } }";
    let unknown = Uuid::now_v7().to_string();
    let theirs = auth
        .gql(
            revoke,
            json!({ "id": owner_session }),
            Some(&stranger_token),
        )
        .await;
    let missing = auth
        .gql(revoke, json!({ "id": unknown }), Some(&stranger_token))
        .await;
    assert_eq!(masked(&theirs, &owner_session), masked(&missing, &unknown));
    assert_eq!(
        codes(&theirs["data"]["revokeSession"]),
        ["SESSION_NOT_FOUND"]
    );

    // The owner's device, revoked by the stranger vs a device id nobody registered.
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let device = format!("android-{}", Uuid::new_v4().simple());
    let enrolled = auth
        .gql(
            "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { device { deviceId } userErrors { code } } }",
            json!({ "i": { "deviceId": device, "publicKey": public_key, "name": "Pixel 7" } }),
            Some(&owner_token),
        )
        .await;
    assert_eq!(
        enrolled["data"]["registerBiometricDevice"]["device"]["deviceId"],
        device
    );
    let revoke = "mutation($d: String!) { revokeBiometricDevice(deviceId: $d) { ok userErrors { code field message } } }";
    let nobody = format!("android-{}", Uuid::new_v4().simple());
    let theirs = auth
        .gql(revoke, json!({ "d": device }), Some(&stranger_token))
        .await;
    let missing = auth
        .gql(revoke, json!({ "d": nobody }), Some(&stranger_token))
        .await;
    assert_eq!(masked(&theirs, &device), masked(&missing, &nobody));

    // Neither touched the owner's session or device.
    let sessions = auth
        .gql(
            "{ mySessions { edges { node { id } } } myBiometricDevices { deviceId } }",
            json!({}),
            Some(&owner_token),
        )
        .await;
    assert_eq!(
        sessions["data"]["mySessions"]["edges"][0]["node"]["id"], owner_session,
        "{sessions}"
    );
    assert_eq!(
        sessions["data"]["myBiometricDevices"][0]["deviceId"], device,
        "{sessions}"
    );
}

#[tokio::test]
async fn hostile_text_in_auth_inputs_is_a_user_error() {
    let auth = TestAuth::start(&[]).await;
    let (token, _) = signed_in(&auth).await;
    let accounts = auth.count("users_auth").await;
    for hostile in [
        "\u{0}",
        "\u{1b}",
        "\u{7f}",
        "\u{85}",
        "\u{202e}",
        "\u{200b}",
        "\u{e0041}",
        "\u{feff}",
    ] {
        let (email, phone) = identity();
        let register = auth
            .gql(
                "mutation($i: RegisterInput!) { register(input: $i) { userId userErrors { code field } } }",
                json!({ "i": { "fullname": format!("Siti{hostile}Rahayu"), "email": email, "phoneNumber": phone, "password": format!("kopi susu{hostile} di pagi hari") } }),
                None,
            )
            .await;
        assert_eq!(
            codes(&register["data"]["register"]),
            ["FULLNAME_INVALID", "PASSWORD_INVALID_CHARACTERS"],
            "{register}"
        );
        let email_case = auth
            .register(&format!("siti{hostile}{email}"), &phone, PASSWORD)
            .await;
        assert_eq!(codes(&email_case), ["EMAIL_INVALID"], "{email_case}");
        let login = auth
            .gql(
                "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken } userErrors { code } } }",
                json!({ "i": { "identifier": email, "password": PASSWORD, "device": { "id": "test-device-1", "name": format!("Pixel{hostile}") } } }),
                None,
            )
            .await;
        assert!(login["errors"].is_null(), "{login}");
        assert_eq!(
            codes(&login["data"]["login"]),
            ["DEVICE_NAME_INVALID"],
            "{login}"
        );
        for (query, vars) in [
            (
                "mutation($d: String!) { revokeBiometricDevice(deviceId: $d) { ok userErrors { code } } }",
                json!({ "d": format!("dev{hostile}") }),
            ),
            (
                "mutation($d: String!) { biometricChallenge(deviceId: $d) { nonce userErrors { code } } }",
                json!({ "d": format!("dev{hostile}") }),
            ),
            (
                "mutation($i: BiometricLoginInput!) { biometricLogin(input: $i) { tokens { accessToken } userErrors { code } } }",
                json!({ "i": { "deviceId": "dev-1", "nonce": format!("n{hostile}"), "signature": format!("s{hostile}") } }),
            ),
        ] {
            let response = auth.gql(query, vars, Some(&token)).await;
            assert!(response["errors"].is_null(), "{response}");
            let payload = response["data"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap();
            assert_eq!(codes(payload).len(), 1, "{response}");
        }
    }
    assert_eq!(auth.count("users_auth").await, accounts);
}
