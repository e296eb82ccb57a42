//! The loan product — price and limits — as configuration, and the startup check that it can
//! never cost a borrower more than the OJK daily cap for its tenor band
//! (docs/conventions.md § Loan maths).
//!
//! Rates are integers in parts per million (ppm) so that every comparison is exact:
//! 4 % a month = 40_000 ppm, 0.2 % a day = 2_000 ppm.

use std::fmt;

use chrono::{Months, NaiveDate};

/// Regulatory ceiling on the principal of one loan in this product line (IDR).
pub const ABSOLUTE_MAX_AMOUNT: i64 = 12_000_000;
/// Tenors are whole months, at most a year.
pub const MAX_TENOR_MONTHS: u32 = 12;
const PPM: i64 = 1_000_000;

tenor_platform::text_enum! {
    /// How interest accrues (also stored on each loan: `loans.interest_method`).
    pub enum InterestMethod {
        /// Interest on the original principal every month (`P × r × N`), equal installments.
        Flat = "FLAT",
        /// Declining balance with equal installments (EMI, `P·r / (1 − (1+r)^−N)`).
        Annuity = "ANNUITY",
    }
}

impl std::str::FromStr for InterestMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "FLAT" => Ok(Self::Flat),
            "ANNUITY" => Ok(Self::Annuity),
            // The value is not repeated: errors never echo configuration values.
            _ => Err("is neither FLAT nor ANNUITY".to_owned()),
        }
    }
}

/// One band of the daily cost cap: applies to tenors of at least `min_tenor_months`
/// (up to the next band).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapBand {
    pub min_tenor_months: u32,
    pub ppm_per_day: i64,
}

/// The OJK "manfaat ekonomi" cap per calendar day on principal, by tenor band. Configuration,
/// never a literal in the rules: the sources conflict and the regulator revises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostCap {
    bands: Vec<CapBand>,
}

impl CostCap {
    /// Bands sorted by tenor; the first must start at 1 month so every tenor has a cap.
    pub fn new(mut bands: Vec<CapBand>) -> Result<Self, String> {
        bands.sort_by_key(|b| b.min_tenor_months);
        match bands.first() {
            Some(first) if first.min_tenor_months <= 1 => {}
            _ => return Err("the first cap band must start at tenor 1".into()),
        }
        if bands.iter().any(|b| b.ppm_per_day <= 0) {
            return Err("cap rates must be positive".into());
        }
        Ok(Self { bands })
    }

    /// `"1:3000,6:2000"`: tenor ≥ 1 month 0.3 %/day, tenor ≥ 6 months 0.2 %/day.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bands =
            text.split(',')
                .enumerate()
                .map(|(i, band)| {
                    let (tenor, rate) = band.trim().split_once(':').ok_or_else(|| {
                        format!("band {} is not <min tenor>:<ppm per day>", i + 1)
                    })?;
                    // Positions, not the text: errors never echo configuration values.
                    Ok(CapBand {
                        min_tenor_months: tenor
                            .trim()
                            .parse()
                            .map_err(|e| format!("band {}: tenor: {e}", i + 1))?,
                        ppm_per_day: rate
                            .trim()
                            .parse()
                            .map_err(|e| format!("band {}: ppm per day: {e}", i + 1))?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
        Self::new(bands)
    }

    pub fn ppm_per_day(&self, tenor_months: u32) -> i64 {
        self.bands
            .iter()
            .rev()
            .find(|b| b.min_tenor_months <= tenor_months)
            .map_or(self.bands[0].ppm_per_day, |b| b.ppm_per_day)
    }

    /// The most a loan of `principal` over `tenor_months` may cost in total: the daily cap
    /// over the *shortest* calendar span that many months can have (February makes a month
    /// 28 days), since the due dates depend on the disbursement date.
    pub fn max_cost(&self, principal: i64, tenor_months: u32) -> i64 {
        let days = shortest_span_days(tenor_months);
        principal * self.ppm_per_day(tenor_months) * days / PPM
    }
}

/// The fewest calendar days `months` monthly periods (month-end clamped) can span, over every
/// possible start date. Four years cover every leap-year position.
pub fn shortest_span_days(months: u32) -> i64 {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    (0..4 * 366)
        .map(|offset| start + chrono::Days::new(offset))
        .map(|from| {
            let to = from
                .checked_add_months(Months::new(months))
                .expect("in range");
            (to - from).num_days()
        })
        .min()
        .expect("non-empty")
}

/// A loan product: what may be borrowed and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub min_amount: i64,
    pub max_amount: i64,
    pub min_tenor_months: u32,
    pub max_tenor_months: u32,
    pub method: InterestMethod,
    /// Interest per month on the principal (flat) or the balance (annuity).
    pub monthly_rate_ppm: i64,
    /// One-off admin/platform fee on the principal, spread over the installments.
    pub admin_fee_ppm: i64,
    /// Every installment but the last is rounded down to a multiple of this (1 = whole rupiah).
    pub rounding_unit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductError(pub String);

impl fmt::Display for ProductError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loan product refused: {}", self.0)
    }
}

impl std::error::Error for ProductError {}

impl Product {
    /// Refuse a product that is malformed or could exceed the cost cap for any tenor it offers.
    ///
    /// Why the check is exact rather than sampled: interest and fees are rounded down, and an
    /// annuity's interest is charged on a balance that never exceeds the principal, so a loan's
    /// cost is at most `P × (N × rate + fee)`. If that bound is within `P × cap × days` for
    /// every tenor, no amount can exceed the cap.
    pub fn validate(&self, cap: &CostCap) -> Result<(), ProductError> {
        let refuse = |why: String| Err(ProductError(why));
        if self.min_amount < 1 || self.min_amount > self.max_amount {
            return refuse(format!(
                "amount bounds {}..{} are not a range",
                self.min_amount, self.max_amount
            ));
        }
        if self.max_amount > ABSOLUTE_MAX_AMOUNT {
            return refuse(format!(
                "max amount {} is above the {ABSOLUTE_MAX_AMOUNT} IDR limit",
                self.max_amount
            ));
        }
        if self.min_tenor_months < 1
            || self.min_tenor_months > self.max_tenor_months
            || self.max_tenor_months > MAX_TENOR_MONTHS
        {
            return refuse(format!(
                "tenor bounds {}..{} are outside 1..{MAX_TENOR_MONTHS}",
                self.min_tenor_months, self.max_tenor_months
            ));
        }
        if self.monthly_rate_ppm < 0 || self.admin_fee_ppm < 0 {
            return refuse("rates and fees cannot be negative".into());
        }
        if self.rounding_unit < 1 || self.rounding_unit > 1_000 {
            return refuse(format!(
                "rounding unit {} is outside 1..1000",
                self.rounding_unit
            ));
        }
        for tenor in self.min_tenor_months..=self.max_tenor_months {
            let bound = self.cost_bound_ppm(tenor);
            let days = shortest_span_days(tenor);
            let allowed = cap.ppm_per_day(tenor) * days;
            if bound > allowed {
                return refuse(format!(
                    "tenor {tenor}: cost up to {bound} ppm of principal exceeds the cap of \
                     {allowed} ppm ({} ppm/day over {days} days)",
                    cap.ppm_per_day(tenor)
                ));
            }
            // Lock cap: total cost never above 100 % of principal.
            if bound > PPM {
                return refuse(format!("tenor {tenor}: cost above 100 % of principal"));
            }
        }
        Ok(())
    }

