//! What one access-token signature check costs with each jsonwebtoken backend: aws-lc (what
//! Tenor's services and router install, `tenor_platform::crypto`) and RustCrypto (what
//! hive-router asks for, and the stock build keeps). Every request through the router pays one
//! at the router and one more at each subgraph it reaches.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::{CryptoProvider, aws_lc, rust_crypto};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _, LineEnding};

use crate::stats::{Summary, summarise};

pub struct Costs {
    pub aws_lc: Summary,
    pub rust_crypto: Summary,
}

/// `count` verifications of one ES256 token with each backend, on this thread.
pub fn measure(count: usize) -> Costs {
    let (message, signature, key) = signed_token();
    let time = |provider: &CryptoProvider| {
        let verifier = (provider.verifier_factory)(&Algorithm::ES256, &key).expect("ES256 key");
        let samples: Vec<Duration> = (0..count)
            .map(|_| {
                let started = Instant::now();
                verifier
                    .verify(message.as_bytes(), &signature)
                    .expect("the token's own signature verifies");
                started.elapsed()
            })
            .collect();
        summarise(samples)
    };
    Costs {
        aws_lc: time(&aws_lc::DEFAULT_PROVIDER),
        rust_crypto: time(&rust_crypto::DEFAULT_PROVIDER),
    }
}

/// A token shaped like auth's: the signed part, its raw signature and the public key.
fn signed_token() -> (String, Vec<u8>, DecodingKey) {
    tenor_platform::crypto::install_providers();
    let pem = tenor_auth::keys::generate_pem();
    let public = p256::SecretKey::from_pkcs8_pem(&pem)
        .expect("generated key")
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("public PEM");
    let claims = serde_json::json!({
        "sub": uuid::Uuid::new_v4(), "sid": uuid::Uuid::new_v4(), "iss": "tenor-auth",
        "aud": "tenor", "exp": 4_000_000_000u64, "scope": "loan:apply kyc:submit",
    });
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).expect("generated key");
    let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).expect("sign");
    let (message, signature) = token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let key = DecodingKey::from_ec_pem(public.as_bytes()).expect("public key");
    (message.to_owned(), signature, key)
}
