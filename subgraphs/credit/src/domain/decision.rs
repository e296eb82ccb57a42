//! Deciding a loan: (rules, inputs) → APPROVE / REJECT / REFER, or "not yet" while a mandatory
//! input is missing. Pure, so a stored decision can be replayed from its stored inputs and the
//! rules version it names (`tenor-credit replay`).
//!
//! Order: a failed risk evaluation refers at once; missing inputs wait (until the input timeout,
//! then refer); policy rules reject with their reason codes; a required manual score refers;
//! then the combined score against the thresholds.

use serde::{Deserialize, Serialize};
use tenor_contracts::risk::{BureauSummary, RiskLevel};

use super::rules::RuleSet;

/// Everything a decision reads. Stored with the decision as JSON: replaying it with the same
/// rules must give the same outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionInputs {
    pub amount: i64,
    pub tenor_months: u32,
    pub internal_score: Option<i32>,
    pub external_score: Option<i32>,
    pub external_mandatory: bool,
    pub manual_score: Option<i32>,
    pub manual_mandatory: bool,
    pub risk: Option<RiskInput>,
    pub standing: Standing,
    /// The input timeout had passed when the decision was attempted.
    pub input_timed_out: bool,
}

/// Risk's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskInput {
    Evaluated {
        level: RiskLevel,
        normalized_score: i32,
        bureau: BureauSummary,
    },
    Failed {
        reason_code: String,
    },
}

/// The borrower's standing in credit's projections when the decision was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub kyc_verified: bool,
    pub account_active: bool,
    pub tenor_loan_overdue: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Approve,
    Reject,
    Refer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// `None` only when a score input is missing (a referral for a missing input).
    pub combined_score: Option<i32>,
    pub reason_codes: Vec<String>,
    /// Short English, safe to show the borrower, no personal data.
    pub reason: String,
}

impl Decision {
    /// The review-queue reason of a referral.
    pub fn queue_reason(&self) -> Option<&str> {
        (self.outcome == Outcome::Refer)
            .then(|| self.reason_codes.first().map(String::as_str))
            .flatten()
    }
}

pub const RISK_EVALUATION_FAILED: &str = "RISK_EVALUATION_FAILED";
pub const MISSING_INPUT: &str = "MISSING_INPUT";
pub const MANUAL_SCORE_REQUIRED: &str = "MANUAL_SCORE_REQUIRED";
pub const SCORE_ABOVE_THRESHOLD: &str = "SCORE_ABOVE_THRESHOLD";
pub const SCORE_BELOW_THRESHOLD: &str = "SCORE_BELOW_THRESHOLD";
pub const SCORE_IN_REVIEW_BAND: &str = "SCORE_IN_REVIEW_BAND";
pub const HUMAN_REVIEW_REQUESTED: &str = "HUMAN_REVIEW_REQUESTED";

const REFERRED: &str = "Your application needs a review by our credit team.";

/// The decision `rules` make on `inputs`; `None` = wait for more input.
pub fn decide(rules: &RuleSet, inputs: &DecisionInputs) -> Option<Decision> {
    let risk = match &inputs.risk {
        Some(RiskInput::Failed { .. }) => {
            return Some(refer(RISK_EVALUATION_FAILED, combined(rules, inputs)));
        }
        Some(RiskInput::Evaluated {
            normalized_score,
            bureau,
            ..
        }) => Some((*normalized_score, bureau)),
        None => None,
    };
    let missing = inputs.internal_score.is_none()
        || (inputs.external_mandatory && inputs.external_score.is_none())
        || risk.is_none();
    let Some((_, bureau)) = risk.filter(|_| !missing) else {
        return inputs
            .input_timed_out
            .then(|| refer(MISSING_INPUT, combined(rules, inputs)));
    };
    let score = combined(rules, inputs);

    let policy = policy_rejections(rules, inputs, bureau);
    if !policy.is_empty() {
        let reason = policy
            .iter()
            .map(|(_, why)| *why)
            .collect::<Vec<_>>()
            .join(" ");
        return Some(Decision {
            outcome: Outcome::Reject,
            combined_score: score,
            reason_codes: policy.iter().map(|(code, _)| (*code).to_owned()).collect(),
            reason,
        });
    }
    if inputs.manual_mandatory && inputs.manual_score.is_none() {
        return Some(refer(MANUAL_SCORE_REQUIRED, score));
    }
    let value = score.expect("every score input is present");
    let t = &rules.thresholds;
    Some(if value >= t.approve_at {
        Decision {
            outcome: Outcome::Approve,
            combined_score: score,
            reason_codes: vec![SCORE_ABOVE_THRESHOLD.to_owned()],
            reason: "Your application meets our credit policy.".to_owned(),
        }
    } else if value < t.reject_below {
        Decision {
            outcome: Outcome::Reject,
            combined_score: score,
            reason_codes: vec![SCORE_BELOW_THRESHOLD.to_owned()],
            reason: "Your application does not meet our credit score requirements at this time."
                .to_owned(),
        }
    } else {
        refer(SCORE_IN_REVIEW_BAND, score)
    })
}

