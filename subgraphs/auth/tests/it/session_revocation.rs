//! Ending a session takes effect at once: every way auth ends sessions announces each one
//! (`auth.session.revoked`, exactly once, through the outbox) and puts it in the Redis
//! revocation set the router checks; a crash between commit and Redis is healed by the event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use tenor_auth::testing::*;
use tenor_contracts::identity::{AccountStatus, SessionRevokedV1, UserStatusChangedV1};
use tenor_contracts::sources;
use tenor_events::Envelope;
use tenor_events::testing::{envelopes, read_until};
use uuid::Uuid;

/// Access-token TTL (15 min) + leeway (30 s), in ms.
const KEY_TTL_MS: i64 = (15 * 60 + 30) * 1000;

/// A key written just now lives (almost) the whole access-token TTL + leeway.
fn assert_sane_ttl(ttl: Option<i64>, what: &str) {
    let ttl = ttl.unwrap_or_else(|| panic!("{what}: no revocation key"));
    assert!(
        ttl > KEY_TTL_MS - 60_000 && ttl <= KEY_TTL_MS,
        "{what}: key expires in {ttl} ms"
    );
}

struct Customer {
    user_id: String,
    email: String,
}

async fn customer(auth: &TestAuth) -> Customer {
    let (email, phone) = identity();
    let registered = auth.register(&email, &phone, PASSWORD).await;
    assert_eq!(codes(&registered), Vec::<String>::new());
    Customer {
        user_id: registered["userId"].as_str().unwrap().to_owned(),
        email,
    }
}

