//! The security events a borrower is told about (`auth.password.changed`,
//! `auth.device.registered`, `auth.biometric.enrolled`, `auth.sessions.ended`): read back from
//! the real topic, exactly one per action, none for a refused action.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use tenor_auth::testing::*;
use tenor_contracts::identity::{
    AllSessionsEndedV1, BiometricEnrolledV1, DeviceRegisteredV1, PasswordChangedV1,
    SessionRevokedV1,
};
use tenor_events::testing::{envelopes, read_until};
use tenor_events::{DomainEvent, Envelope};
use uuid::Uuid;

const CHANGE_PASSWORD: &str =
    "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ok userErrors { code } } }";
const LOGOUT_ALL: &str = "mutation { logoutAllSessions { ok userErrors { code } } }";
const ENROL: &str = "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { device { deviceId } userErrors { code } } }";

struct Customer {
    user_id: Uuid,
    email: String,
}

async fn customer(auth: &TestAuth) -> Customer {
    let (email, phone) = identity();
    let registered = auth.register(&email, &phone, PASSWORD).await;
    assert_eq!(codes(&registered), Vec::<String>::new());
    Customer {
        user_id: registered["userId"].as_str().unwrap().parse().unwrap(),
        email,
    }
}

/// A password login from `device` (id, name); the `login` payload.
async fn login_from(auth: &TestAuth, email: &str, password: &str, device: Value) -> Value {
    auth.gql(
        "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken sessionId } userErrors { code } } }",
        json!({ "i": { "identifier": email, "password": password, "device": device } }),
        None,
    )
    .await["data"]["login"]
        .clone()
}

/// A session's access token (the helper's device, `test-device-1`).
async fn access_token(auth: &TestAuth, who: &Customer) -> String {
    let login = auth.login(&who.email, PASSWORD).await;
    assert_eq!(codes(&login), Vec::<String>::new());
    login["tokens"]["accessToken"].as_str().unwrap().to_owned()
}

/// The events on the auth topic once `done` holds for them, plus whatever else (a duplicate)
/// arrives in the two seconds after.
async fn auth_events(auth: &TestAuth, done: impl Fn(&[Envelope]) -> bool) -> Vec<Envelope> {
    let received = read_until(&auth.auth_topic, Duration::from_secs(20), |r| {
        done(&envelopes(r))
    })
    .await;
    assert!(
        done(&envelopes(&received)),
        "the expected events never arrived: {:?}",
        envelopes(&received)
            .iter()
            .map(Envelope::event_type)
            .collect::<Vec<_>>()
    );
    envelopes(&read_until(&auth.auth_topic, Duration::from_secs(2), |_| false).await)
}

/// The events of type `E` about `user` (subject = the user id), decoded.
fn about<E: DomainEvent>(events: &[Envelope], user: Uuid) -> Vec<E> {
    events
        .iter()
        .filter(|e| e.is::<E>() && e.subject() == Some(user.to_string().as_str()))
        .map(|e| e.decode().unwrap())
        .collect()
}

fn count<E: DomainEvent>(events: &[Envelope]) -> usize {
    events.iter().filter(|e| e.is::<E>()).count()
}

/// The owner and someone holding the same (stolen) password change it at the same moment,
/// three times each: exactly one change wins, the other five are refused as a wrong current
/// password — it is one by then — and one change is announced. Before, each verified the old
/// password and then wrote its own hash: all six said `ok`, and the last write won.
#[tokio::test]
async fn concurrent_password_changes_let_exactly_one_win() {
    let auth = TestAuth::start(&[]).await;
    let siti = customer(&auth).await;
    let owner = access_token(&auth, &siti).await;
    let thief = access_token(&auth, &siti).await;
    let new_passwords: Vec<String> = (0..6)
        .map(|i| format!("teh manis ke-{i} di sore hari"))
        .collect();
    let changes = new_passwords.iter().enumerate().map(|(i, new)| {
        let token = if i % 2 == 0 { &owner } else { &thief };
        auth.gql(
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": new } }),
            Some(token),
        )
    });
    let answers = futures::future::join_all(changes).await;

    let won: Vec<usize> = (0..answers.len())
        .filter(|&i| answers[i]["data"]["changePassword"]["ok"] == true)
        .collect();
    assert_eq!(won.len(), 1, "exactly one change wins: {answers:?}");
    for (i, answer) in answers.iter().enumerate().filter(|(i, _)| *i != won[0]) {
        assert_eq!(
            codes(&answer["data"]["changePassword"]),
            vec!["INVALID_CREDENTIALS"],
            "change {i}: {answer}"
        );
    }
    let login = auth.login(&siti.email, &new_passwords[won[0]]).await;
    assert_eq!(
        codes(&login),
        Vec::<String>::new(),
        "the winner's password: {login}"
    );

    let events = auth_events(&auth, |e| count::<PasswordChangedV1>(e) >= 1).await;
    let announced: Vec<PasswordChangedV1> = about(&events, siti.user_id);
    assert_eq!(announced.len(), 1, "one change, one announcement");
}