/// The weighted mean of the scores present (the external score's weight is shared out when it
/// is optional and absent); `None` without the internal score or risk's.
pub fn combined(rules: &RuleSet, inputs: &DecisionInputs) -> Option<i32> {
    let risk = match &inputs.risk {
        Some(RiskInput::Evaluated {
            normalized_score, ..
        }) => *normalized_score,
        _ => return None,
    };
    let internal = inputs.internal_score?;
    let w = &rules.weights;
    let mut parts = vec![(internal, w.internal), (risk, w.risk)];
    if let Some(external) = inputs.external_score {
        parts.push((external, w.external));
    }
    let weight: i64 = parts.iter().map(|(_, w)| i64::from(*w)).sum();
    let total: i64 = parts
        .iter()
        .map(|(score, w)| i64::from(*score) * i64::from(*w))
        .sum();
    // Rounded half up; weight > 0 because the weights add up to 100 and risk's is included.
    Some(((2 * total + weight) / (2 * weight.max(1))) as i32)
}

fn policy_rejections(
    rules: &RuleSet,
    inputs: &DecisionInputs,
    bureau: &BureauSummary,
) -> Vec<(&'static str, &'static str)> {
    let p = &rules.policy;
    let mut codes = Vec::new();
    if bureau.worst_collectability > p.max_collectability {
        codes.push((
            "BUREAU_DELINQUENT",
            "Credit bureau records show debts in arrears.",
        ));
    }
    if bureau.active_platforms > p.max_active_platforms {
        codes.push((
            "TOO_MANY_PLATFORMS",
            "You have loans open with too many lenders.",
        ));
    }
    if !inputs.standing.kyc_verified {
        codes.push((
            "KYC_NOT_VERIFIED",
            "Your identity verification is not complete.",
        ));
    }
    if !inputs.standing.account_active {
        codes.push(("ACCOUNT_NOT_ACTIVE", "Your account is not active."));
    }
    if inputs.standing.tenor_loan_overdue {
        codes.push((
            "TENOR_LOAN_OVERDUE",
            "You have an overdue installment on a Tenor loan.",
        ));
    }
    codes
}

