//! The internal score: what Tenor itself knows about a borrower (account age, KYC, its own loan
//! history and how it was repaid) and how the application compares with that history. Pure:
//! the facts come from credit's projections, the points from the rule set.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rules::{InternalPoints, MAX_SCORE, MIN_SCORE};
use super::status::{AccountState, KycState, LoanState};

/// What credit's projections say about a borrower when an application arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BorrowerFacts {
    pub registered_at: Option<DateTime<Utc>>,
    pub kyc: Option<KycState>,
    pub kyc_expires_at: Option<DateTime<Utc>>,
    pub account: AccountState,
    /// The borrower's other Tenor loans (never the one being scored).
    pub loans: Vec<LoanRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanRecord {
    pub amount: i64,
    pub tenor_months: u32,
    pub status: LoanState,
    pub overdue_installments: u32,
    pub max_days_past_due: u32,
}

/// The application being scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub amount: i64,
    pub tenor_months: u32,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InternalScore {
    pub score: i32,
    /// The adjustments that moved the score, for staff (`KYC_VERIFIED +50, FIRST_LOAN +10`).
    pub reason: String,
}

impl BorrowerFacts {
    /// KYC verified and not expired at `at`.
    pub fn kyc_verified_at(&self, at: DateTime<Utc>) -> bool {
        self.kyc == Some(KycState::Verified) && self.kyc_expires_at.is_none_or(|e| e > at)
    }

    /// A Tenor loan with an installment past due that is not paid off.
    pub fn has_overdue_loan(&self) -> bool {
        self.loans
            .iter()
            .any(|l| l.overdue_installments > 0 && l.status != LoanState::Paid)
    }
}

