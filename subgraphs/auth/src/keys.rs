//! Signing keys and the JWKS.
//!
//! Several keys can be configured at once; one signs, all are published. Rotation without
//! downtime: add the new key (published, not yet signing), wait for verifiers' JWKS caches to
//! pick it up, make it active, and remove the old key only after the last token it signed has
//! expired (access-token TTL).

use std::path::PathBuf;

use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::JwkSet;
use p256::pkcs8::DecodePrivateKey;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub kid: String,
    pub path: PathBuf,
}

/// `kid=path,kid=path` (the `AUTH_SIGNING_KEYS` format).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFiles(pub Vec<KeyFile>);

impl std::str::FromStr for KeyFiles {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (kid, path) = pair
                    .split_once('=')
                    .ok_or_else(|| "expected kid=path[,kid=path…]".to_owned())?;
                if kid.is_empty() || path.is_empty() {
                    return Err("expected kid=path[,kid=path…]".to_owned());
                }
                Ok(KeyFile {
                    kid: kid.to_owned(),
                    path: path.into(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(KeyFiles)
    }
}

pub struct KeyRing {
    pub active_kid: String,
    pub active: EncodingKey,
    pub jwks: JwkSet,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading signing key {kid}: {reason}")]
    Read { kid: String, reason: String },
    #[error("signing key {kid} is not a P-256 PKCS#8 PEM private key")]
    NotP256 { kid: String },
    #[error("the active signing key {0} is not among the configured keys")]
    ActiveMissing(String),
}

/// Load every configured key (startup only).
pub fn load(files: &KeyFiles, active_kid: &str) -> Result<KeyRing, KeyError> {
    // Signing needs jsonwebtoken's provider chosen (tenor_platform::crypto).
    tenor_platform::crypto::install_providers();
    let mut keys = Vec::new();
    let mut active = None;
    for file in &files.0 {
        let pem = std::fs::read_to_string(&file.path).map_err(|e| KeyError::Read {
            kid: file.kid.clone(),
            reason: e.to_string(),
        })?;
        let secret = p256::SecretKey::from_pkcs8_pem(&pem).map_err(|_| KeyError::NotP256 {
            kid: file.kid.clone(),
        })?;
        let mut jwk = serde_json::to_value(secret.public_key().to_jwk()).expect("JWK");
        jwk["kid"] = file.kid.clone().into();
        jwk["alg"] = "ES256".into();
        jwk["use"] = "sig".into();
        keys.push(jwk);
        if file.kid == active_kid {
            active =
                Some(
                    EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| KeyError::NotP256 {
                        kid: file.kid.clone(),
                    })?,
                );
        }
    }
    let active = active.ok_or_else(|| KeyError::ActiveMissing(active_kid.to_owned()))?;
    let jwks: JwkSet = serde_json::from_value(json!({ "keys": keys })).expect("valid JWKS");
    Ok(KeyRing {
        active_kid: active_kid.to_owned(),
        active,
        jwks,
    })
}

/// A new P-256 private key as PKCS#8 PEM (the `generate-signing-key` command).
pub fn generate_pem() -> String {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PEM encoding")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_lists_parse() {
        let files: KeyFiles = "2026-01=/keys/a.pem, 2026-02=/keys/b.pem".parse().unwrap();
        assert_eq!(files.0.len(), 2);
        assert_eq!(files.0[1].kid, "2026-02");
        assert!("nokid".parse::<KeyFiles>().is_err());
        assert!("=/x.pem".parse::<KeyFiles>().is_err());
    }

    #[test]
    fn all_keys_are_published_and_the_active_one_signs() {
        let dir = std::env::temp_dir().join(format!("tenor-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("old.pem"), generate_pem()).unwrap();
        std::fs::write(dir.join("new.pem"), generate_pem()).unwrap();
        let files: KeyFiles = format!(
            "old={},new={}",
            dir.join("old.pem").display(),
            dir.join("new.pem").display()
        )
        .parse()
        .unwrap();
        let ring = load(&files, "new").unwrap();
        assert_eq!(ring.active_kid, "new");
        let kids: Vec<_> = ring
            .jwks
            .keys
            .iter()
            .map(|k| k.common.key_id.clone().unwrap())
            .collect();
        assert_eq!(kids, vec!["old", "new"]);
        let published = serde_json::to_string(&ring.jwks).unwrap();
        assert!(
            !published.contains("\"d\""),
            "private part must never be published"
        );
        assert!(matches!(
            load(&files, "missing"),
            Err(KeyError::ActiveMissing(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