#[tokio::test]
async fn a_password_change_is_announced_once_and_a_refused_one_not_at_all() {
    let auth = TestAuth::start(&[]).await;
    let siti = customer(&auth).await;
    let access = access_token(&auth, &siti).await;
    let _other = access_token(&auth, &siti).await;
    let _third = access_token(&auth, &siti).await;

    // Refused: wrong current password, then a new password the policy refuses.
    for (current, new, code) in [
        (
            "not my password",
            "teh manis di sore hari",
            "INVALID_CREDENTIALS",
        ),
        (PASSWORD, "abc", "PASSWORD_TOO_SHORT"),
        (PASSWORD, PASSWORD, "PASSWORD_UNCHANGED"),
    ] {
        let refused = auth
            .gql(
                CHANGE_PASSWORD,
                json!({ "i": { "currentPassword": current, "newPassword": new } }),
                Some(&access),
            )
            .await;
        assert_eq!(
            codes(&refused["data"]["changePassword"]),
            vec![code],
            "{refused}"
        );
    }

    let before = chrono::Utc::now();
    let changed = auth
        .gql(
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "teh manis di sore hari" } }),
            Some(&access),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"]["ok"], true, "{changed}");

    let events = auth_events(&auth, |e| {
        count::<PasswordChangedV1>(e) >= 1 && count::<AllSessionsEndedV1>(e) >= 1
    })
    .await;
    let changes: Vec<PasswordChangedV1> = about(&events, siti.user_id);
    assert_eq!(changes.len(), 1, "exactly one, for the accepted change");
    assert_eq!(count::<PasswordChangedV1>(&events), 1);
    assert!(changes[0].changed_at >= before && changes[0].changed_at <= chrono::Utc::now());

    // The two other sessions ended: announced once with the count, next to one
    // auth.session.revoked per session.
    let ended: Vec<AllSessionsEndedV1> = about(&events, siti.user_id);
    assert_eq!(ended.len(), 1);
    assert_eq!(count::<AllSessionsEndedV1>(&events), 1);
    assert_eq!(ended[0].sessions_ended, 2);
    assert_eq!(ended[0].reason, "PASSWORD_CHANGED");
    assert_eq!(count::<SessionRevokedV1>(&events), 2);
}

#[tokio::test]
async fn logging_out_everywhere_is_announced_once_with_the_count() {
    let auth = TestAuth::start(&[]).await;
    let budi = customer(&auth).await;
    let access = access_token(&auth, &budi).await;
    access_token(&auth, &budi).await;
    access_token(&auth, &budi).await;
    // Someone else's sessions are not counted.
    let dewi = customer(&auth).await;
    access_token(&auth, &dewi).await;

    let response = auth.gql(LOGOUT_ALL, json!({}), Some(&access)).await;
    assert_eq!(
        response["data"]["logoutAllSessions"]["ok"], true,
        "{response}"
    );
    // Again, with nothing left to end (the access token still verifies offline): no event.
    let response = auth.gql(LOGOUT_ALL, json!({}), Some(&access)).await;
    assert_eq!(
        response["data"]["logoutAllSessions"]["ok"], true,
        "{response}"
    );

    let events = auth_events(&auth, |e| count::<AllSessionsEndedV1>(e) >= 1).await;
    let ended: Vec<AllSessionsEndedV1> = about(&events, budi.user_id);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(count::<AllSessionsEndedV1>(&events), 1);
    assert_eq!(ended[0].sessions_ended, 3);
    assert_eq!(ended[0].reason, "LOGOUT_ALL");
    let revoked: Vec<SessionRevokedV1> = about(&events, budi.user_id);
    assert!(
        revoked.is_empty(),
        "per-session events are keyed by session"
    );
    assert_eq!(count::<SessionRevokedV1>(&events), 3);
    assert!(about::<AllSessionsEndedV1>(&events, dewi.user_id).is_empty());
}

