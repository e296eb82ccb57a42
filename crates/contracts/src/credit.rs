//! Events about credit decisions, published by credit on `credit.events` (key = loan id).
//! Loan applies the decision to the application; it never decides itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenor_events::DomainEvent;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreditDecision {
    Approved,
    Rejected,
}

/// Who made the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreditDecisionSource {
    /// Policy rules over internal and external scores.
    Automatic,
    /// A staff member with `credit:decide`.
    Manual,
}

/// Credit decided a submitted loan application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditDecisionMadeV1 {
    /// Unique per decision; a replay of the same decision carries the same id.
    pub decision_id: Uuid,
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub decision: CreditDecision,
    /// The combined score the decision was based on.
    pub score: i32,
    /// Machine-readable reasons (e.g. `SCORE_BELOW_THRESHOLD`, `BUREAU_DELINQUENT`).
    pub reason_codes: Vec<String>,
    /// Human-readable summary, safe to show the borrower; never contains PII.
    pub reason: Option<String>,
    pub source: CreditDecisionSource,
    /// The staff member for a manual decision.
    pub decided_by: Option<Uuid>,
    pub decided_at: DateTime<Utc>,
    /// Set only on a manual decision that follows the borrower's request for human review of
    /// an automatic rejection (UU PDP: the right to object to a solely automated decision):
    /// the `decision_id` of that rejection. Loan lets a decision change a REJECTED loan only
    /// when it names the rejection it reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviews_decision: Option<Uuid>,
}

/// Credit's rules could not decide a submitted loan and put it in the review queue for a person
/// (a referral: a borderline score, or inputs that did not arrive in time). Nothing changes
/// for the loan yet — it stays SUBMITTED until staff decide, which comes as a
/// [`CreditDecisionMadeV1`] with source MANUAL. Published so the borrower hears their
/// application is being looked at instead of hearing nothing (notification); one per loan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditReferredV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    /// The principal applied for, whole rupiah.
    pub amount: i64,
    pub tenor_months: i32,
    /// Why the rules referred it (e.g. `SCORE_BORDERLINE`): internal, not for the borrower.
    pub reason_codes: Vec<String>,
    pub referred_at: DateTime<Utc>,
}

impl DomainEvent for CreditReferredV1 {
    const TYPE: &'static str = "credit.referred.v1";
}

/// Credit's score id for a loan: derived from the loan id, so risk (which starts from the same
/// `loan.submitted` event, in parallel) can name the score its evaluation belongs to without
/// asking credit. A name-based UUID (version 8, SHA-256 of a fixed namespace and the loan id).
pub fn credit_score_id(loan_id: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"tenor.credit_score_id:")
        .chain_update(loan_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

impl DomainEvent for CreditDecisionMadeV1 {
    const TYPE: &'static str = "credit.decision.made.v1";
}

#[cfg(test)]
mod tests {
    use tenor_events::Envelope;

    use super::*;

    /// Loan consumes this shape: pin the wire names.
    #[test]
    fn decision_wire_form_is_stable() {
        let event = CreditDecisionMadeV1 {
            decision_id: Uuid::nil(),
            loan_id: Uuid::max(),
            user_id: Uuid::nil(),
            decision: CreditDecision::Rejected,
            score: 512,
            reason_codes: vec!["SCORE_BELOW_THRESHOLD".into()],
            reason: Some("Score below policy threshold".into()),
            source: CreditDecisionSource::Automatic,
            decided_by: None,
            decided_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            reviews_decision: None,
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "decision_id": "00000000-0000-0000-0000-000000000000",
                "loan_id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "user_id": "00000000-0000-0000-0000-000000000000",
                "decision": "REJECTED",
                "score": 512,
                "reason_codes": ["SCORE_BELOW_THRESHOLD"],
                "reason": "Score below policy threshold",
                "source": "AUTOMATIC",
                "decided_by": null,
                "decided_at": "2027-01-15T08:00:00Z",
            })
        );
        let envelope = Envelope::new("/tenor/credit", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.event_type(), "credit.decision.made.v1");
        assert_eq!(back.decode::<CreditDecisionMadeV1>().unwrap(), event);
    }

    /// Notification's templates read these names (its catalog's variables).
    #[test]
    fn referral_wire_form_is_stable() {
        let event = CreditReferredV1 {
            loan_id: Uuid::max(),
            user_id: Uuid::nil(),
            amount: 4_000_000,
            tenor_months: 6,
            reason_codes: vec!["SCORE_BORDERLINE".into()],
            referred_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "loan_id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "user_id": "00000000-0000-0000-0000-000000000000",
                "amount": 4_000_000,
                "tenor_months": 6,
                "reason_codes": ["SCORE_BORDERLINE"],
                "referred_at": "2027-01-15T08:00:00Z",
            })
        );
        let envelope = Envelope::new("/tenor/credit", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.event_type(), "credit.referred.v1");
        assert_eq!(back.decode::<CreditReferredV1>().unwrap(), event);
    }

    #[test]
    fn a_review_decision_names_the_rejection_it_reviews() {
        let rejection = Uuid::now_v7();
        let mut wire = serde_json::json!({
            "decision_id": Uuid::now_v7(), "loan_id": Uuid::now_v7(), "user_id": Uuid::now_v7(),
            "decision": "APPROVED", "score": 700, "reason_codes": ["MANUAL_REVIEW"],
            "reason": null, "source": "MANUAL", "decided_by": Uuid::now_v7(),
            "decided_at": "2027-01-15T08:00:00Z",
        });
        let plain: CreditDecisionMadeV1 = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(plain.reviews_decision, None);
        wire["reviews_decision"] = serde_json::json!(rejection);
        let review: CreditDecisionMadeV1 = serde_json::from_value(wire).unwrap();
        assert_eq!(review.reviews_decision, Some(rejection));
    }

    #[test]
    fn credit_score_id_is_a_stable_function_of_the_loan() {
        let loan = Uuid::parse_str("0193a5a0-0000-7000-8000-000000000001").unwrap();
        assert_eq!(credit_score_id(loan), credit_score_id(loan));
        assert_ne!(credit_score_id(loan), credit_score_id(Uuid::max()));
        assert_ne!(credit_score_id(loan), loan);
        assert_eq!(credit_score_id(loan).get_version_num(), 8);
    }
}
