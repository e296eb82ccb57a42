//! Envelope encryption at rest, with master keys from configuration (docs/conventions.md
//! § Security model): every object gets its own random AES-256-GCM data key; that key is wrapped
//! by the configured master key and stored next to the ciphertext together with the master
//! key's id, so the master key can rotate (new id for new objects, old ids kept for reading)
//! without re-encrypting everything. Used by KYC (document numbers, images) and risk (raw bureau
//! payloads).
//!
//! This is CPU work on possibly megabytes: callers run it on the blocking pool.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::config::{CommaList, Env};

/// 32 bytes of key material, written base64 in configuration. `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Key32(pub [u8; 32]);

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32(***)")
    }
}

impl FromStr for Key32 {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| "not base64 (standard alphabet)")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must decode to exactly 32 bytes")?;
        Ok(Self(key))
    }
}

impl Key32 {
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("sealed data is malformed")]
    Malformed,
    #[error("master key {0:?} is not configured")]
    UnknownKey(String),
    #[error("authentication failed (wrong key, wrong context or tampered data)")]
    Authentication,
}

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// A wrapped data key: nonce + 32-byte key + 16-byte tag.
const WRAPPED_LEN: usize = NONCE_LEN + 32 + 16;

/// Envelope encryption under the current master key; older master keys still open old data.
#[derive(Clone)]
pub struct Vault {
    current_id: String,
    keys: HashMap<String, Key32>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("current_id", &self.current_id)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Vault {
    pub fn new(current_id: impl Into<String>, current: Key32) -> Self {
        let current_id = current_id.into();
        Self {
            keys: HashMap::from([(current_id.clone(), current)]),
            current_id,
        }
    }

    /// The vault a service configures with `<PREFIX>_MASTER_KEY` (base64 of 32 bytes, required),
    /// `<PREFIX>_MASTER_KEY_ID` (`default_id`; stored beside every ciphertext, so shorter than
    /// 64 characters) and `<PREFIX>_PREVIOUS_MASTER_KEYS` (`id=base64,…`: retired keys, still
    /// needed to open what they sealed). Problems are recorded on `env`, naming the variable.
    pub fn from_env(env: &mut Env, prefix: &str, default_id: &str) -> Self {
        let master: Key32 = env.required(&format!("{prefix}_MASTER_KEY"));
        let id_var = format!("{prefix}_MASTER_KEY_ID");
        let master_id: String = env.optional(&id_var, default_id.to_owned());
        if master_id.is_empty() || master_id.len() >= 64 {
            env.fail(&id_var, "must be 1 to 63 characters".into());
        }
        let mut vault = Vault::new(master_id, master);
        let previous_var = format!("{prefix}_PREVIOUS_MASTER_KEYS");
        let previous: CommaList = env.optional(&previous_var, CommaList::default());
        for entry in previous.0 {
            match entry
                .split_once('=')
                .and_then(|(id, key)| Some((id.trim().to_owned(), key.parse::<Key32>().ok()?)))
            {
                Some((id, key)) if !id.is_empty() && id.len() < 64 => {
                    vault = vault.with_previous(id, key)
                }
                _ => env.fail(
                    &previous_var,
                    "each entry must be id=<base64 of 32 bytes>".into(),
                ),
            }
        }
        vault
    }

    /// The master key new data is sealed under (for checks that keys differ by purpose).
    pub fn current_key(&self) -> &Key32 {
        &self.keys[&self.current_id]
    }

    /// A retired master key, kept to open what it sealed.
    pub fn with_previous(mut self, id: impl Into<String>, key: Key32) -> Self {
        self.keys.entry(id.into()).or_insert(key);
        self
    }

    pub fn current_key_id(&self) -> &str {
        &self.current_id
    }

    /// Encrypt `plaintext` bound to `context` (e.g. the object's path): a ciphertext moved to
    /// another row or object fails to open. Layout:
    /// `version | id_len | key_id | wrapped data key | nonce | ciphertext+tag`.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let master = &self.keys[&self.current_id];
        let data_key = Key32::random();
        let wrapped = encrypt(master, context, &data_key.0);
        let body = encrypt(&data_key, context, plaintext);
        let id = self.current_id.as_bytes();
        let mut out = Vec::with_capacity(2 + id.len() + wrapped.len() + body.len());
        out.push(FORMAT_VERSION);
        out.push(u8::try_from(id.len()).expect("key ids are short"));
        out.extend_from_slice(id);
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&body);
        out
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (&version, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
        let (&id_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
        if version != FORMAT_VERSION || rest.len() < usize::from(id_len) + WRAPPED_LEN {
            return Err(CryptoError::Malformed);
        }
        let (id, rest) = rest.split_at(usize::from(id_len));
        let (wrapped, body) = rest.split_at(WRAPPED_LEN);
        let id = std::str::from_utf8(id).map_err(|_| CryptoError::Malformed)?;
        let master = self
            .keys
            .get(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let data_key: [u8; 32] = decrypt(master, context, wrapped)?
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        decrypt(&Key32(data_key), context, body)
    }

    /// The master key id a sealed value was written under (for rotation reports).
    pub fn key_id_of(sealed: &[u8]) -> Option<&str> {
        let id_len = usize::from(*sealed.get(1)?);
        std::str::from_utf8(sealed.get(2..2 + id_len)?).ok()
    }
}

/// `nonce | ciphertext+tag` under `key`, with `aad` authenticated.
fn encrypt(key: &Key32, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new((&key.0).into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of in-memory data does not fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

fn decrypt(key: &Key32, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Malformed);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
    Aes256Gcm::new((&key.0).into())
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_its_context_and_key() {
        let vault = Vault::new("k1", Key32::random());
        let sealed = vault.seal(b"kyc/1", b"3201011203900001");
        assert!(
            !sealed
                .windows(16)
                .any(|w| w == b"3201011203900001".as_slice())
        );
        assert_eq!(vault.open(b"kyc/1", &sealed).unwrap(), b"3201011203900001");
        assert_eq!(
            vault.open(b"kyc/2", &sealed),
            Err(CryptoError::Authentication)
        );
        let other = Vault::new("k1", Key32::random());
        assert_eq!(
            other.open(b"kyc/1", &sealed),
            Err(CryptoError::Authentication)
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            vault.open(b"kyc/1", &tampered),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            vault.open(b"kyc/1", &sealed[..10]),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn each_object_gets_its_own_data_key_and_nonce() {
        let vault = Vault::new("k1", Key32::random());
        assert_ne!(vault.seal(b"c", b"same"), vault.seal(b"c", b"same"));
    }

    #[test]
    fn a_rotated_master_key_still_opens_old_data() {
        let old = Key32::random();
        let before = Vault::new("2026-01", old.clone());
        let sealed = before.seal(b"ctx", b"selfie bytes");
        assert_eq!(Vault::key_id_of(&sealed), Some("2026-01"));

        let after = Vault::new("2026-07", Key32::random()).with_previous("2026-01", old);
        assert_eq!(after.open(b"ctx", &sealed).unwrap(), b"selfie bytes");
        assert_eq!(Vault::key_id_of(&after.seal(b"ctx", b"x")), Some("2026-07"));

        let forgot = Vault::new("2026-07", Key32::random());
        assert_eq!(
            forgot.open(b"ctx", &sealed),
            Err(CryptoError::UnknownKey("2026-01".into()))
        );
    }

    #[test]
    fn keys_parse_from_base64_of_32_bytes_and_hide_in_debug() {
        let key = Key32::random();
        let parsed: Key32 = key.to_base64().parse().unwrap();
        assert_eq!(parsed, key);
        assert!("c2hvcnQ=".parse::<Key32>().is_err());
        assert!("not base64!".parse::<Key32>().is_err());
        assert_eq!(format!("{key:?}"), "Key32(***)");
    }
}