/// A password login; (session id, access token, refresh token).
async fn session(auth: &TestAuth, who: &Customer) -> (String, String, String) {
    let login = auth.login(&who.email, PASSWORD).await;
    assert_eq!(codes(&login), Vec::<String>::new());
    let tokens = &login["tokens"];
    (
        tokens["sessionId"].as_str().unwrap().to_owned(),
        tokens["accessToken"].as_str().unwrap().to_owned(),
        tokens["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn mutate(auth: &TestAuth, access: &str, field: &str, mutation: &str, vars: Value) -> Value {
    let response = auth.gql(mutation, vars, Some(access)).await;
    let payload = response["data"][field].clone();
    assert_eq!(codes(&payload), Vec::<String>::new(), "{response}");
    assert_eq!(payload["ok"], true, "{response}");
    payload
}

/// The `auth.session.revoked` events on the topic, per session, once `expected` have arrived.
async fn revocation_events(auth: &TestAuth, expected: usize) -> BTreeMap<String, Vec<Envelope>> {
    let count = |received: &[tenor_events::testing::Received]| {
        envelopes(received)
            .iter()
            .filter(|e| e.is::<SessionRevokedV1>())
            .count()
    };
    let received = read_until(&auth.auth_topic, Duration::from_secs(20), |r| {
        count(r) >= expected
    })
    .await;
    // Whatever else would still arrive (duplicates) arrives within this.
    let received = if count(&received) == expected {
        read_until(&auth.auth_topic, Duration::from_secs(2), |_| false).await
    } else {
        received
    };
    let mut per_session: BTreeMap<String, Vec<Envelope>> = BTreeMap::new();
    for envelope in envelopes(&received) {
        if envelope.is::<SessionRevokedV1>() {
            let event: SessionRevokedV1 = envelope.decode().unwrap();
            assert_eq!(
                envelope.subject(),
                Some(event.session_id.to_string().as_str())
            );
            per_session
                .entry(event.session_id.to_string())
                .or_default()
                .push(envelope);
        }
    }
    per_session
}

#[tokio::test]
async fn every_way_of_ending_a_session_revokes_it_in_redis_with_one_event() {
    let auth = TestAuth::start(&[("AUTH_REFRESH_REUSE_GRACE", "0s")]).await;
    // session id → the reason its event must carry
    let mut ended: BTreeMap<String, &str> = BTreeMap::new();
    let mut alive: Vec<String> = Vec::new();

    // logout: the key is there by the time the mutation answers (the fast path).
    let siti = customer(&auth).await;
    let (sid, access, _) = session(&auth, &siti).await;
    mutate(
        &auth,
        &access,
        "logout",
        "mutation { logout { ok userErrors { code } } }",
        json!({}),
    )
    .await;
    assert_sane_ttl(auth.revocation_ttl(&sid).await, "logout");
    ended.insert(sid, "LOGOUT");

    // revokeSession: only the named session.
    let (kept, access, _) = session(&auth, &siti).await;
    let (lost, _, _) = session(&auth, &siti).await;
    mutate(
        &auth,
        &access,
        "revokeSession",
        "mutation($id: ID!) { revokeSession(id: $id) { ok userErrors { code } } }",
        json!({ "id": lost }),
    )
    .await;
    assert_sane_ttl(auth.revocation_ttl(&lost).await, "revokeSession");
    ended.insert(lost, "LOGOUT");

    // logoutAllSessions: every live session of the user, the caller's too.
    let (other, _, _) = session(&auth, &siti).await;
    mutate(
        &auth,
        &access,
        "logoutAllSessions",
        "mutation { logoutAllSessions { ok userErrors { code } } }",
        json!({}),
    )
    .await;
    for sid in [&kept, &other] {
        assert_sane_ttl(auth.revocation_ttl(sid).await, "logoutAllSessions");
    }
    ended.insert(kept, "LOGOUT_ALL");
    ended.insert(other, "LOGOUT_ALL");

    // changePassword: the other sessions end, the caller's stays.
    let budi = customer(&auth).await;
    let (current, access, _) = session(&auth, &budi).await;
    let (elsewhere, _, _) = session(&auth, &budi).await;
    mutate(
        &auth,
        &access,
        "changePassword",
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ok userErrors { code } } }",
        json!({ "i": { "currentPassword": PASSWORD, "newPassword": "teh manis di sore hari" } }),
    )
    .await;
    assert_sane_ttl(auth.revocation_ttl(&elsewhere).await, "changePassword");
    assert_eq!(
        auth.revocation_ttl(&current).await,
        None,
        "the caller's session stays"
    );
    ended.insert(elsewhere, "PASSWORD_CHANGED");
    alive.push(current);

    // Refresh-token reuse: the whole session.
    let dewi = customer(&auth).await;
    let (stolen, _, refresh) = session(&auth, &dewi).await;
    assert_eq!(codes(&auth.refresh(&refresh).await), Vec::<String>::new());
    assert_eq!(
        codes(&auth.refresh(&refresh).await),
        vec!["REFRESH_TOKEN_REUSED"]
    );
    assert_sane_ttl(auth.revocation_ttl(&stolen).await, "refresh-token reuse");
    ended.insert(stolen, "REFRESH_TOKEN_REUSE");

    // revokeBiometricDevice: the sessions opened on that device (`test-device-1`), not others.
    let eka = customer(&auth).await;
    let (on_device, access, _) = session(&auth, &eka).await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let enrolled = auth
        .gql(
            "mutation($i: RegisterBiometricDeviceInput!) { registerBiometricDevice(input: $i) { userErrors { code } } }",
            json!({ "i": { "deviceId": "test-device-1", "publicKey": public_key, "name": "Pixel 7" } }),
            Some(&access),
        )
        .await;
    assert_eq!(
        codes(&enrolled["data"]["registerBiometricDevice"]),
        Vec::<String>::new()
    );
    let other_device = auth
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { tokens { sessionId accessToken } userErrors { code } } }",
            json!({ "i": { "identifier": eka.email, "password": PASSWORD, "device": { "id": "tablet-2", "name": "Tab" } } }),
            None,
        )
        .await["data"]["login"]["tokens"]
        .clone();
    let tablet = other_device["sessionId"].as_str().unwrap().to_owned();
    mutate(
        &auth,
        other_device["accessToken"].as_str().unwrap(),
        "revokeBiometricDevice",
        "mutation($d: String!) { revokeBiometricDevice(deviceId: $d) { ok userErrors { code } } }",
        json!({ "d": "test-device-1" }),
    )
    .await;
    assert_sane_ttl(
        auth.revocation_ttl(&on_device).await,
        "revokeBiometricDevice",
    );
    assert_eq!(
        auth.revocation_ttl(&tablet).await,
        None,
        "another device's session stays"
    );
    ended.insert(on_device, "DEVICE_REVOKED");
    alive.push(tablet);

    // Blocked by the back office (user.status.changed, delivered twice): every session, through
    // the consumer, which has no fast path of its own — the event sets the key.
    let fajar = customer(&auth).await;
    let (first, _, _) = session(&auth, &fajar).await;
    let (second, _, _) = session(&auth, &fajar).await;
    let blocked = Envelope::new(
        sources::USER,
        fajar.user_id.clone(),
        &UserStatusChangedV1 {
            user_id: fajar.user_id.parse().unwrap(),
            status: AccountStatus::Blocked,
            previous_status: AccountStatus::Active,
            reason: Some("fraud investigation".into()),
            changed_by: Some(Uuid::new_v4()),
            changed_at: chrono::Utc::now(),
        },
        None,
    )
    .unwrap();
    publish(&auth.user_topic, &blocked).await;
    publish(&auth.user_topic, &blocked).await;
    for sid in [&first, &second] {
        assert_sane_ttl(auth.wait_for_revocation(sid).await, "account blocked");
    }
    ended.insert(first, "ACCOUNT_BLOCKED");
    ended.insert(second, "ACCOUNT_BLOCKED");

    // Exactly one event per ended session, with its reason; none for the sessions that live on.
    let events = revocation_events(&auth, ended.len()).await;
    assert_eq!(
        events.keys().collect::<Vec<_>>(),
        ended.keys().collect::<Vec<_>>()
    );
    for (sid, reason) in &ended {
        let envelopes = &events[sid];
        assert_eq!(envelopes.len(), 1, "events for {sid}: {envelopes:?}");
        let event: SessionRevokedV1 = envelopes[0].decode().unwrap();
        assert_eq!(event.reason, *reason, "{sid}");
    }
    for sid in &alive {
        assert!(!events.contains_key(sid));
        assert_eq!(auth.revocation_ttl(sid).await, None);
    }

    // Redelivery (at-least-once) only renews the key; a stale event (every token of its
    // session long expired) sets nothing.
    let (sid, envelopes) = events.iter().next().unwrap();
    publish(&auth.auth_topic, &envelopes[0]).await;
    let stale_session = Uuid::new_v4();
    let stale = SessionRevokedV1 {
        session_id: stale_session,
        user_id: Uuid::new_v4(),
        reason: "LOGOUT".into(),
        revoked_at: chrono::Utc::now() - chrono::Duration::hours(1),
    };
    publish(
        &auth.auth_topic,
        &Envelope::new(sources::AUTH, stale_session.to_string(), &stale, None).unwrap(),
    )
    .await;
    // A fresh marker behind them, to know the consumer got past both.
    let marker = Uuid::new_v4();
    let fresh = SessionRevokedV1 {
        session_id: marker,
        user_id: Uuid::new_v4(),
        reason: "LOGOUT".into(),
        revoked_at: chrono::Utc::now(),
    };
    publish(
        &auth.auth_topic,
        &Envelope::new(sources::AUTH, marker.to_string(), &fresh, None).unwrap(),
    )
    .await;
    assert_sane_ttl(
        auth.wait_for_revocation(&marker.to_string()).await,
        "marker",
    );
    assert_sane_ttl(auth.revocation_ttl(sid).await, "redelivered");
    assert_eq!(auth.revocation_ttl(&stale_session.to_string()).await, None);
}

