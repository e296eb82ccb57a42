//! The verification vendor (OCR of the document, face match of the selfie against it) behind
//! the [`KycVerifier`] trait, and the deterministic [`SimulatedKycVendor`] used by default and in
//! tests. The worker that drives a vendor is `crate::service::verification`.
//!
//! Reachable as `tenor_kyc::verification` too (its former path).

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tenor_contracts::kyc::DocumentType;
use uuid::Uuid;

use crate::domain::{self, Gender};

/// What the vendor is sent. The images and number are plaintext here: this is the one place
/// they leave encryption, to go to the verification provider.
pub struct VerificationRequest {
    pub kyc_id: Uuid,
    pub document_type: DocumentType,
    pub document_number: String,
    pub document_image: Vec<u8>,
    pub selfie_image: Vec<u8>,
}

/// What an OCR vendor reads off a document (a subset of the KTP fields).
#[derive(Debug, Clone, PartialEq)]
pub struct OcrFields {
    /// `None` when the document could not be read.
    pub document_number: Option<String>,
    pub birth_date: Option<chrono::NaiveDate>,
    pub gender: Option<Gender>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VendorAnswer {
    pub ocr: OcrFields,
    /// 0–1 similarity of the selfie to the document photo.
    pub face_match_score: f64,
}

/// A KYC verification provider (OCR + face match; Dukcapil behind it in production).
#[async_trait]
pub trait KycVerifier: Send + Sync {
    async fn verify(&self, request: &VerificationRequest) -> anyhow::Result<VendorAnswer>;
}

/// **Simulated** vendor, the default and the one tests use. Deterministic:
///
/// - OCR "reads" the submitted number back (it cannot read images), with birth date and gender
///   taken from the NIK's structure for a KTP.
/// - The face-match score is the first two bytes of SHA-256(document image ‖ 0x00 ‖ selfie
///   image) as a big-endian integer divided by 65535. A test that needs a score above, between
///   or below the thresholds varies trailing bytes of an image (JPEG/PNG decoders ignore bytes
///   after the end marker) until [`SimulatedKycVendor::face_match_score`] lands in the band.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimulatedKycVendor;

impl SimulatedKycVendor {
    pub fn face_match_score(document_image: &[u8], selfie_image: &[u8]) -> f64 {
        let digest = Sha256::new()
            .chain_update(document_image)
            .chain_update([0u8])
            .chain_update(selfie_image)
            .finalize();
        f64::from(u16::from_be_bytes([digest[0], digest[1]])) / f64::from(u16::MAX)
    }
}

#[async_trait]
impl KycVerifier for SimulatedKycVendor {
    async fn verify(&self, request: &VerificationRequest) -> anyhow::Result<VendorAnswer> {
        let nik = match request.document_type {
            DocumentType::Ktp => domain::parse_nik(
                &request.document_number,
                domain::document_number::this_year(),
            )
            .ok(),
            _ => None,
        };
        Ok(VendorAnswer {
            ocr: OcrFields {
                document_number: Some(request.document_number.clone()),
                birth_date: nik.map(|n| n.birth_date),
                gender: nik.map(|n| n.gender),
            },
            face_match_score: Self::face_match_score(
                &request.document_image,
                &request.selfie_image,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_scores_are_deterministic_and_spread() {
        let a = SimulatedKycVendor::face_match_score(b"doc", b"selfie");
        assert_eq!(a, SimulatedKycVendor::face_match_score(b"doc", b"selfie"));
        assert!((0.0..=1.0).contains(&a));
        // Varying a trailing byte reaches every band quickly.
        let scores: Vec<f64> = (0u8..64)
            .map(|i| SimulatedKycVendor::face_match_score(b"doc", &[b's', i]))
            .collect();
        assert!(scores.iter().any(|&s| s >= 0.85));
        assert!(scores.iter().any(|&s| s < 0.5));
        assert!(scores.iter().any(|&s| (0.5..0.85).contains(&s)));
    }

    #[tokio::test]
    async fn simulated_ocr_reads_the_nik_structure() {
        let answer = SimulatedKycVendor
            .verify(&VerificationRequest {
                kyc_id: Uuid::nil(),
                document_type: DocumentType::Ktp,
                document_number: "3174055203050042".into(),
                document_image: vec![1],
                selfie_image: vec![2],
            })
            .await
            .unwrap();
        assert_eq!(
            answer.ocr.document_number.as_deref(),
            Some("3174055203050042")
        );
        assert_eq!(answer.ocr.gender, Some(Gender::Female));
        assert_eq!(
            answer.ocr.birth_date,
            chrono::NaiveDate::from_ymd_opt(2005, 3, 12)
        );
    }
}