pub fn internal_score(
    points: &InternalPoints,
    facts: &BorrowerFacts,
    application: &Application,
) -> InternalScore {
    let mut score = points.base;
    let mut parts: Vec<String> = vec![format!("BASE {}", points.base)];
    let mut adjust = |code: &str, delta: i32| {
        if delta != 0 {
            score += delta;
            parts.push(format!("{code} {delta:+}"));
        }
    };

    if facts.kyc_verified_at(application.submitted_at) {
        adjust("KYC_VERIFIED", points.kyc_verified);
    }
    let months = facts
        .registered_at
        .map(|at| (application.submitted_at - at).num_days().max(0) / 30)
        .unwrap_or(0);
    let age = (months as i32)
        .saturating_mul(points.account_age_points_per_month)
        .min(points.account_age_points_max);
    adjust("ACCOUNT_AGE", age);

    let paid = facts
        .loans
        .iter()
        .filter(|l| l.status == LoanState::Paid)
        .count() as i32;
    adjust(
        "PAID_LOANS",
        paid.saturating_mul(points.paid_loan_points)
            .min(points.paid_loan_points_max),
    );
    let overdue: u32 = facts.loans.iter().map(|l| l.overdue_installments).sum();
    adjust(
        "OVERDUE_INSTALLMENTS",
        -(overdue as i32)
            .saturating_mul(points.overdue_installment_penalty)
            .min(points.overdue_penalty_max),
    );
    let worst_delay = facts
        .loans
        .iter()
        .map(|l| l.max_days_past_due)
        .max()
        .unwrap_or(0);
    if worst_delay as i32 > points.severe_days_past_due {
        adjust("SEVERE_DELINQUENCY", -points.severe_delinquency_penalty);
    }

    // Amount against history: only loans that were actually paid out show what the borrower
    // has handled before.
    let previous_max = facts
        .loans
        .iter()
        .filter(|l| matches!(l.status, LoanState::Active | LoanState::Paid))
        .map(|l| l.amount)
        .max();
    match previous_max {
        None if application.amount <= points.first_loan_typical_max => {
            adjust(
                "FIRST_LOAN_TYPICAL_AMOUNT",
                points.first_loan_typical_points,
            );
        }
        None => adjust("FIRST_LOAN_LARGE_AMOUNT", -points.first_loan_large_penalty),
        Some(max) if application.amount > max.saturating_mul(points.above_previous_max_factor) => {
            adjust(
                "AMOUNT_FAR_ABOVE_HISTORY",
                -points.above_previous_max_penalty,
            );
        }
        Some(_) => {}
    }
    if application.tenor_months >= points.long_tenor_months {
        adjust("LONG_TENOR", -points.long_tenor_penalty);
    }

    InternalScore {
        score: score.clamp(MIN_SCORE, MAX_SCORE),
        reason: parts.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RuleBook;

    fn points() -> InternalPoints {
        RuleBook::compiled()
            .version("2026-12-01")
            .unwrap()
            .internal
            .clone()
    }

    fn fresh(now: DateTime<Utc>) -> BorrowerFacts {
        BorrowerFacts {
            registered_at: Some(now),
            kyc: Some(KycState::Verified),
            kyc_expires_at: Some(now + chrono::Duration::days(365)),
            account: AccountState::Active,
            loans: vec![],
        }
    }

    fn application(amount: i64, tenor_months: u32, now: DateTime<Utc>) -> Application {
        Application {
            amount,
            tenor_months,
            submitted_at: now,
        }
    }

    #[test]
    fn a_fresh_verified_borrower_with_a_typical_first_loan_scores_640_to_680() {
        let now = Utc::now();
        let score = internal_score(&points(), &fresh(now), &application(5_000_000, 6, now));
        assert!((640..=680).contains(&score.score), "{score:?}");
        assert!(score.reason.contains("KYC_VERIFIED +50"), "{score:?}");
    }

    #[test]
    fn overdue_history_is_a_strong_penalty_and_repayment_a_bonus() {
        let now = Utc::now();
        let record = |status, overdue, dpd| LoanRecord {
            amount: 5_000_000,
            tenor_months: 6,
            status,
            overdue_installments: overdue,
            max_days_past_due: dpd,
        };
        let mut good = fresh(now);
        good.registered_at = Some(now - chrono::Duration::days(400));
        good.loans = vec![record(LoanState::Paid, 0, 0), record(LoanState::Paid, 0, 0)];
        let mut bad = good.clone();
        bad.loans = vec![record(LoanState::Active, 2, 45)];
        let app = application(5_000_000, 6, now);
        let good = internal_score(&points(), &good, &app).score;
        let bad = internal_score(&points(), &bad, &app).score;
        let fresh = internal_score(&points(), &fresh(now), &app).score;
        assert!(good > fresh, "{good} vs {fresh}");
        assert!(bad < fresh - 100, "{bad} vs {fresh}");
    }

    #[test]
    fn a_large_first_loan_or_a_jump_above_history_costs_points() {
        let now = Utc::now();
        let typical = internal_score(&points(), &fresh(now), &application(5_000_000, 6, now));
        let large = internal_score(&points(), &fresh(now), &application(15_000_000, 6, now));
        assert!(large.score < typical.score);
        let mut history = fresh(now);
        history.loans = vec![LoanRecord {
            amount: 2_000_000,
            tenor_months: 3,
            status: LoanState::Paid,
            overdue_installments: 0,
            max_days_past_due: 0,
        }];
        let jump = internal_score(&points(), &history, &application(9_000_000, 6, now));
        assert!(jump.reason.contains("AMOUNT_FAR_ABOVE_HISTORY"), "{jump:?}");
    }

    #[test]
    fn unverified_kyc_earns_nothing_and_scores_stay_on_the_scale() {
        let now = Utc::now();
        let mut facts = fresh(now);
        facts.kyc = Some(KycState::Expired);
        let score = internal_score(&points(), &facts, &application(5_000_000, 6, now));
        assert!(!score.reason.contains("KYC_VERIFIED"));
        facts.loans = vec![
            LoanRecord {
                amount: 1,
                tenor_months: 1,
                status: LoanState::Active,
                overdue_installments: 50,
                max_days_past_due: 400,
            };
            3
        ];
        let floor = internal_score(&points(), &facts, &application(5_000_000, 12, now));
        assert!(floor.score >= MIN_SCORE);
    }
}
