//! One credit facility as a SLIK-style bureau reports it, and the summary policy reads.

use serde::{Deserialize, Serialize};
use tenor_contracts::risk::BureauSummary;

/// A loan, card or pay-later line the borrower has (or had) with one lender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    /// The bank or lending platform (e.g. `Bank Rakyat Indonesia`, `Kredivo`).
    pub lender: String,
    /// `KTA`, `CREDIT_CARD`, `P2P_LOAN`, `PAYLATER`, `VEHICLE`, …
    pub kind: String,
    /// OJK collectability (kolektibilitas): 1 current … 5 loss.
    pub collectability: u8,
    /// Outstanding principal, integer rupiah; 0 for a closed facility.
    pub outstanding: i64,
    /// The longest delay in the last 12 months, in days.
    pub days_past_due_12m: u32,
}

impl Facility {
    /// Still open: something is owed on it.
    pub fn is_active(&self) -> bool {
        self.outstanding > 0
    }
}

/// The figures policy reads, from every facility of a file. Closed facilities still count for
/// collectability and days past due (history), not for debt or platforms.
pub fn summarize(facilities: &[Facility]) -> BureauSummary {
    let active: Vec<&Facility> = facilities.iter().filter(|f| f.is_active()).collect();
    let mut platforms: Vec<&str> = active.iter().map(|f| f.lender.as_str()).collect();
    platforms.sort_unstable();
    platforms.dedup();
    BureauSummary {
        worst_collectability: facilities
            .iter()
            .map(|f| f.collectability.clamp(1, 5))
            .max()
            .unwrap_or(1),
        active_facilities: active.len() as u32,
        active_platforms: platforms.len() as u32,
        outstanding_debt: active.iter().map(|f| f.outstanding.max(0)).sum(),
        max_days_past_due_12m: facilities
            .iter()
            .map(|f| f.days_past_due_12m)
            .max()
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facility(lender: &str, collectability: u8, outstanding: i64, dpd: u32) -> Facility {
        Facility {
            lender: lender.into(),
            kind: "KTA".into(),
            collectability,
            outstanding,
            days_past_due_12m: dpd,
        }
    }

    #[test]
    fn summary_counts_open_facilities_and_distinct_lenders() {
        let summary = summarize(&[
            facility("Kredivo", 1, 2_000_000, 0),
            facility("Kredivo", 2, 1_000_000, 12),
            facility("Bank Mandiri", 1, 5_000_000, 3),
            facility("Julo", 3, 0, 95),
        ]);
        assert_eq!(
            summary,
            BureauSummary {
                worst_collectability: 3,
                active_facilities: 3,
                active_platforms: 2,
                outstanding_debt: 8_000_000,
                max_days_past_due_12m: 95,
            }
        );
    }

    #[test]
    fn an_empty_file_is_current_with_nothing_owed() {
        let summary = summarize(&[]);
        assert_eq!(summary.worst_collectability, 1);
        assert_eq!(summary.active_platforms, 0);
        assert_eq!(summary.outstanding_debt, 0);
    }
}
