//! Brute-force protection and account status.

use std::time::Duration;

use tenor_auth::testing::*;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_contracts::sources;

#[tokio::test]
async fn twenty_wrong_passwords_lock_the_account_and_the_right_one_is_refused_during_the_lock() {
    // No growing delay here, so every attempt reaches the password check until the lock.
    let auth = TestAuth::start(&[
        ("LOGIN_BASE_DELAY", "0s"),
        ("LOGIN_LOCK_AFTER", "10"),
        ("LOGIN_LOCK_DURATION", "15m"),
    ])
    .await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let mut seen = Vec::new();
    for _ in 0..20 {
        seen.push(codes(&auth.login(&email, "wrong password guess").await).remove(0));
    }
    assert_eq!(seen[..10], vec!["INVALID_CREDENTIALS"; 10]);
    assert_eq!(seen[10..], vec!["ACCOUNT_LOCKED"; 10]);
    let locked = auth.login(&email, PASSWORD).await;
    assert_eq!(codes(&locked), vec!["ACCOUNT_LOCKED"]);
    assert!(locked["tokens"].is_null());
    let message = locked["userErrors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("15 menit") && message.contains("15 min"),
        "{message}"
    );
}

#[tokio::test]
async fn failures_beyond_the_free_ones_make_the_next_attempt_wait() {
    let auth = TestAuth::start(&[("LOGIN_FREE_FAILURES", "2"), ("LOGIN_BASE_DELAY", "2s")]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(
            codes(&auth.login(&email, "wrong password guess").await),
            vec!["INVALID_CREDENTIALS"]
        );
    }
    // The third failure imposed a 2 s wait: even the right password must wait.
    assert_eq!(
        codes(&auth.login(&email, PASSWORD).await),
        vec!["LOGIN_THROTTLED"]
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let login = auth.login(&email, PASSWORD).await;
    assert_eq!(codes(&login), Vec::<String>::new());
    // Success resets the counter: a single typo afterwards costs nothing.
    assert_eq!(
        codes(&auth.login(&email, "wrong password guess").await),
        vec!["INVALID_CREDENTIALS"]
    );
    assert_eq!(
        codes(&auth.login(&email, PASSWORD).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn unknown_account_and_wrong_password_look_the_same() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let wrong = auth.login(&email, "wrong password guess").await;
    let unknown = auth
        .login("nobody-here@example.id", "wrong password guess")
        .await;
    assert_eq!(wrong["userErrors"], unknown["userErrors"]);
}

#[tokio::test]
async fn one_source_spraying_many_accounts_is_throttled() {
    let auth = TestAuth::start(&[("LOGIN_MAX_FAILURES_PER_SOURCE", "5")]).await;
    for i in 0..5 {
        let result = auth
            .login(&format!("spray{i}@example.id"), "wrong password guess")
            .await;
        assert_eq!(codes(&result), vec!["INVALID_CREDENTIALS"]);
    }
    assert_eq!(
        codes(
            &auth
                .login("spray9@example.id", "wrong password guess")
                .await
        ),
        vec!["LOGIN_THROTTLED"]
    );
}

async fn status_event(
    user_id: &str,
    status: AccountStatus,
    previous: AccountStatus,
) -> tenor_events::Envelope {
    let event = UserStatusChangedV1 {
        user_id: user_id.parse().unwrap(),
        status,
        previous_status: previous,
        reason: Some("fraud investigation".into()),
        changed_by: Some(uuid::Uuid::new_v4()),
        changed_at: chrono::Utc::now(),
    };
    tenor_events::Envelope::new(sources::USER, user_id, &event, None).unwrap()
}

#[tokio::test]
async fn blocking_a_user_revokes_sessions_and_refuses_login_until_unblocked() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    let user_id = auth.register(&email, &phone, PASSWORD).await["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = auth.login(&email, PASSWORD).await;
    let refresh = session["tokens"]["refreshToken"].as_str().unwrap();

    let blocked = status_event(&user_id, AccountStatus::Blocked, AccountStatus::Active).await;
    publish(&auth.user_topic, &blocked).await;
    // Delivered twice (at-least-once): harmless.
    publish(&auth.user_topic, &blocked).await;
    let mut refused = Vec::new();
    for _ in 0..100 {
        refused = codes(&auth.login(&email, PASSWORD).await);
        if refused == vec!["ACCOUNT_BLOCKED"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused, vec!["ACCOUNT_BLOCKED"]);
    assert_eq!(codes(&auth.refresh(refresh).await), vec!["SESSION_REVOKED"]);

    publish(
        &auth.user_topic,
        &status_event(&user_id, AccountStatus::Active, AccountStatus::Blocked).await,
    )
    .await;
    let mut login = serde_json::Value::Null;
    for _ in 0..100 {
        login = auth.login(&email, PASSWORD).await;
        if codes(&login).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        codes(&login),
        Vec::<String>::new(),
        "unblocked user logs in again"
    );
}
