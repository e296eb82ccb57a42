//! register → login → refresh → reuse detection → logout, key rotation, JWKS.

use std::time::Duration;

use serde_json::json;
use tenor_auth::testing::*;
use tenor_platform::auth::{TokenVerifier, VerifierConfig};

fn verifier(url: &str) -> TokenVerifier {
    TokenVerifier::new(VerifierConfig {
        jwks_url: format!("{url}/.well-known/jwks.json"),
        issuer: "tenor-auth".into(),
        audience: "tenor".into(),
        leeway: Duration::from_secs(0),
        min_refresh_interval: Duration::from_millis(0),
        max_key_age: Duration::from_secs(300),
    })
}

#[tokio::test]
async fn register_login_refresh_reuse_and_logout() {
    let auth = TestAuth::start(&[("AUTH_REFRESH_REUSE_GRACE", "0s")]).await;
    let (email, phone) = identity();

    // register: the account exists and user.registered is on its way out.
    let registered = auth.register(&email, &phone, PASSWORD).await;
    assert_eq!(codes(&registered), Vec::<String>::new());
    let user_id = registered["userId"].as_str().unwrap().to_owned();
    assert_eq!(auth.count("users_auth").await, 1);

    // login by phone in another format: tokens that any subgraph can verify from the JWKS.
    let login = auth.login(&phone.replacen("0", "+62", 1), PASSWORD).await;
    assert_eq!(codes(&login), Vec::<String>::new());
    let tokens = &login["tokens"];
    assert_eq!(tokens["userId"], user_id);
    let principal = verifier(&auth.url)
        .verify(tokens["accessToken"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(principal.user_id.to_string(), user_id);
    assert_eq!(
        principal.session_id.unwrap().to_string(),
        tokens["sessionId"].as_str().unwrap()
    );
    assert!(principal.has_scope("loan:apply") && principal.has_scope("kyc:submit"));
    assert!(!principal.has_scope("kyc:review"));
    let ttl = principal.expires_at - chrono::Utc::now();
    assert!(ttl <= chrono::Duration::minutes(15) && ttl > chrono::Duration::minutes(14));

    // The session is listed, marked current, with its device.
    let access = tokens["accessToken"].as_str().unwrap();
    let sessions = auth
        .gql(
            "{ mySessions { edges { node { id current deviceName userAgent authMethod } } } }",
            json!({}),
            Some(access),
        )
        .await;
    let node = &sessions["data"]["mySessions"]["edges"][0]["node"];
    assert_eq!(node["current"], true);
    assert_eq!(node["deviceName"], "Pixel 7");
    assert_eq!(node["userAgent"], "tenor-tests/1.0");
    assert_eq!(node["authMethod"], "PASSWORD");

    // refresh: a new pair; the old refresh token is refused from now on.
    let first_refresh = tokens["refreshToken"].as_str().unwrap().to_owned();
    let refreshed = auth.refresh(&first_refresh).await;
    assert_eq!(codes(&refreshed), Vec::<String>::new());
    let second_refresh = refreshed["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_ne!(refreshed["tokens"]["accessToken"], tokens["accessToken"]);
    assert_eq!(refreshed["tokens"]["sessionId"], tokens["sessionId"]);

    // reuse of the old token: refused, and the whole family dies with it.
    assert_eq!(
        codes(&auth.refresh(&first_refresh).await),
        vec!["REFRESH_TOKEN_REUSED"]
    );
    assert_eq!(
        codes(&auth.refresh(&second_refresh).await),
        vec!["SESSION_REVOKED"]
    );

    // logout ends a fresh session; its refresh token is refused.
    let login = auth.login(&email, PASSWORD).await;
    let access = login["tokens"]["accessToken"].as_str().unwrap();
    let logout = auth
        .gql(
            "mutation { logout { ok userErrors { code } } }",
            json!({}),
            Some(access),
        )
        .await;
    assert_eq!(logout["data"]["logout"]["ok"], true);
    assert_eq!(
        codes(
            &auth
                .refresh(login["tokens"]["refreshToken"].as_str().unwrap())
                .await
        ),
        vec!["SESSION_REVOKED"]
    );
    // An unknown refresh token is simply invalid.
    assert_eq!(
        codes(&auth.refresh("rt_not-a-token").await),
        vec!["INVALID_REFRESH_TOKEN"]
    );
}

#[tokio::test]
async fn a_lost_refresh_response_can_be_retried_once_within_the_grace() {
    let auth = TestAuth::start(&[("AUTH_REFRESH_REUSE_GRACE", "30s")]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let r1 = auth.login(&email, PASSWORD).await["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // The response carrying r2 never reached the phone; it retries with r1.
    let r2 = auth.refresh(&r1).await["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let retry = auth.refresh(&r1).await;
    assert_eq!(codes(&retry), Vec::<String>::new());
    let r3 = retry["tokens"]["refreshToken"].as_str().unwrap().to_owned();
    // The successor the phone never saw is dead; using it now counts as reuse.
    let r4 = auth.refresh(&r3).await["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        codes(&auth.refresh(&r1).await),
        vec!["REFRESH_TOKEN_REUSED"],
        "grace covers only the immediately previous token"
    );
    assert_eq!(codes(&auth.refresh(&r4).await), vec!["SESSION_REVOKED"]);
    let _ = r2;
}

/// The grace is one retry, not a window: a copy of a refresh token exchanged again and again
/// within it (sequentially, or all at once) would mint a pair per exchange without ever
/// tripping reuse detection.
#[tokio::test]
async fn a_refresh_token_is_exchanged_at_most_twice_within_the_grace() {
    let auth = TestAuth::start(&[("AUTH_REFRESH_REUSE_GRACE", "30s")]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let r1 = auth.login(&email, PASSWORD).await["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(codes(&auth.refresh(&r1).await), Vec::<String>::new());
    let retry = auth.refresh(&r1).await;
    assert_eq!(codes(&retry), Vec::<String>::new());
    assert_eq!(
        codes(&auth.refresh(&r1).await),
        vec!["REFRESH_TOKEN_REUSED"],
        "a second retry is a replay"
    );
    let r3 = retry["tokens"]["refreshToken"].as_str().unwrap();
    assert_eq!(codes(&auth.refresh(r3).await), vec!["SESSION_REVOKED"]);

    // Ten copies of a fresh session's token at once: at most the exchange and its retry.
    let r1 = auth.login(&phone, PASSWORD).await["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let answers = futures::future::join_all((0..10).map(|_| auth.refresh(&r1))).await;
    let exchanged: Vec<&str> = answers
        .iter()
        .filter_map(|a| a["tokens"]["refreshToken"].as_str())
        .collect();
    assert!(
        (1..=2).contains(&exchanged.len()),
        "{} exchanges: {answers:?}",
        exchanged.len()
    );
    for answer in &answers {
        let codes = codes(answer);
        assert!(
            codes.is_empty() || codes == ["REFRESH_TOKEN_REUSED"] || codes == ["SESSION_REVOKED"],
            "{answer}"
        );
    }
    for token in exchanged {
        assert_eq!(codes(&auth.refresh(token).await), vec!["SESSION_REVOKED"]);
    }
}

#[tokio::test]
async fn logout_all_sessions_ends_every_device() {
    let auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let a = auth.login(&email, PASSWORD).await;
    let b = auth.login(&phone, PASSWORD).await;
    let access = a["tokens"]["accessToken"].as_str().unwrap();
    let result = auth
        .gql(
            "mutation { logoutAllSessions { ok } }",
            json!({}),
            Some(access),
        )
        .await;
    assert_eq!(result["data"]["logoutAllSessions"]["ok"], true);
    for login in [a, b] {
        assert_eq!(
            codes(
                &auth
                    .refresh(login["tokens"]["refreshToken"].as_str().unwrap())
                    .await
            ),
            vec!["SESSION_REVOKED"]
        );
    }
}

#[tokio::test]
async fn tokens_of_the_old_key_stay_valid_after_rotation() {
    let mut auth = TestAuth::start(&[]).await;
    let (email, phone) = identity();
    auth.register(&email, &phone, PASSWORD).await;
    let old_token = auth.login(&email, PASSWORD).await["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // Rotate: publish k2 next to k1 and sign with k2.
    auth.stop().await;
    let k1 = format!("k1={}", auth.keys_dir.join("k1.pem").display());
    let k2 = new_key(&auth.keys_dir, "k2");
    let settings = base_settings(
        &auth.db,
        &format!("{k1},{k2}"),
        "k2",
        &auth.auth_topic,
        &auth.user_topic,
    );
    auth.launch(settings).await;

    let jwks: serde_json::Value = reqwest::get(format!("{}/.well-known/jwks.json", auth.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec!["k1", "k2"]);
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none()),
        "no private key material"
    );

    let new_token = auth.login(&email, PASSWORD).await["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = jsonwebtoken::decode_header(&new_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("k2"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let verifier = verifier(&auth.url);
    assert!(
        verifier.verify(&old_token).await.is_ok(),
        "old key's token still valid until expiry"
    );
    assert!(verifier.verify(&new_token).await.is_ok());
    // The auth subgraph itself accepts both too.
    for token in [&old_token, &new_token] {
        let sessions = auth
            .gql(
                "{ mySessions { edges { node { id } } } }",
                json!({}),
                Some(token),
            )
            .await;
        assert!(sessions["errors"].is_null(), "{sessions}");
    }
}

#[tokio::test]
async fn requests_with_bad_tokens_get_nothing() {
    let auth = TestAuth::start(&[]).await;
    let anonymous = auth
        .gql("{ mySessions { edges { node { id } } } }", json!({}), None)
        .await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let forged = tenor_platform::testing::TestIssuer::start()
        .await
        .token(uuid::Uuid::new_v4(), "user:admin");
    let refused = auth
        .gql(
            "{ mySessions { edges { node { id } } } }",
            json!({}),
            Some(&forged),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert!(refused["data"].is_null());
}
