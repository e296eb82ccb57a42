//! The automatic verification decision: what the vendor's OCR and face-match score mean for a
//! submission, against configured thresholds.

/// Where the automatic decision draws its lines (configuration, not literals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A face-match score at or above this verifies automatically.
    pub approve: f64,
    /// Below this rejects automatically; in between goes to manual review.
    pub reject: f64,
}

/// What the vendor's answer means for a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum VerificationOutcome {
    Verify,
    Reject { code: &'static str, reason: String },
    ManualReview,
}

/// The automatic decision. The document number the vendor read must be the one submitted
/// (a mismatch is a different or doctored document); then the face-match score decides.
pub fn decide(
    thresholds: Thresholds,
    submitted_number: &str,
    ocr_number: Option<&str>,
    face_match_score: f64,
) -> VerificationOutcome {
    match ocr_number {
        None => {
            return VerificationOutcome::Reject {
                code: "DOCUMENT_UNREADABLE",
                reason: "Dokumen tidak terbaca / The document could not be read".into(),
            };
        }
        Some(read) if read != submitted_number => {
            return VerificationOutcome::Reject {
                code: "DOCUMENT_NUMBER_MISMATCH",
                reason: "Nomor dokumen tidak sesuai / The number does not match the document"
                    .into(),
            };
        }
        Some(_) => {}
    }
    if face_match_score >= thresholds.approve {
        VerificationOutcome::Verify
    } else if face_match_score < thresholds.reject {
        VerificationOutcome::Reject {
            code: "FACE_MISMATCH",
            reason: "Swafoto tidak cocok dengan foto dokumen / The selfie does not match the document photo".into(),
        }
    } else {
        VerificationOutcome::ManualReview
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_split_three_ways_and_ocr_mismatch_rejects() {
        let t = Thresholds {
            approve: 0.85,
            reject: 0.5,
        };
        let n = "3201011203900001";
        assert_eq!(decide(t, n, Some(n), 0.85), VerificationOutcome::Verify);
        assert_eq!(
            decide(t, n, Some(n), 0.84),
            VerificationOutcome::ManualReview
        );
        assert_eq!(
            decide(t, n, Some(n), 0.5),
            VerificationOutcome::ManualReview
        );
        assert!(matches!(
            decide(t, n, Some(n), 0.49),
            VerificationOutcome::Reject {
                code: "FACE_MISMATCH",
                ..
            }
        ));
        assert!(matches!(
            decide(t, n, Some("3201011203900002"), 0.99),
            VerificationOutcome::Reject {
                code: "DOCUMENT_NUMBER_MISMATCH",
                ..
            }
        ));
        assert!(matches!(
            decide(t, n, None, 0.99),
            VerificationOutcome::Reject {
                code: "DOCUMENT_UNREADABLE",
                ..
            }
        ));
    }
}
