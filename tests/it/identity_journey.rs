//! Auth and user together, wired only through Kafka as in production: a registration becomes a
//! profile; a token from auth reads it from user; a staff block in user ends the customer's
//! sessions in auth and refuses login until unblocked. (Through the router once it exists.)

use serde_json::{Value, json};
use tenor_contracts::identity::AccountKind;
use tenor_events::kafka::ensure_topics;
use tenor_harness::eventually;
use tenor_platform::config::Env;
use tenor_platform::testing::kafka_brokers;
use tokio_util::sync::CancellationToken;

struct Service {
    url: String,
}

async fn gql(service: &Service, query: &str, variables: Value, token: Option<&str>) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", service.url))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn login(auth: &Service, identifier: &str, password: &str) -> Value {
    gql(
        auth,
        "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken refreshToken userId } userErrors { code } } }",
        json!({ "i": { "identifier": identifier, "password": password } }),
        None,
    )
    .await["data"]["login"]
        .clone()
}

fn error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn registration_profile_block_and_unblock_across_services() {
    tenor_platform::crypto::install_providers();
    let auth_db =
        tenor_events::testing::service_database("journey_auth", tenor_auth::MIGRATIONS).await;
    let user_db =
        tenor_events::testing::service_database("journey_user", tenor_user::MIGRATIONS).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let auth_topic = format!("test.{suffix}.auth.events");
    let user_topic = format!("test.{suffix}.user.events");
    ensure_topics(
        &kafka_brokers(),
        &[
            (&auth_topic, 3),
            (&user_topic, 3),
            (&format!("{auth_topic}.dlq"), 1),
            (&format!("{user_topic}.dlq"), 1),
        ],
    )
    .await
    .unwrap();
    let keys = std::env::temp_dir().join(format!("tenor-journey-{suffix}.pem"));
    std::fs::write(&keys, tenor_auth::keys::generate_pem()).unwrap();
    let shutdown = CancellationToken::new();

    // auth
    let auth_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let auth = Service {
        url: format!("http://{}", auth_listener.local_addr().unwrap()),
    };
    let auth_env = vec![
        ("AUTH_DATABASE_URL".to_owned(), auth_db.url().to_owned()),
        ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
        (
            "AUTH_SIGNING_KEYS".to_owned(),
            format!("k1={}", keys.display()),
        ),
        ("AUTH_ACTIVE_SIGNING_KEY".to_owned(), "k1".to_owned()),
        ("AUTH_EVENTS_TOPIC".to_owned(), auth_topic.clone()),
        ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
        ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
    ];
    let mut env = Env::from_pairs(auth_env.clone());
    let auth_config = tenor_auth::config::AuthConfig::from_env(&mut env);
    let auth_config = env.finish(auth_config).unwrap();
    let (auth_service, _) = tenor_auth::build(&auth_config).await.unwrap();
    tokio::spawn(tenor_auth::run(
        auth_config,
        auth_listener,
        shutdown.clone(),
    ));

    // user, verifying tokens against auth's JWKS over HTTP
    let user_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let user = Service {
        url: format!("http://{}", user_listener.local_addr().unwrap()),
    };
    let mut env = Env::from_pairs([
        ("USER_DATABASE_URL".to_owned(), user_db.url().to_owned()),
        ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
        ("AUTH_EVENTS_TOPIC".to_owned(), auth_topic.clone()),
        ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
        (
            "AUTH_JWKS_URL".to_owned(),
            format!("{}/.well-known/jwks.json", auth.url),
        ),
        ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
    ]);
    let user_config = tenor_user::config::UserConfig::from_env(&mut env);
    let user_config = env.finish(user_config).unwrap();
    tokio::spawn(tenor_user::run(
        user_config,
        user_listener,
        shutdown.clone(),
    ));

    // A customer registers with auth…
    let registered = gql(
        &auth,
        "mutation($i: RegisterInput!) { register(input: $i) { userId userErrors { code } } }",
        json!({ "i": { "fullname": "  Dewi Lestari ", "email": "Dewi@Example.id", "phoneNumber": "0813-1111-2222", "password": "nasi goreng kampung pedas" } }),
        None,
    )
    .await;
    let customer_id = registered["data"]["register"]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = login(&auth, "dewi@example.id", "nasi goreng kampung pedas").await;
    let token = customer["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // …and the user context has the profile, readable with auth's token.
    let mut me = Value::Null;
    eventually(async || {
        me = gql(
            &user,
            "{ me { id email phoneNumber fullname status kind } }",
            json!({}),
            Some(&token),
        )
        .await;
        !me["data"]["me"].is_null()
    })
    .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "id": customer_id, "email": "dewi@example.id", "phoneNumber": "+6281311112222", "fullname": "Dewi Lestari", "status": "ACTIVE", "kind": "CUSTOMER" })
    );

    // A staff member (created by the operator path) blocks the customer in the user context…
    let staff_id = uuid::Uuid::now_v7();
    let hash = tenor_auth::domain::password::hash_async("meja layanan nasabah pusat".into()).await;
    let mut conn = auth_service.conn().await.unwrap();
    auth_service
        .create_account(
            &mut conn,
            staff_id,
            "ops@tenor.id",
            None,
            "Ops",
            &hash,
            AccountKind::Staff,
            vec!["user:admin".into()],
        )
        .await
        .unwrap();
    let staff_token =
        login(&auth, "ops@tenor.id", "meja layanan nasabah pusat").await["tokens"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
    let blocked = gql(
        &user,
        "mutation($id: ID!) { blockUser(id: $id, reason: \"suspected identity fraud\") { user { status } userErrors { code } } }",
        json!({ "id": customer_id }),
        Some(&staff_token),
    )
    .await;
    assert_eq!(
        blocked["data"]["blockUser"]["user"]["status"], "BLOCKED",
        "{blocked}"
    );

    // …and auth, told through Kafka, ends the customer's sessions and refuses login.
    let refresh = customer["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(async || {
        error_codes(&login(&auth, "dewi@example.id", "nasi goreng kampung pedas").await)
            == ["ACCOUNT_BLOCKED"]
    })
    .await;
    let refreshed = gql(
        &auth,
        "mutation($t: String!) { refreshToken(refreshToken: $t) { tokens { accessToken } userErrors { code } } }",
        json!({ "t": refresh }),
        None,
    )
    .await;
    assert_eq!(
        error_codes(&refreshed["data"]["refreshToken"]),
        ["SESSION_REVOKED"]
    );

    // Unblocked: the customer can sign in again.
    gql(
        &user,
        "mutation($id: ID!) { unblockUser(id: $id) { userErrors { code } } }",
        json!({ "id": customer_id }),
        Some(&staff_token),
    )
    .await;
    eventually(async || {
        error_codes(&login(&auth, "dewi@example.id", "nasi goreng kampung pedas").await).is_empty()
    })
    .await;

    shutdown.cancel();
    let _ = std::fs::remove_file(keys);
}
