//! Cryptography at rest and on the wire, all with keys from configuration:
//!
//! - [`Vault`]: envelope encryption of images and document numbers (the platform's
//!   `tenor_platform::vault`, shared with risk).
//! - [`BlindIndex`]: HMAC-SHA256 of a document number under its own key, for uniqueness and
//!   lookup without decrypting (`user_kyc.document_number_hash`).
//! - [`UrlSigner`]: HMAC-SHA256 signatures of the short-lived upload/download URLs.
//!
//! These functions are CPU work on possibly megabytes: callers run them on the blocking pool.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
pub use tenor_platform::vault::{CryptoError, Key32, Vault};

type HmacSha256 = Hmac<Sha256>;

/// Keyed hash of a document number: equal numbers give equal hashes, and without the key the
/// hash cannot be brute-forced over the (small) space of valid NIKs.
#[derive(Clone, Debug)]
pub struct BlindIndex(Key32);

impl BlindIndex {
    pub fn new(key: Key32) -> Self {
        Self(key)
    }

    /// Hex HMAC over `type:digits`, so a SIM and an NPWP with the same digits do not collide.
    pub fn of(&self, document_type: &str, digits: &str) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0.0).expect("HMAC takes any key length");
        mac.update(document_type.as_bytes());
        mac.update(b":");
        mac.update(digits.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs the short-lived upload and download URLs.
#[derive(Clone, Debug)]
pub struct UrlSigner(Key32);

impl UrlSigner {
    pub fn new(key: Key32) -> Self {
        Self(key)
    }

    fn mac(&self, message: &str) -> HmacSha256 {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.0.0).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac
    }

    /// The signature of `message` (which includes the method, the resource and the expiry).
    pub fn sign(&self, message: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(message).finalize().into_bytes())
    }

    /// Constant-time check of a signature from a URL.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(message).verify_slice(&signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_index_is_keyed_and_typed() {
        let index = BlindIndex::new(Key32::random());
        let a = index.of("ktp", "3201011203900001");
        assert_eq!(a, index.of("ktp", "3201011203900001"));
        assert_ne!(a, index.of("npwp", "3201011203900001"));
        assert_ne!(
            a,
            BlindIndex::new(Key32::random()).of("ktp", "3201011203900001")
        );
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn url_signatures_reject_tampering() {
        let signer = UrlSigner::new(Key32::random());
        let sig = signer.sign("PUT\nabc\n100");
        assert!(signer.verify("PUT\nabc\n100", &sig));
        assert!(!signer.verify("PUT\nabc\n101", &sig));
        assert!(!signer.verify("PUT\nabc\n100", "AAAA"));
        assert!(!signer.verify("PUT\nabc\n100", "%%%"));
    }
}
