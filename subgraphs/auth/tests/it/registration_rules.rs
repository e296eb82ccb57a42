//! Bad input gets typed `userErrors` and writes nothing; duplicates are refused; the
//! `user.registered` event is published.

use std::time::Duration;

use tenor_auth::testing::*;

#[tokio::test]
async fn malformed_and_weak_input_is_refused_and_nothing_is_written() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    let cases: Vec<(&str, String, String, String, Vec<&str>)> = vec![
        (
            "malformed email",
            "Siti".into(),
            "siti-at-example".into(),
            phone.clone(),
            vec!["EMAIL_INVALID"],
        ),
        (
            "malformed phone",
            "Siti".into(),
            email.clone(),
            "021-555-0101".into(),
            vec!["PHONE_INVALID"],
        ),
        (
            "common password",
            "Siti".into(),
            email.clone(),
            phone.clone(),
            vec!["PASSWORD_TOO_COMMON"],
        ),
        (
            "short password",
            "Siti".into(),
            email.clone(),
            phone.clone(),
            vec!["PASSWORD_TOO_SHORT"],
        ),
        (
            "oversize name",
            "x".repeat(101),
            email.clone(),
            phone.clone(),
            vec!["FULLNAME_INVALID"],
        ),
        (
            "oversize email",
            "Siti".into(),
            format!("{}@example.id", "a".repeat(300)),
            phone.clone(),
            vec!["EMAIL_INVALID"],
        ),
    ];
    let passwords = [
        "kopi susu di pagi hari",
        "kopi susu di pagi hari",
        "password1",
        "kopi",
        "kopi susu di pagi hari",
        "kopi susu di pagi hari",
    ];
    for ((label, name, email, phone, expected), password) in cases.into_iter().zip(passwords) {
        let result = auth
            .gql(
                "mutation($i: RegisterInput!) { register(input: $i) { userId userErrors { code field } } }",
                serde_json::json!({ "i": { "fullname": name, "email": email, "phoneNumber": phone, "password": password } }),
                None,
            )
            .await;
        let payload = &result["data"]["register"];
        assert_eq!(codes(payload), expected, "{label}");
        assert!(payload["userId"].is_null(), "{label}");
    }
    let oversize_password = "a-long-passphrase ".repeat(8);
    assert_eq!(
        codes(&auth.register(&email, &phone, &oversize_password).await),
        vec!["PASSWORD_TOO_LONG"]
    );
    assert_eq!(auth.count("users_auth").await, 0);
    assert_eq!(auth.count("outbox_events").await, 0);
}

#[tokio::test]
async fn duplicate_email_or_phone_is_refused_in_any_spelling() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    assert!(auth.register(&email, &phone, PASSWORD).await["userId"].is_string());
    let (other_email, other_phone) = identity();
    assert_eq!(
        codes(
            &auth
                .register(&email.to_uppercase(), &other_phone, PASSWORD)
                .await
        ),
        vec!["EMAIL_TAKEN"]
    );
    let e164 = phone.replacen('0', "+62", 1);
    assert_eq!(
        codes(&auth.register(&other_email, &e164, PASSWORD).await),
        vec!["PHONE_TAKEN"]
    );
    assert_eq!(auth.count("users_auth").await, 1);
    assert_eq!(auth.count("outbox_events").await, 1);
}

#[tokio::test]
async fn registration_publishes_user_registered() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    let user_id = auth.register(&email, &phone, PASSWORD).await["userId"]
        .as_str()
        .unwrap()
        .to_owned();

    let received =
        tenor_events::testing::read_until(&auth.auth_topic, Duration::from_secs(20), |r| {
            !r.is_empty()
        })
        .await;
    let message = received.first().expect("event published");
    let envelope = message.envelope.clone().expect("a CloudEvent");
    let event: tenor_contracts::identity::UserRegisteredV1 = envelope.decode().unwrap();
    assert_eq!(event.user_id.to_string(), user_id);
    assert_eq!(event.email, email);
    assert_eq!(
        event.phone_number.as_deref(),
        Some(phone.replacen('0', "+62", 1).as_str())
    );
    assert_eq!(event.kind, tenor_contracts::identity::AccountKind::Customer);
    assert_eq!(envelope.subject(), Some(user_id.as_str()));
    assert_eq!(message.key, user_id, "Kafka key = aggregate id");
    let raw = String::from_utf8_lossy(&message.payload);
    assert!(
        !raw.contains(PASSWORD) && !raw.contains("argon2"),
        "no secrets in events"
    );
}

/// Requests' SQL statements are counted as the request's (`/metrics`,
/// `tenor_db_statements_total{origin="request"}`), and input refused on its face costs none.
#[tokio::test]
async fn a_registration_counts_its_statements_and_a_malformed_one_sends_none() {
    let auth = TestAuth::start(&[]).await;
    let counted =
        async || tenor_platform::testing::request_statements(&auth.url, auth.db.name()).await;
    let (email, phone) = identity();

    let before = counted().await;
    let refused = auth
        .register("siti-at-example", &phone, "kopi susu di pagi hari")
        .await;
    assert_eq!(
        refused["userErrors"][0]["code"], "EMAIL_INVALID",
        "{refused}"
    );
    assert_eq!(
        counted().await,
        before,
        "a malformed email reached the database"
    );

    let registered = auth
        .register(&email, &phone, "kopi susu di pagi hari")
        .await;
    assert!(registered["userId"].is_string(), "{registered}");
    assert!(
        counted().await > before,
        "a registration's statements were not counted as the request's"
    );
}