#[tokio::test]
async fn a_crash_between_commit_and_redis_is_healed_by_the_event() {
    let mut auth = TestAuth::start(&[]).await;
    let siti = customer(&auth).await;
    let (sid, _, refresh) = session(&auth, &siti).await;
    auth.stop().await;

    // The revocation commits, then the process "dies" before writing Redis: a service without
    // the fast path, and no relay or consumer running.
    let (mut service, _) = tenor_auth::build(&auth.config()).await.unwrap();
    Arc::get_mut(&mut service).unwrap().revocations = None;
    let user: Uuid = siti.user_id.parse().unwrap();
    assert!(service.logout(user, sid.parse().unwrap()).await.unwrap());
    drop(service);
    assert_eq!(auth.revocation_ttl(&sid).await, None);
    assert_eq!(
        auth.count(
            "outbox_events WHERE event_type = 'auth.session.revoked.v1' AND published_at IS NULL"
        )
        .await,
        1,
        "the event committed with the revocation"
    );

    // Restart: the relay publishes the event and the consumer writes the key.
    let settings = auth.settings.clone();
    auth.launch(settings).await;
    assert_sane_ttl(auth.wait_for_revocation(&sid).await, "after restart");
    assert_eq!(
        codes(&auth.refresh(&refresh).await),
        vec!["SESSION_REVOKED"]
    );
    let events = revocation_events(&auth, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[&sid].len(), 1);
}