#[tokio::test]
async fn only_the_first_sign_in_from_a_device_announces_it() {
    let auth = TestAuth::start(&[]).await;
    let eka = customer(&auth).await;
    let fajar = customer(&auth).await;
    let phone = json!({ "id": "android-eka", "name": "Pixel 7" });
    let ok = |login: &Value| assert_eq!(codes(login), Vec::<String>::new(), "{login}");

    // A wrong password from a new device: refused, nothing announced, the device not known.
    let refused = login_from(
        &auth,
        &eka.email,
        "not my password",
        json!({ "id": "stolen-1" }),
    )
    .await;
    assert_eq!(codes(&refused), vec!["INVALID_CREDENTIALS"]);

    ok(&login_from(&auth, &eka.email, PASSWORD, phone.clone()).await);
    ok(&login_from(&auth, &eka.email, PASSWORD, phone.clone()).await);
    // A login that names no device cannot be told apart: nothing.
    let anonymous = auth
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { userErrors { code } } }",
            json!({ "i": { "identifier": eka.email, "password": PASSWORD } }),
            None,
        )
        .await;
    ok(&anonymous["data"]["login"]);
    // A tablet without a name: announced under its id.
    ok(&login_from(&auth, &eka.email, PASSWORD, json!({ "id": "tablet-2" })).await);
    // The same device id is new to another account.
    ok(&login_from(&auth, &fajar.email, PASSWORD, phone.clone()).await);
    // Two first logins from one new device at once: announced once.
    let laptop = json!({ "id": "laptop-3", "name": "ThinkPad" });
    let (a, b) = tokio::join!(
        login_from(&auth, &eka.email, PASSWORD, laptop.clone()),
        login_from(&auth, &eka.email, PASSWORD, laptop.clone()),
    );
    ok(&a);
    ok(&b);

    let events = auth_events(&auth, |e| count::<DeviceRegisteredV1>(e) >= 4).await;
    let mut eka_devices: Vec<(String, String)> = about::<DeviceRegisteredV1>(&events, eka.user_id)
        .into_iter()
        .map(|d| (d.device_id, d.device_name))
        .collect();
    eka_devices.sort();
    assert_eq!(
        eka_devices,
        [
            ("android-eka".to_owned(), "Pixel 7".to_owned()),
            ("laptop-3".to_owned(), "ThinkPad".to_owned()),
            ("tablet-2".to_owned(), "tablet-2".to_owned()),
        ]
    );
    let fajar_devices: Vec<DeviceRegisteredV1> = about(&events, fajar.user_id);
    assert_eq!(fajar_devices.len(), 1);
    assert_eq!(fajar_devices[0].device_id, "android-eka");
    assert_eq!(count::<DeviceRegisteredV1>(&events), 4);
}

#[tokio::test]
async fn a_biometric_enrolment_is_announced_once_and_a_refused_one_not_at_all() {
    let auth = TestAuth::start(&[]).await;
    let gita = customer(&auth).await;
    let hadi = customer(&auth).await;
    let gita_access = access_token(&auth, &gita).await;
    let hadi_access = access_token(&auth, &hadi).await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let device_id = format!("android-{}", Uuid::new_v4().simple());
    let enrol = async |access: &str, public_key: &str| {
        auth.gql(
            ENROL,
            json!({ "i": { "deviceId": device_id, "publicKey": public_key, "name": "Galaxy A54" } }),
            Some(access),
        )
        .await["data"]["registerBiometricDevice"]
            .clone()
    };

    // Refused: a key that is not one, and (after Gita's enrolment) the same device for Hadi.
    assert_eq!(
        codes(&enrol(&gita_access, "bm90IGEga2V5").await),
        vec!["BIOMETRIC_KEY_INVALID"]
    );
    assert_eq!(
        codes(&enrol(&gita_access, &public_key).await),
        Vec::<String>::new()
    );
    assert_eq!(
        codes(&enrol(&hadi_access, &public_key).await),
        vec!["DEVICE_ALREADY_REGISTERED"]
    );

    let events = auth_events(&auth, |e| count::<BiometricEnrolledV1>(e) >= 1).await;
    let enrolled: Vec<BiometricEnrolledV1> = about(&events, gita.user_id);
    assert_eq!(enrolled.len(), 1);
    assert_eq!(count::<BiometricEnrolledV1>(&events), 1);
    assert_eq!(enrolled[0].device_id, device_id);
    assert_eq!(enrolled[0].device_name, "Galaxy A54");
    assert!(about::<BiometricEnrolledV1>(&events, hadi.user_id).is_empty());
}
