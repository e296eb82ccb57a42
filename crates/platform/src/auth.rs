//! Verifying the access tokens the auth service issues, and the caller they describe.
//!
//! Every subgraph verifies the token itself instead of trusting the router: a request that
//! reaches a subgraph directly must get nothing it should not. Tokens are ES256 JWTs whose
//! public keys come from the auth service's JWKS. Keys are cached by `kid`; an unknown `kid`
//! triggers one (throttled) refresh, which is how a freshly rotated key is picked up without a
//! restart. Only ES256 is accepted: `alg: none` and HS256-with-the-public-key tokens are refused
//! before any key is touched.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::config::{Env, HumanDuration};

/// Why a request is not allowed. Messages are safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required")]
    MissingToken,
    #[error("access token is malformed")]
    Malformed,
    #[error("access token algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("access token was signed by an unknown key")]
    UnknownKey,
    #[error("access token has expired")]
    Expired,
    #[error("access token signature is invalid")]
    InvalidSignature,
    #[error("access token was issued by someone else")]
    WrongIssuer,
    #[error("access token is meant for another audience")]
    WrongAudience,
    #[error("signing keys are unavailable, try again shortly")]
    KeysUnavailable,
    #[error("missing required scope {0}")]
    Forbidden(String),
}

impl AuthError {
    /// The `extensions.code` of the GraphQL error (docs/conventions.md § API conventions).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Forbidden(_) => "FORBIDDEN",
            AuthError::KeysUnavailable => "INTERNAL",
            _ => "UNAUTHENTICATED",
        }
    }
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub scopes: BTreeSet<String>,
    pub expires_at: DateTime<Utc>,
}