/// Redis lost the set — restarted without persistence, failed over to a replica that was behind,
/// flushed — long after the events that wrote it were consumed: auth notices within a second or
/// two and writes it again from PostgreSQL, so a session ended before the loss stays ended.
#[tokio::test]
async fn a_revocation_set_redis_lost_is_written_again_from_postgresql() {
    let auth = TestAuth::start(&[]).await;
    let siti = customer(&auth).await;
    let (sid, access, _) = session(&auth, &siti).await;
    let (live_sid, _, _) = session(&auth, &siti).await;
    mutate(
        &auth,
        &access,
        "logout",
        "mutation { logout { ok userErrors { code } } }",
        json!({}),
    )
    .await;
    assert_sane_ttl(auth.wait_for_revocation(&sid).await, "logout");
    let client = redis::Client::open(tenor_platform::testing::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();

    // The revocation mirror writes the key once more when it reads the event: wait until it
    // has (the key, deleted, stays away), so that below only the keeper can bring it back.
    let mut quiet_since = std::time::Instant::now();
    let deadline = quiet_since + Duration::from_secs(30);
    while quiet_since.elapsed() < Duration::from_secs(3) {
        assert!(
            std::time::Instant::now() < deadline,
            "the mirror kept writing"
        );
        if auth.revocation_ttl(&sid).await.is_some() {
            redis::cmd("DEL")
                .arg(auth.revocation_key(&sid))
                .exec_async(&mut redis)
                .await
                .unwrap();
            quiet_since = std::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Everything under this test's prefix is gone, the marker of a seeded set included.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", auth.revocation_prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .exec_async(&mut redis)
            .await
            .unwrap();
    }
    assert_eq!(auth.revocation_ttl(&sid).await, None);

    assert_sane_ttl(auth.wait_for_revocation(&sid).await, "after Redis lost it");
    // Only what was ended comes back: the session still open is not revoked.
    assert_eq!(auth.revocation_ttl(&live_sid).await, None);
}

/// The keeper's read after Redis lost the set (sessions ended within the last access-token
/// lifetime) is served by an index, not a scan of every session ever opened. Sequential scans
/// are priced out so the plan shows what the database can do, not what suits a test's few rows.
#[tokio::test]
async fn the_keepers_read_of_recently_ended_sessions_has_an_index() {
    let auth = TestAuth::start(&[]).await;
    let (client, connection) = tokio_postgres::connect(auth.db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT session_id FROM auth_sessions \
             WHERE revoked_at > now() - interval '15 minutes'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        plan.iter()
            .any(|line| line.contains("auth_sessions_by_revoked_at")),
        "{plan:#?}"
    );
}
