//! Events about risk evaluations, published by risk on `risk.events` (key = loan id). Credit
//! waits for one of them per submitted loan before it decides automatically.
//!
//! What travels is the bureau's *summary* (collectability, debt, platforms, days past due) and
//! the normalised score — never the raw bureau payload, which stays encrypted in risk's store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenor_events::DomainEvent;
use uuid::Uuid;

/// Risk's classification of a borrower for one application, by its configured rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

/// What the credit bureau (SLIK-style) reported, reduced to the figures policy reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BureauSummary {
    /// Worst OJK collectability (kolektibilitas) over the borrower's facilities: 1 current,
    /// 2 special mention, 3 substandard, 4 doubtful, 5 loss. 1 when there are no facilities.
    pub worst_collectability: u8,
    /// Facilities (loans, cards) still open.
    pub active_facilities: u32,
    /// Distinct lending platforms (banks, P2P lenders) with an open facility.
    pub active_platforms: u32,
    /// Outstanding debt over every open facility, integer rupiah.
    pub outstanding_debt: i64,
    /// The longest delay on any facility in the last 12 months, in days.
    pub max_days_past_due_12m: u32,
}

/// Risk evaluated a submitted loan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEvaluatedV1 {
    pub evaluation_id: Uuid,
    /// Credit's score for this loan ([`crate::credit::credit_score_id`]).
    pub credit_score_id: Uuid,
    pub loan_id: Uuid,
    pub user_id: Uuid,
    /// The bureau that answered (`simulated-slik` unless configured otherwise).
    pub vendor_name: String,
    pub risk_level: RiskLevel,
    /// The bureau's view on Tenor's 300–850 scale.
    pub normalized_score: i32,
    pub bureau: BureauSummary,
    /// The risk rules version that set `risk_level`.
    pub rules_version: String,
    pub evaluated_at: DateTime<Utc>,
}

impl DomainEvent for RiskEvaluatedV1 {
    const TYPE: &'static str = "risk.evaluated.v1";
}

/// Risk gave up on a submitted loan: the bureau did not answer before the configured deadline.
/// Credit sends the loan to manual review instead of waiting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEvaluationFailedV1 {
    pub evaluation_id: Uuid,
    pub credit_score_id: Uuid,
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub vendor_name: String,
    /// `BUREAU_UNAVAILABLE` (errors until the deadline) or `BUREAU_TIMEOUT` (no answer in time).
    pub reason_code: String,
    pub attempts: u32,
    pub failed_at: DateTime<Utc>,
}

impl DomainEvent for RiskEvaluationFailedV1 {
    const TYPE: &'static str = "risk.evaluation.failed.v1";
}

#[cfg(test)]
mod tests {
    use tenor_events::Envelope;

    use super::*;

    /// Credit consumes this shape: pin the wire names.
    #[test]
    fn evaluated_wire_form_is_stable() {
        let event = RiskEvaluatedV1 {
            evaluation_id: Uuid::nil(),
            credit_score_id: Uuid::nil(),
            loan_id: Uuid::max(),
            user_id: Uuid::nil(),
            vendor_name: "simulated-slik".into(),
            risk_level: RiskLevel::Medium,
            normalized_score: 640,
            bureau: BureauSummary {
                worst_collectability: 2,
                active_facilities: 3,
                active_platforms: 2,
                outstanding_debt: 4_500_000,
                max_days_past_due_12m: 15,
            },
            rules_version: "2026-12-01".into(),
            evaluated_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["risk_level"], "MEDIUM");
        assert_eq!(wire["bureau"]["worst_collectability"], 2);
        assert_eq!(wire["bureau"]["max_days_past_due_12m"], 15);
        assert_eq!(wire["normalized_score"], 640);
        let envelope = Envelope::new("/tenor/risk", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.event_type(), "risk.evaluated.v1");
        assert_eq!(back.decode::<RiskEvaluatedV1>().unwrap(), event);
    }
}
