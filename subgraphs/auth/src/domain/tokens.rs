//! Access and refresh tokens.
//!
//! Access tokens are short-lived ES256 JWTs that every subgraph verifies on its own. Refresh
//! tokens are opaque 256-bit random strings; only their SHA-256 is stored, and each is good for
//! exactly one exchange (rotation).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Claims of an access token (docs/conventions.md § Security model).
#[derive(Debug, Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: String,
    sid: String,
    /// Space-separated scopes.
    scope: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Signs access tokens with the active key.
pub struct AccessTokenSigner {
    pub kid: String,
    pub key: EncodingKey,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl AccessTokenSigner {
    /// ECDSA signing: microseconds, but still CPU work; callers on the async runtime use
    /// [`Self::sign_async`].
    pub fn sign(
        &self,
        user: Uuid,
        session: Uuid,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> AccessToken {
        let expires_at = now + self.ttl;
        let claims = AccessClaims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: user.to_string(),
            sid: session.to_string(),
            scope: scopes.join(" "),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = encode(&header, &claims, &self.key).expect("ES256 signing with a valid key");
        AccessToken { token, expires_at }
    }
}

/// A fresh refresh token and the hash to store for it.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("rt_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// SHA-256: the token carries 256 bits of entropy, so no slow hash is needed to resist guessing,
/// and the hash stays usable as an index key.
pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_hash_deterministically() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert!(a.starts_with("rt_") && a.len() >= 3 + 43);
        assert_eq!(hash_refresh_token(&a), hash_a);
        assert_eq!(hash_a.len(), 32);
    }
}
