//! Access-token verification against a JWKS served over HTTP, as the subgraphs do it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use tenor_platform::auth::{AuthError, TokenVerifier, VerifierConfig};
use uuid::Uuid;

const ISSUER: &str = "tenor-auth";
const AUDIENCE: &str = "tenor";

struct Key {
    kid: String,
    signing: SigningKey,
}

impl Key {
    fn new(kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::random(&mut rand::rngs::OsRng),
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk: Value =
            serde_json::to_value(p256::PublicKey::from(self.signing.verifying_key()).to_jwk())
                .unwrap();
        jwk["kid"] = self.kid.clone().into();
        jwk["alg"] = "ES256".into();
        jwk["use"] = "sig".into();
        jwk
    }

    fn sign(&self, claims: &Value) -> String {
        tenor_platform::crypto::install_providers();
        let pem = self.signing.to_pkcs8_pem(LineEnding::LF).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        encode(
            &header,
            claims,
            &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn public_pem(&self) -> String {
        self.signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    }
}

/// A JWKS endpoint whose key list the test can change, counting fetches.
struct Jwks {
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<Mutex<usize>>,
    url: String,
}

async fn serve_jwks(initial: Vec<Value>) -> Jwks {
    let keys = Arc::new(Mutex::new(initial));
    let fetches = Arc::new(Mutex::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let (k, f) = (k.clone(), f.clone());
            async move {
                *f.lock().unwrap() += 1;
                Json(json!({ "keys": *k.lock().unwrap() }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Jwks { keys, fetches, url }
}

fn verifier(url: &str) -> TokenVerifier {
    TokenVerifier::new(verifier_config(url))
}

fn verifier_config(url: &str) -> VerifierConfig {
    VerifierConfig {
        jwks_url: url.to_owned(),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        leeway: Duration::from_secs(0),
        min_refresh_interval: Duration::from_millis(0),
        max_key_age: Duration::from_secs(300),
    }
}

fn claims(user: Uuid) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": user.to_string(),
        "sid": Uuid::new_v4().to_string(),
        "scope": "loan:apply kyc:submit",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
    })
}

#[tokio::test]
async fn only_a_valid_es256_token_passes() {
    let key = Key::new("k1");
    let jwks = serve_jwks(vec![key.jwk()]).await;
    let verifier = verifier(&jwks.url);
    let user = Uuid::new_v4();

    // valid
    let principal = verifier.verify(&key.sign(&claims(user))).await.unwrap();
    assert_eq!(principal.user_id, user);
    assert!(principal.has_scope("loan:apply") && principal.has_scope("kyc:submit"));
    assert!(!principal.has_scope("kyc:review"));
    assert!(principal.session_id.is_some());

    // expired
    let mut expired = claims(user);
    expired["exp"] = (chrono::Utc::now().timestamp() - 60).into();
    assert_eq!(
        verifier.verify(&key.sign(&expired)).await,
        Err(AuthError::Expired)
    );

    // wrong audience
    let mut wrong_aud = claims(user);
    wrong_aud["aud"] = "someone-else".into();
    assert_eq!(
        verifier.verify(&key.sign(&wrong_aud)).await,
        Err(AuthError::WrongAudience)
    );

    // wrong issuer
    let mut wrong_iss = claims(user);
    wrong_iss["iss"] = "evil-auth".into();
    assert_eq!(
        verifier.verify(&key.sign(&wrong_iss)).await,
        Err(AuthError::WrongIssuer)
    );

    // unknown kid
    let stranger = Key::new("k-unknown");
    assert_eq!(
        verifier.verify(&stranger.sign(&claims(user))).await,
        Err(AuthError::UnknownKey)
    );

    // forged: right kid, wrong private key
    let forger = Key {
        kid: "k1".into(),
        signing: SigningKey::random(&mut rand::rngs::OsRng),
    };
    assert_eq!(
        verifier.verify(&forger.sign(&claims(user))).await,
        Err(AuthError::InvalidSignature)
    );

    // alg: none
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(user).to_string());
    let unsigned = format!("{header}.{body}.");
    let refused = verifier.verify(&unsigned).await.unwrap_err();
    assert!(
        matches!(
            refused,
            AuthError::Malformed | AuthError::UnsupportedAlgorithm
        ),
        "{refused:?}"
    );

    // HS256 keyed with the public key (algorithm confusion)
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some("k1".into());
    let confused = encode(
        &hs_header,
        &claims(user),
        &EncodingKey::from_secret(key.public_pem().as_bytes()),
    )
    .unwrap();
    assert_eq!(
        verifier.verify(&confused).await,
        Err(AuthError::UnsupportedAlgorithm)
    );

    // a missing subject claim
    let mut no_sub = claims(user);
    no_sub.as_object_mut().unwrap().remove("sub");
    assert!(verifier.verify(&key.sign(&no_sub)).await.is_err());
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_and_the_old_one_keeps_working() {
    let old = Key::new("2026-01");
    let jwks = serve_jwks(vec![old.jwk()]).await;
    let verifier = verifier(&jwks.url);
    let user = Uuid::new_v4();
    let old_token = old.sign(&claims(user));
    assert!(verifier.verify(&old_token).await.is_ok());
    let fetches_before = *jwks.fetches.lock().unwrap();

    // The auth service publishes the new key next to the old one and starts signing with it.
    let new = Key::new("2026-02");
    jwks.keys.lock().unwrap().push(new.jwk());
    let new_token = new.sign(&claims(user));
    assert_eq!(verifier.verify(&new_token).await.unwrap().user_id, user);
    assert_eq!(*jwks.fetches.lock().unwrap(), fetches_before + 1);
    // Cached keys need no refetch, and tokens of the old key stay valid until they expire.
    assert!(verifier.verify(&old_token).await.is_ok());
    assert!(verifier.verify(&new_token).await.is_ok());
    assert_eq!(*jwks.fetches.lock().unwrap(), fetches_before + 1);
}

#[tokio::test]
async fn unknown_kids_do_not_hammer_the_jwks_endpoint() {
    let key = Key::new("k1");
    let jwks = serve_jwks(vec![key.jwk()]).await;
    let verifier = TokenVerifier::new(VerifierConfig {
        jwks_url: jwks.url.clone(),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        leeway: Duration::from_secs(0),
        min_refresh_interval: Duration::from_secs(60),
        max_key_age: Duration::from_secs(300),
    });
    assert!(
        verifier
            .verify(&key.sign(&claims(Uuid::new_v4())))
            .await
            .is_ok()
    );
    for i in 0..20 {
        let token = Key::new(&format!("random-{i}")).sign(&claims(Uuid::new_v4()));
        assert_eq!(verifier.verify(&token).await, Err(AuthError::UnknownKey));
    }
    assert_eq!(*jwks.fetches.lock().unwrap(), 1);
}

#[tokio::test]
async fn an_unreachable_jwks_fails_closed() {
    let key = Key::new("k1");
    let verifier = verifier("http://127.0.0.1:9/.well-known/jwks.json");
    assert_eq!(
        verifier.verify(&key.sign(&claims(Uuid::new_v4()))).await,
        Err(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn a_verified_token_is_checked_once_and_still_refused_once_it_expires() {
    let key = Key::new("k1");
    let jwks = serve_jwks(vec![key.jwk()]).await;
    // Keys are never fresh here, so every signature check fetches the JWKS: the fetch count
    // shows how many checks ran.
    let verifier = TokenVerifier::new(VerifierConfig {
        max_key_age: Duration::ZERO,
        ..verifier_config(&jwks.url)
    });
    let user = Uuid::new_v4();
    let mut short = claims(user);
    short["exp"] = (chrono::Utc::now().timestamp() + 2).into();
    let token = key.sign(&short);

    assert_eq!(verifier.verify(&token).await.unwrap().user_id, user);
    assert_eq!(verifier.verify(&token).await.unwrap().user_id, user);
    assert_eq!(
        *jwks.fetches.lock().unwrap(),
        1,
        "the second use was not checked again"
    );

    verifier.verify(&key.sign(&claims(user))).await.unwrap();
    assert_eq!(*jwks.fetches.lock().unwrap(), 2, "another token is checked");

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(verifier.verify(&token).await, Err(AuthError::Expired));
}
