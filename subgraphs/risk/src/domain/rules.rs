//! The risk level of an evaluation by the configured, versioned rules:
//!
//! - HIGH when the worst collectability is at least `high_collectability` (3: substandard)
//!   or the score is below `high_score_below` (550);
//! - MEDIUM when the score is below `medium_score_below` (650), the borrower has open
//!   facilities on at least `medium_platforms` (4) platforms, or was `medium_days_past_due`
//!   (30) days or more late in the last 12 months;
//! - LOW otherwise.
//!
//! Every evaluation stores `version`, so a level can be explained after the rules change.

use tenor_contracts::risk::{BureauSummary, RiskLevel};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRules {
    pub version: String,
    pub high_collectability: u8,
    pub high_score_below: i32,
    pub medium_score_below: i32,
    pub medium_platforms: u32,
    pub medium_days_past_due: u32,
}

impl RiskRules {
    pub const DEFAULT_VERSION: &'static str = "risk-rules-2026-12";
}

impl Default for RiskRules {
    fn default() -> Self {
        Self {
            version: Self::DEFAULT_VERSION.to_owned(),
            high_collectability: 3,
            high_score_below: 550,
            medium_score_below: 650,
            medium_platforms: 4,
            medium_days_past_due: 30,
        }
    }
}

pub fn risk_level(rules: &RiskRules, score: i32, summary: &BureauSummary) -> RiskLevel {
    if summary.worst_collectability >= rules.high_collectability || score < rules.high_score_below {
        RiskLevel::High
    } else if score < rules.medium_score_below
        || summary.active_platforms >= rules.medium_platforms
        || summary.max_days_past_due_12m >= rules.medium_days_past_due
    {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(collectability: u8, platforms: u32, dpd: u32) -> BureauSummary {
        BureauSummary {
            worst_collectability: collectability,
            active_facilities: platforms,
            active_platforms: platforms,
            outstanding_debt: 1_000_000,
            max_days_past_due_12m: dpd,
        }
    }

    #[test]
    fn the_sandbox_presets_land_on_their_documented_levels() {
        let rules = RiskRules::default();
        let level = |score, s: BureauSummary| risk_level(&rules, score, &s);
        assert_eq!(level(780, summary(1, 1, 0)), RiskLevel::Low); // clean
        assert_eq!(level(600, summary(2, 2, 20)), RiskLevel::Medium); // borderline
        assert_eq!(level(420, summary(2, 3, 45)), RiskLevel::High); // low_score
        assert_eq!(level(400, summary(4, 2, 150)), RiskLevel::High); // delinquent
        assert_eq!(level(700, summary(1, 6, 0)), RiskLevel::Medium); // many_platforms
    }

    #[test]
    fn each_threshold_is_a_boundary() {
        let rules = RiskRules::default();
        let level = |score, s: BureauSummary| risk_level(&rules, score, &s);
        assert_eq!(level(800, summary(3, 1, 0)), RiskLevel::High);
        assert_eq!(level(549, summary(1, 1, 0)), RiskLevel::High);
        assert_eq!(level(550, summary(1, 1, 0)), RiskLevel::Medium);
        assert_eq!(level(649, summary(1, 1, 0)), RiskLevel::Medium);
        assert_eq!(level(650, summary(1, 1, 0)), RiskLevel::Low);
        assert_eq!(level(650, summary(1, 4, 0)), RiskLevel::Medium);
        assert_eq!(level(650, summary(1, 3, 30)), RiskLevel::Medium);
        assert_eq!(level(650, summary(2, 3, 29)), RiskLevel::Low);
        let strict = RiskRules {
            high_score_below: 700,
            ..RiskRules::default()
        };
        assert_eq!(risk_level(&strict, 650, &summary(1, 1, 0)), RiskLevel::High);
    }
}
