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
}
