//! Raw bureau reports at rest: envelope encryption with the platform's
//! [`Vault`] (AES-256-GCM, a data key per report wrapped by the configured master key, whose id
//! is stored beside the ciphertext for rotation). The evaluation id is the authenticated
//! context, so a ciphertext copied into another evaluation does not open.
//!
//! CPU work on possibly large reports: callers run these on the blocking pool.

use tenor_platform::vault::{CryptoError, Vault};
use uuid::Uuid;

use crate::store::SealedReport;

/// `raw` (the bureau's JSON) encrypted for `evaluation`.
pub fn seal_report(vault: &Vault, evaluation: Uuid, raw: &serde_json::Value) -> SealedReport {
    let plaintext = serde_json::to_vec(raw).expect("a JSON value serialises");
    SealedReport {
        key_id: vault.current_key_id().to_owned(),
        ciphertext: vault.seal(context(evaluation).as_bytes(), &plaintext),
    }
}

/// The JSON text of the report sealed for `evaluation`.
pub fn open_report(
    vault: &Vault,
    evaluation: Uuid,
    sealed: &SealedReport,
) -> Result<String, CryptoError> {
    let plaintext = vault.open(context(evaluation).as_bytes(), &sealed.ciphertext)?;
    String::from_utf8(plaintext).map_err(|_| CryptoError::Malformed)
}

fn context(evaluation: Uuid) -> String {
    format!("risk_evaluations/{evaluation}")
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::json;
    use tenor_contracts::risk::BureauSummary;
    use tenor_platform::vault::Key32;

    use super::*;
    use crate::domain::EvaluationOutcome;
    use crate::store::{Evaluation, NormalizedScore, evaluations};

    const LENDER: &str = "Bank Perkreditan Rakyat Sumber Rahasia";

    fn report() -> serde_json::Value {
        json!({ "vendor": "simulated-slik", "facilities": [{ "lender": LENDER, "outstanding": 4_200_000 }] })
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    #[test]
    fn a_report_opens_for_its_own_evaluation_only() {
        let vault = Vault::new("risk-1", Key32::random());
        let evaluation = Uuid::now_v7();
        let sealed = seal_report(&vault, evaluation, &report());
        assert_eq!(sealed.key_id, "risk-1");
        let opened = open_report(&vault, evaluation, &sealed).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&opened).unwrap(),
            report()
        );
        assert_eq!(
            open_report(&vault, Uuid::now_v7(), &sealed),
            Err(CryptoError::Authentication)
        );
        let other = Vault::new("risk-1", Key32::random());
        assert_eq!(
            open_report(&other, evaluation, &sealed),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn the_stored_document_holds_no_plaintext_of_the_report() {
        let vault = Vault::new("risk-1", Key32::random());
        let id = Uuid::now_v7();
        let evaluation = Evaluation {
            id,
            credit_score_id: Uuid::now_v7(),
            loan_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            vendor_name: "simulated-slik".into(),
            outcome: EvaluationOutcome::Evaluated,
            raw: Some(seal_report(&vault, id, &report())),
            normalized: Some(NormalizedScore {
                score: 700,
                summary: BureauSummary {
                    worst_collectability: 1,
                    active_facilities: 1,
                    active_platforms: 1,
                    outstanding_debt: 4_200_000,
                    max_days_past_due_12m: 0,
                },
            }),
            risk_level: None,
            rules_version: None,
            failure_reason: None,
            attempts: 1,
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let mut bytes = Vec::new();
        evaluations::to_document(&evaluation)
            .to_writer(&mut bytes)
            .unwrap();
        assert!(!contains(&bytes, LENDER));
        assert!(!contains(&bytes, "\"lender\""), "not even the JSON keys");
        assert!(contains(&bytes, "risk-1"), "the key id is stored in clear");
    }
}
