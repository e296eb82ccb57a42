//! Biometric login with a device-bound key: the phone's keystore holds a P-256 private key that
//! only a biometric unlock can use. We keep the public key, hand out single-use nonces, and
//! accept a login only with a valid signature over a message that binds the nonce to the
//! device, so a signature cannot be replayed or used for another device.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use rand::RngCore;

/// The bytes the device signs (ECDSA P-256 with SHA-256):
/// `tenor-biometric-login:v1:<deviceId>:<nonce>` in UTF-8, nonce as returned by the challenge.
pub fn challenge_message(device_id: &str, nonce: &str) -> Vec<u8> {
    format!("tenor-biometric-login:v1:{device_id}:{nonce}").into_bytes()
}

/// A DER SubjectPublicKeyInfo of a P-256 key, given in standard or URL-safe base64. Returns the
/// DER bytes to store, or `None` if it is not a valid P-256 public key.
pub fn parse_public_key(encoded: &str) -> Option<Vec<u8>> {
    let der = decode_base64(encoded)?;
    VerifyingKey::from_public_key_der(&der).ok()?;
    Some(der)
}

/// Verify a signature (DER as Android/iOS produce, or raw 64-byte r‖s), base64-encoded.
pub fn verify(public_key_der: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(key) = VerifyingKey::from_public_key_der(public_key_der) else {
        return false;
    };
    let Some(bytes) = decode_base64(signature) else {
        return false;
    };
    let signature = Signature::from_der(&bytes).or_else(|_| Signature::from_slice(&bytes));
    signature.is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

/// 256 random bits, URL-safe base64.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() > 4096 {
        return None;
    }
    STANDARD
        .decode(s)
        .or_else(|_| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')))
        .ok()
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    use super::*;

    #[test]
    fn a_device_signature_over_the_challenge_verifies_and_nothing_else_does() {
        let device = SigningKey::random(&mut rand::rngs::OsRng);
        let spki = device.verifying_key().to_public_key_der().unwrap();
        let der = parse_public_key(&STANDARD.encode(spki.as_bytes())).unwrap();
        let nonce = new_nonce();
        let message = challenge_message("pixel-7-abc", &nonce);
        let signature: Signature = device.sign(&message);
        let der_sig = STANDARD.encode(signature.to_der().as_bytes());
        assert!(verify(&der, &message, &der_sig));
        assert!(
            verify(&der, &message, &STANDARD.encode(signature.to_bytes())),
            "raw r||s"
        );
        // Another nonce, another device id, another key: refused.
        assert!(!verify(
            &der,
            &challenge_message("pixel-7-abc", &new_nonce()),
            &der_sig
        ));
        assert!(!verify(
            &der,
            &challenge_message("other-device", &nonce),
            &der_sig
        ));
        let stranger = SigningKey::random(&mut rand::rngs::OsRng);
        let forged: Signature = stranger.sign(&message);
        assert!(!verify(
            &der,
            &message,
            &STANDARD.encode(forged.to_der().as_bytes())
        ));
        assert!(!verify(&der, &message, "not base64!"));
    }

    #[test]
    fn only_p256_public_keys_are_accepted() {
        assert!(parse_public_key("AAAA").is_none());
        assert!(parse_public_key("").is_none());
    }
}