impl Principal {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    pub fn require_scope(&self, scope: &str) -> Result<(), AuthError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(scope.to_owned()))
        }
    }

    /// The caller is `owner`, or holds `staff_scope`.
    pub fn require_owner_or(&self, owner: Uuid, staff_scope: &str) -> Result<(), AuthError> {
        if self.user_id == owner {
            Ok(())
        } else {
            self.require_scope(staff_scope)
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    exp: i64,
}

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp`.
    pub leeway: Duration,
    /// An unknown `kid` refreshes the JWKS at most this often (an attacker sending random kids
    /// must not turn us into a load generator against the auth service).
    pub min_refresh_interval: Duration,
    /// Keys older than this are refetched, so a retired key stops being accepted.
    pub max_key_age: Duration,
}

impl VerifierConfig {
    /// `AUTH_JWKS_URL` (http://127.0.0.1:4001/.well-known/jwks.json), `AUTH_ISSUER`
    /// (tenor-auth), `AUTH_AUDIENCE` (tenor), `AUTH_LEEWAY` (30s),
    /// `AUTH_JWKS_MIN_REFRESH` (10s), `AUTH_JWKS_MAX_AGE` (5m).
    pub fn from_env(env: &mut Env) -> Self {
        // The auth service on this machine, at its port in services.toml.
        let local_auth = format!(
            "http://127.0.0.1:{}/.well-known/jwks.json",
            crate::manifest::service("auth").port
        );
        let jwks_url: String = env.optional("AUTH_JWKS_URL", local_auth);
        if !reqwest::Url::parse(&jwks_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            env.fail("AUTH_JWKS_URL", "is not an http(s) URL".to_owned());
        }
        Self {
            jwks_url,
            issuer: env.optional("AUTH_ISSUER", "tenor-auth".to_owned()),
            audience: env.optional("AUTH_AUDIENCE", "tenor".to_owned()),
            leeway: env
                .optional("AUTH_LEEWAY", HumanDuration(Duration::from_secs(30)))
                .into(),
            min_refresh_interval: env
                .optional(
                    "AUTH_JWKS_MIN_REFRESH",
                    HumanDuration(Duration::from_secs(10)),
                )
                .into(),
            max_key_age: env
                .optional("AUTH_JWKS_MAX_AGE", HumanDuration(Duration::from_secs(300)))
                .into(),
        }
    }
}

/// How long a verified token is trusted without a second signature check. No longer than a
/// retired signing key already stays accepted (`max_key_age`, 5 minutes by default), so the cache
/// widens no window; expiry is still checked on every use.
const VERIFIED_FOR: Duration = Duration::from_secs(60);

/// Verified tokens kept at once (about a kilobyte each): the busiest minute's distinct callers.
const VERIFIED_TOKENS: u64 = 10_000;

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens against the auth service's JWKS. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    /// Tokens whose signature and claims passed, by their exact text (see [`VERIFIED_FOR`]).
    verified: moka::future::Cache<String, Principal>,
    /// Keys given at construction (the auth service verifying its own tokens): never fetched.
    fixed: bool,
    http: reqwest::Client,
    cache: RwLock<KeyCache>,
    refresh: Mutex<()>,
}

impl TokenVerifier {
    pub fn new(config: VerifierConfig) -> Self {
        Self::build(config, HashMap::new(), false)
    }

    /// A verifier over a fixed key set, for the service that owns the keys.
    pub fn with_keys(config: VerifierConfig, set: &JwkSet) -> Self {
        Self::build(config, decoding_keys(set), true)
    }

    fn build(config: VerifierConfig, keys: HashMap<String, DecodingKey>, fixed: bool) -> Self {
        crate::crypto::install_providers();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("HTTP client with static settings");
        let fetched_at = fixed.then(Instant::now);
        Self {
            inner: Arc::new(Inner {
                config,
                verified: moka::future::Cache::builder()
                    .max_capacity(VERIFIED_TOKENS)
                    .time_to_live(VERIFIED_FOR)
                    .build(),
                fixed,
                http,
                cache: RwLock::new(KeyCache { keys, fetched_at }),
                refresh: Mutex::new(()),
            }),
        }
    }

    /// The caller behind an `Authorization: Bearer` header; `Ok(None)` when there is no header
    /// (an anonymous request, which resolvers may still refuse). A header that is present but
    /// invalid is an error, never silently anonymous.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Principal>, AuthError> {
        match bearer_token(headers)? {
            None => Ok(None),
            Some(token) => self.verify(token).await.map(Some),
        }
    }

    /// A token checked in the last [`VERIFIED_FOR`] is not checked again, only its expiry: the
    /// app sends the same access token with every request for its 15 minutes, and one ES256
    /// check costs more than the rest of a cheap subgraph request.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if let Some(principal) = self.inner.verified.get(token).await {
            return self.unexpired(principal);
        }
        let principal = self.check(token).await?;
        self.inner
            .verified
            .insert(token.to_owned(), principal.clone())
            .await;
        Ok(principal)
    }

    /// The same rule jsonwebtoken applies to `exp`, for a token that was valid when cached.
    fn unexpired(&self, principal: Principal) -> Result<Principal, AuthError> {
        let leeway = chrono::Duration::from_std(self.inner.config.leeway).unwrap_or_default();
        if principal.expires_at + leeway < Utc::now() {
            return Err(AuthError::Expired);
        }
        Ok(principal)
    }

    /// Signature, algorithm, issuer, audience, expiry and claim shapes.
    async fn check(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::ES256 {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let kid = header.kid.ok_or(AuthError::Malformed)?;
        let key = self.key(&kid).await?;

        let config = &self.inner.config;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = config.leeway.as_secs();
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, &key, &validation).map_err(classify)?;
        principal(data.claims)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if self.inner.fixed {
            let cache = self.inner.cache.read().await;
            return cache.keys.get(kid).cloned().ok_or(AuthError::UnknownKey);
        }
        {
            let cache = self.inner.cache.read().await;
            let fresh = cache
                .fetched_at
                .is_some_and(|at| at.elapsed() < self.inner.config.max_key_age);
            if let (true, Some(key)) = (fresh, cache.keys.get(kid)) {
                return Ok(key.clone());
            }
        }
        self.refresh().await?;
        let cache = self.inner.cache.read().await;
        cache.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
    }

    /// Refetch the JWKS unless another task just did (single flight + throttle).
    async fn refresh(&self) -> Result<(), AuthError> {
        let _guard = self.inner.refresh.lock().await;
        let recently = self
            .inner
            .cache
            .read()
            .await
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.inner.config.min_refresh_interval);
        if recently {
            return Ok(());
        }
        let set = self.fetch().await;
        let mut cache = self.inner.cache.write().await;
        match set {
            Ok(keys) => {
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
                Ok(())
            }
            // Keep serving the keys we have: an auth-service blip must not log everybody out.
            Err(reason) if !cache.keys.is_empty() => {
                tracing::warn!(%reason, "JWKS refresh failed; keeping cached keys");
                Ok(())
            }
            Err(reason) => {
                tracing::error!(%reason, "JWKS unavailable");
                Err(AuthError::KeysUnavailable)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let set: JwkSet = self
            .inner
            .http
            .get(&self.inner.config.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("fetching JWKS: {e}"))?
            .json()
            .await
            .map_err(|e| format!("decoding JWKS: {e}"))?;
        Ok(decoding_keys(&set))
    }
}

/// ES256 keys of a JWKS by `kid`; keys of other types are ignored.
pub fn decoding_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let is_ec = matches!(
                jwk.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_)
            );
            let key = DecodingKey::from_jwk(jwk).ok()?;
            is_ec.then_some((kid, key))
        })
        .collect()
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(AuthError::Malformed),
    }
}

fn classify(error: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::InvalidAlgorithm => AuthError::UnsupportedAlgorithm,
        _ => AuthError::Malformed,
    }
}

fn principal(claims: Claims) -> Result<Principal, AuthError> {
    let user_id = claims.sub.parse().map_err(|_| AuthError::Malformed)?;
    let session_id = claims
        .sid
        .map(|s| s.parse())
        .transpose()
        .map_err(|_| AuthError::Malformed)?;
    let scopes = claims
        .scope
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(AuthError::Malformed)?;
    Ok(Principal {
        user_id,
        session_id,
        scopes,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal_with(scopes: &[&str]) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            session_id: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: Utc::now(),
        }
    }

    #[test]
    fn scope_checks() {
        let staff = principal_with(&["kyc:review", "kyc:pii:read"]);
        assert!(staff.require_scope("kyc:review").is_ok());
        assert_eq!(
            staff.require_scope("loan:operate"),
            Err(AuthError::Forbidden("loan:operate".into()))
        );
        assert_eq!(
            staff.require_scope("loan:operate").unwrap_err().code(),
            "FORBIDDEN"
        );
        let owner = principal_with(&[]);
        assert!(owner.require_owner_or(Uuid::nil(), "user:admin").is_ok());
        assert!(owner.require_owner_or(Uuid::max(), "user:admin").is_err());
    }

    #[test]
    fn bearer_header_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), Ok(None));
        headers.insert("authorization", "Bearer abc.def.ghi".parse().unwrap());
        assert_eq!(bearer_token(&headers), Ok(Some("abc.def.ghi")));
        headers.insert("authorization", "bearer xyz".parse().unwrap());
        assert_eq!(bearer_token(&headers), Ok(Some("xyz")));
        headers.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(bearer_token(&headers), Err(AuthError::Malformed));
    }
}