    /// Upper bound of the total cost of a `tenor`-month loan as ppm of principal.
    fn cost_bound_ppm(&self, tenor: u32) -> i64 {
        self.monthly_rate_ppm * i64::from(tenor) + self.admin_fee_ppm
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn cap() -> CostCap {
        CostCap::parse("1:3000,6:2000").unwrap()
    }

    pub fn product() -> Product {
        Product {
            min_amount: 500_000,
            max_amount: ABSOLUTE_MAX_AMOUNT,
            min_tenor_months: 1,
            max_tenor_months: 12,
            method: InterestMethod::Annuity,
            monthly_rate_ppm: 40_000,
            admin_fee_ppm: 10_000,
            rounding_unit: 1,
        }
    }

    #[test]
    fn shortest_spans_account_for_february() {
        assert_eq!(shortest_span_days(1), 28);
        assert_eq!(shortest_span_days(12), 365);
        // Sep 1 → Mar 1 in a common year.
        assert_eq!(shortest_span_days(6), 181);
    }

    #[test]
    fn cap_bands_pick_by_tenor() {
        let cap = cap();
        assert_eq!(cap.ppm_per_day(1), 3000);
        assert_eq!(cap.ppm_per_day(5), 3000);
        assert_eq!(cap.ppm_per_day(6), 2000);
        assert_eq!(cap.ppm_per_day(12), 2000);
        // 12 M over 365 days at 0.2 %/day (docs/conventions.md § Loan maths, cost cap example).
        assert_eq!(cap.max_cost(12_000_000, 12), 8_760_000);
        assert!(CostCap::parse("6:2000").is_err());
        assert!(CostCap::parse("1:x").is_err());
    }

    #[test]
    fn the_default_product_is_accepted() {
        product().validate(&cap()).unwrap();
    }

    #[test]
    fn a_product_that_could_exceed_the_cap_is_refused() {
        // 10 %/month: one month costs 10 % > 0.3 %/day × 28 days = 8.4 %.
        let greedy = Product {
            monthly_rate_ppm: 100_000,
            admin_fee_ppm: 0,
            ..product()
        };
        let error = greedy.validate(&cap()).unwrap_err();
        assert!(error.0.contains("tenor 1"), "{error}");
        // Just within the one-month cap (84_000 ppm) is fine when the fee is zero…
        let edge = Product {
            monthly_rate_ppm: 60_000,
            admin_fee_ppm: 24_000,
            max_tenor_months: 1,
            ..product()
        };
        edge.validate(&cap()).unwrap();
        // …and one ppm more is not.
        let over = Product {
            admin_fee_ppm: 24_001,
            ..edge
        };
        assert!(over.validate(&cap()).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let too_big = Product {
            max_amount: ABSOLUTE_MAX_AMOUNT + 1,
            ..product()
        };
        assert!(too_big.validate(&cap()).is_err());
        let too_long = Product {
            max_tenor_months: 13,
            ..product()
        };
        assert!(too_long.validate(&cap()).is_err());
        let zero = Product {
            min_tenor_months: 0,
            ..product()
        };
        assert!(zero.validate(&cap()).is_err());
    }
}