fn refer(code: &str, combined_score: Option<i32>) -> Decision {
    Decision {
        outcome: Outcome::Refer,
        combined_score,
        reason_codes: vec![code.to_owned()],
        reason: REFERRED.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RuleBook;

    fn rules() -> RuleSet {
        RuleBook::compiled().version("2026-12-01").unwrap().clone()
    }

    fn bureau(collectability: u8, platforms: u32) -> BureauSummary {
        BureauSummary {
            worst_collectability: collectability,
            active_facilities: platforms,
            active_platforms: platforms,
            outstanding_debt: 1_000_000,
            max_days_past_due_12m: 0,
        }
    }

    fn inputs(internal: i32, external: i32, risk: i32, bureau: BureauSummary) -> DecisionInputs {
        DecisionInputs {
            amount: 5_000_000,
            tenor_months: 6,
            internal_score: Some(internal),
            external_score: Some(external),
            external_mandatory: true,
            manual_score: None,
            manual_mandatory: false,
            risk: Some(RiskInput::Evaluated {
                level: RiskLevel::Medium,
                normalized_score: risk,
                bureau,
            }),
            standing: Standing {
                kyc_verified: true,
                account_active: true,
                tenor_loan_overdue: false,
            },
            input_timed_out: false,
        }
    }

    /// The required calibration, at every corner of internal ∈ [640, 680] × external ∈ [640, 740].
    #[test]
    fn calibration_holds_over_the_corners() {
        let rules = rules();
        for internal in [640, 660, 680] {
            for external in [640, 690, 740] {
                let at = |risk, bureau| decide(&rules, &inputs(internal, external, risk, bureau));
                let approve = at(780, bureau(1, 1)).unwrap();
                assert_eq!(approve.outcome, Outcome::Approve, "{internal}/{external}");
                let refer = at(600, bureau(1, 1)).unwrap();
                assert_eq!(refer.outcome, Outcome::Refer, "{internal}/{external}");
                assert_eq!(refer.queue_reason(), Some(SCORE_IN_REVIEW_BAND));
                let reject = at(420, bureau(1, 1)).unwrap();
                assert_eq!(reject.outcome, Outcome::Reject, "{internal}/{external}");
                assert_eq!(reject.reason_codes, [SCORE_BELOW_THRESHOLD]);
                let policy = at(700, bureau(1, 6)).unwrap();
                assert_eq!(policy.outcome, Outcome::Reject, "{internal}/{external}");
                assert_eq!(policy.reason_codes, ["TOO_MANY_PLATFORMS"]);
            }
        }
    }

    #[test]
    fn each_policy_rule_rejects_with_its_code() {
        let rules = rules();
        let good = inputs(660, 700, 780, bureau(1, 1));
        assert_eq!(decide(&rules, &good).unwrap().outcome, Outcome::Approve);
        let mut delinquent = good.clone();
        delinquent.risk = Some(RiskInput::Evaluated {
            level: RiskLevel::High,
            normalized_score: 780,
            bureau: bureau(3, 1),
        });
        let mut kyc = good.clone();
        kyc.standing.kyc_verified = false;
        let mut account = good.clone();
        account.standing.account_active = false;
        let mut overdue = good.clone();
        overdue.standing.tenor_loan_overdue = true;
        for (inputs, code) in [
            (delinquent, "BUREAU_DELINQUENT"),
            (kyc, "KYC_NOT_VERIFIED"),
            (account, "ACCOUNT_NOT_ACTIVE"),
            (overdue, "TENOR_LOAN_OVERDUE"),
        ] {
            let decision = decide(&rules, &inputs).unwrap();
            assert_eq!(decision.outcome, Outcome::Reject);
            assert_eq!(decision.reason_codes, [code]);
            assert!(!decision.reason.is_empty());
        }
    }

    #[test]
    fn missing_inputs_wait_until_the_timeout_then_refer() {
        let rules = rules();
        let mut waiting = inputs(660, 700, 780, bureau(1, 1));
        waiting.external_score = None;
        assert_eq!(decide(&rules, &waiting), None);
        waiting.input_timed_out = true;
        let referred = decide(&rules, &waiting).unwrap();
        assert_eq!(referred.queue_reason(), Some(MISSING_INPUT));

        let mut no_risk = inputs(660, 700, 780, bureau(1, 1));
        no_risk.risk = None;
        assert_eq!(decide(&rules, &no_risk), None);

        // Optional external score: decided without it, on the other weights.
        let mut optional = inputs(660, 700, 780, bureau(1, 1));
        optional.external_score = None;
        optional.external_mandatory = false;
        let decision = decide(&rules, &optional).unwrap();
        assert_eq!(
            decision.combined_score,
            Some((660 * 30 + 780 * 50 + 40) / 80)
        );
    }

    #[test]
    fn failed_risk_and_required_manual_scores_go_to_the_queue() {
        let rules = rules();
        let mut failed = inputs(660, 700, 780, bureau(1, 1));
        failed.risk = Some(RiskInput::Failed {
            reason_code: "BUREAU_TIMEOUT".into(),
        });
        assert_eq!(
            decide(&rules, &failed).unwrap().queue_reason(),
            Some(RISK_EVALUATION_FAILED)
        );
        let mut large = inputs(660, 700, 780, bureau(1, 1));
        large.manual_mandatory = true;
        assert_eq!(
            decide(&rules, &large).unwrap().queue_reason(),
            Some(MANUAL_SCORE_REQUIRED)
        );
        // Policy still rejects first.
        large.standing.kyc_verified = false;
        assert_eq!(decide(&rules, &large).unwrap().outcome, Outcome::Reject);
    }

    #[test]
    fn inputs_survive_their_json_snapshot() {
        let inputs = inputs(660, 700, 780, bureau(2, 3));
        let json = serde_json::to_value(&inputs).unwrap();
        assert_eq!(json["risk"]["outcome"], "EVALUATED");
        let back: DecisionInputs = serde_json::from_value(json).unwrap();
        assert_eq!(back, inputs);
    }
}
