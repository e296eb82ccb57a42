//! Device-bound biometric login with a real P-256 key.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use tenor_auth::testing::*;

struct Phone {
    key: SigningKey,
    device_id: String,
}

impl Phone {
    fn new() -> Self {
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            device_id: format!("android-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    fn public_key(&self) -> String {
        STANDARD.encode(
            self.key
                .verifying_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes(),
        )
    }

    fn sign(&self, nonce: &str) -> String {
        let message = format!("tenor-biometric-login:v1:{}:{nonce}", self.device_id);
        let signature: Signature = self.key.sign(message.as_bytes());
        STANDARD.encode(signature.to_der().as_bytes())
    }
}

async fn enrol(auth: &TestAuth, phone: &Phone, access: &str) -> Value {
    auth.gql(
        "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { device { deviceId name } userErrors { code field } } }",
        json!({ "i": { "deviceId": phone.device_id, "publicKey": phone.public_key(), "name": "Pixel 7" } }),
        Some(access),
    )
    .await["data"]["registerBiometricDevice"]
        .clone()
}

async fn challenge(auth: &TestAuth, device_id: &str) -> Value {
    auth.gql(
        "mutation($d: String!) { biometricChallenge(deviceId: $d) { nonce expiresAt userErrors { code } } }",
        json!({ "d": device_id }),
        None,
    )
    .await["data"]["biometricChallenge"]
        .clone()
}

async fn biometric_login(auth: &TestAuth, device_id: &str, nonce: &str, signature: &str) -> Value {
    auth.gql(
        "mutation($i: BiometricLoginInput!) { biometricLogin(input: $i) { tokens { accessToken refreshToken userId } userErrors { code field } } }",
        json!({ "i": { "deviceId": device_id, "nonce": nonce, "signature": signature } }),
        None,
    )
    .await["data"]["biometricLogin"]
        .clone()
}

async fn signed_in(auth: &TestAuth) -> (String, String) {
    let (email, phone) = identity();
    let user = auth.register(&email, &phone, PASSWORD).await["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = auth.login(&email, PASSWORD).await["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    (user, access)
}

#[tokio::test]
async fn a_signed_challenge_logs_in_once() {
    let auth = TestAuth::start(&[]).await;
    let (user, access) = signed_in(&auth).await;
    let phone = Phone::new();
    let enrolled = enrol(&auth, &phone, &access).await;
    assert_eq!(codes(&enrolled), Vec::<String>::new());
    assert_eq!(enrolled["device"]["name"], "Pixel 7");

    let nonce = challenge(&auth, &phone.device_id).await["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let signature = phone.sign(&nonce);
    let login = biometric_login(&auth, &phone.device_id, &nonce, &signature).await;
    assert_eq!(codes(&login), Vec::<String>::new());
    assert_eq!(login["tokens"]["userId"], user);

    // Replaying the same nonce and signature: refused.
    assert_eq!(
        codes(&biometric_login(&auth, &phone.device_id, &nonce, &signature).await),
        vec!["CHALLENGE_INVALID"]
    );

    // The session is listed as biometric on that device.
    let bio_access = login["tokens"]["accessToken"].as_str().unwrap();
    let sessions = auth
        .gql(
            "{ mySessions { edges { node { authMethod deviceId current } } } }",
            json!({}),
            Some(bio_access),
        )
        .await;
    let current: Vec<&Value> = sessions["data"]["mySessions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["current"] == true)
        .collect();
    assert_eq!(current[0]["authMethod"], "BIOMETRIC");
    assert_eq!(current[0]["deviceId"], phone.device_id.as_str());
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused_and_burns_the_nonce() {
    let auth = TestAuth::start(&[]).await;
    let (_, access) = signed_in(&auth).await;
    let phone = Phone::new();
    enrol(&auth, &phone, &access).await;
    let attacker = Phone {
        key: SigningKey::random(&mut rand::rngs::OsRng),
        device_id: phone.device_id.clone(),
    };

    let nonce = challenge(&auth, &phone.device_id).await["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        codes(&biometric_login(&auth, &phone.device_id, &nonce, &attacker.sign(&nonce)).await),
        vec!["BIOMETRIC_SIGNATURE_INVALID"]
    );
    // The nonce is gone even for the real key: one try per challenge.
    assert_eq!(
        codes(&biometric_login(&auth, &phone.device_id, &nonce, &phone.sign(&nonce)).await),
        vec!["CHALLENGE_INVALID"]
    );
}

#[tokio::test]
async fn an_expired_nonce_is_refused() {
    let auth = TestAuth::start(&[("AUTH_BIOMETRIC_CHALLENGE_TTL", "1s")]).await;
    let (_, access) = signed_in(&auth).await;
    let phone = Phone::new();
    enrol(&auth, &phone, &access).await;
    let nonce = challenge(&auth, &phone.device_id).await["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        codes(&biometric_login(&auth, &phone.device_id, &nonce, &phone.sign(&nonce)).await),
        vec!["CHALLENGE_INVALID"]
    );
}

#[tokio::test]
async fn enrolment_rules_and_revocation() {
    let auth = TestAuth::start(&[]).await;
    let (_, access) = signed_in(&auth).await;
    let phone = Phone::new();

    // Bad key, unauthenticated enrolment, unknown device.
    let bad = auth
        .gql(
            "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { userErrors { code } } }",
            json!({ "i": { "deviceId": phone.device_id, "publicKey": "bm90IGEga2V5", "name": "Pixel" } }),
            Some(&access),
        )
        .await;
    assert_eq!(
        codes(&bad["data"]["registerBiometricDevice"]),
        vec!["BIOMETRIC_KEY_INVALID"]
    );
    let anonymous = auth
        .gql(
            "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { userErrors { code } } }",
            json!({ "i": { "deviceId": phone.device_id, "publicKey": phone.public_key(), "name": "Pixel" } }),
            None,
        )
        .await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(
        codes(&challenge(&auth, &phone.device_id).await),
        vec!["DEVICE_NOT_REGISTERED"]
    );

    // Someone else cannot take over a registered device.
    enrol(&auth, &phone, &access).await;
    let (_, other_access) = signed_in(&auth).await;
    assert_eq!(
        codes(&enrol(&auth, &phone, &other_access).await),
        vec!["DEVICE_ALREADY_REGISTERED"]
    );

    // Revoking the device kills the sessions opened on it.
    let nonce = challenge(&auth, &phone.device_id).await["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = biometric_login(&auth, &phone.device_id, &nonce, &phone.sign(&nonce)).await;
    let revoke = auth
        .gql("mutation($d: String!) { revokeBiometricDevice(deviceId: $d) { ok userErrors { code } } }", json!({ "d": phone.device_id }), Some(&access))
        .await;
    assert_eq!(revoke["data"]["revokeBiometricDevice"]["ok"], true);
    assert_eq!(
        codes(
            &auth
                .refresh(login["tokens"]["refreshToken"].as_str().unwrap())
                .await
        ),
        vec!["SESSION_REVOKED"]
    );
    assert_eq!(
        codes(&challenge(&auth, &phone.device_id).await),
        vec!["DEVICE_NOT_REGISTERED"]
    );
}
