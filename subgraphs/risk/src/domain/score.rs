//! The bureau's view on Tenor's 300–850 scale.
//!
//! A file that carries a score (the sandbox presets do) keeps it. Otherwise the score starts at
//! 820 for a clean file and loses points for what lenders look at: collectability (110 a grade
//! above 1), days past due (1 a day, at most 180), many platforms (15 for each above 2) and
//! debt (10 for each 10 million rupiah, at most 60). A file with no facility at all is a thin
//! file: 640, nothing known either way.

use tenor_contracts::risk::BureauSummary;

pub const MIN_SCORE: i32 = 300;
pub const MAX_SCORE: i32 = 850;
/// What a borrower without any facility gets.
pub const THIN_FILE_SCORE: i32 = 640;

pub fn normalize(summary: &BureauSummary, reported: Option<i32>) -> i32 {
    if let Some(score) = reported {
        return score.clamp(MIN_SCORE, MAX_SCORE);
    }
    if summary.active_facilities == 0 && summary.max_days_past_due_12m == 0 {
        return THIN_FILE_SCORE;
    }
    let collectability = (i32::from(summary.worst_collectability.clamp(1, 5)) - 1) * 110;
    let late = summary.max_days_past_due_12m.min(180) as i32;
    let platforms = (summary.active_platforms.saturating_sub(2) as i32) * 15;
    let debt = ((summary.outstanding_debt / 10_000_000) as i32 * 10).min(60);
    (820 - collectability - late - platforms - debt).clamp(MIN_SCORE, MAX_SCORE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(collectability: u8, platforms: u32, debt: i64, dpd: u32) -> BureauSummary {
        BureauSummary {
            worst_collectability: collectability,
            active_facilities: platforms,
            active_platforms: platforms,
            outstanding_debt: debt,
            max_days_past_due_12m: dpd,
        }
    }

    #[test]
    fn a_reported_score_is_kept_within_the_scale() {
        assert_eq!(normalize(&summary(4, 1, 0, 150), Some(420)), 420);
        assert_eq!(normalize(&summary(1, 1, 0, 0), Some(900)), 850);
    }

    #[test]
    fn penalties_follow_the_documented_formula() {
        assert_eq!(normalize(&summary(1, 1, 3_000_000, 0), None), 820);
        // 820 − 110 − 20 − 15 − 20
        assert_eq!(normalize(&summary(2, 3, 25_000_000, 20), None), 655);
        assert_eq!(normalize(&summary(5, 8, 900_000_000, 400), None), 300);
        assert_eq!(normalize(&summary(1, 0, 0, 0), None), THIN_FILE_SCORE);
    }
}
