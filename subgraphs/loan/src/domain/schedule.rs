//! The installment schedule: integer rupiah, every installment but the last rounded down to the
//! product's unit, the rounding residue of every component on the last one, so the installments
//! add up to exactly principal + total cost (docs/conventions.md § Loan maths, Fineract/Mambu
//! "round remainder into last repayment").

use chrono::{Months, NaiveDate};

use super::product::{InterestMethod, Product};

const PPM: i64 = 1_000_000;

/// One monthly installment, split by component (allocation pays them in this order: fee,
/// interest, principal — see [`super::repayment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installment {
    /// 1-based.
    pub number: u32,
    pub principal: i64,
    pub interest: i64,
    pub fee: i64,
}

impl Installment {
    pub fn total(&self) -> i64 {
        self.principal + self.interest + self.fee
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub principal: i64,
    pub installments: Vec<Installment>,
}

impl Schedule {
    pub fn total_interest(&self) -> i64 {
        self.installments.iter().map(|i| i.interest).sum()
    }

    pub fn total_fee(&self) -> i64 {
        self.installments.iter().map(|i| i.fee).sum()
    }

    /// "Manfaat ekonomi": everything the borrower pays beyond the principal.
    pub fn total_cost(&self) -> i64 {
        self.total_interest() + self.total_fee()
    }

    pub fn total_repayment(&self) -> i64 {
        self.installments.iter().map(Installment::total).sum()
    }
}

/// The schedule of `principal` over `tenor` months. The caller has checked the amount and tenor
/// against the product ([`super::application::check_terms`]).
pub fn schedule(product: &Product, principal: i64, tenor: u32) -> Schedule {
    let n = i64::from(tenor);
    let rate = product.monthly_rate_ppm;
    let total_fee = principal * product.admin_fee_ppm / PPM;
    let fee_each = total_fee / n;
    let flat_interest_each = principal * rate * n / PPM / n;
    // The level installment (before rounding) and the interest of each period.
    let level = match product.method {
        InterestMethod::Flat => principal / n + flat_interest_each + fee_each,
        InterestMethod::Annuity => annuity_payment(principal, rate, tenor) + fee_each,
    };
    let target = level / product.rounding_unit * product.rounding_unit;

    let mut balance = principal;
    let mut fees_so_far = 0;
    let mut installments = Vec::with_capacity(tenor as usize);
    for number in 1..=tenor {
        let interest = match product.method {
            InterestMethod::Flat if number < tenor => flat_interest_each,
            // The last flat period takes the interest residue.
            InterestMethod::Flat => principal * rate * n / PPM - flat_interest_each * (n - 1),
            InterestMethod::Annuity => balance * rate / PPM,
        };
        let fee = if number < tenor {
            fee_each
        } else {
            total_fee - fees_so_far
        };
        let principal_part = if number < tenor {
            (target - interest - fee).clamp(0, balance)
        } else {
            balance
        };
        balance -= principal_part;
        fees_so_far += fee;
        installments.push(Installment {
            number,
            principal: principal_part,
            interest,
            fee,
        });
    }
    Schedule {
        principal,
        installments,
    }
}

/// EMI `P·r / (1 − (1+r)^−N)` rounded down to the rupiah (the last installment absorbs the
/// difference); `P / N` without interest.
fn annuity_payment(principal: i64, rate_ppm: i64, tenor: u32) -> i64 {
    if rate_ppm == 0 {
        return principal / i64::from(tenor);
    }
    let r = rate_ppm as f64 / PPM as f64;
    let payment = principal as f64 * r / (1.0 - (1.0 + r).powi(-(tenor as i32)));
    payment.floor() as i64
}

/// The business date now, in Western Indonesia Time (UTC+7), where the borrowers are.
pub fn business_today(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(7)).date_naive()
}

/// Due dates: `disbursed_on` plus 1..=N months, each computed from the disbursement date and
/// clamped to the month's end (31 Jan → 28/29 Feb → 31 Mar), never drifting.
pub fn due_dates(disbursed_on: NaiveDate, tenor: u32) -> Vec<NaiveDate> {
    (1..=tenor)
        .map(|i| {
            disbursed_on
                .checked_add_months(Months::new(i))
                .expect("dates within chrono's range")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::product::tests::{cap, product};
    use crate::domain::product::{ABSOLUTE_MAX_AMOUNT, CostCap};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn annuity_matches_the_worked_example() {
        // docs/conventions.md § Loan maths: P = 12 M, N = 12, 4 %/month → EMI 1,278,626 (interest 3,343,513).
        let product = Product {
            admin_fee_ppm: 0,
            ..product()
        };
        let s = schedule(&product, 12_000_000, 12);
        assert_eq!(s.installments[0].total(), 1_278_626);
        assert!(
            (s.total_interest() - 3_343_513).abs() <= 12,
            "{}",
            s.total_interest()
        );
        assert_eq!(s.total_repayment(), 12_000_000 + s.total_cost());
    }

    #[test]
    fn flat_interest_is_on_the_original_principal() {
        let product = Product {
            method: InterestMethod::Flat,
            monthly_rate_ppm: 20_000,
            admin_fee_ppm: 0,
            ..product()
        };
        let s = schedule(&product, 1_000_000, 3);
        assert_eq!(s.total_interest(), 60_000);
        assert_eq!(
            s.installments
                .iter()
                .map(Installment::total)
                .collect::<Vec<_>>(),
            [353_333, 353_333, 353_334]
        );
    }

    #[test]
    fn rounding_residue_lands_on_the_last_installment() {
        let product = Product {
            rounding_unit: 1_000,
            ..product()
        };
        let s = schedule(&product, 5_000_000, 7);
        let (last, rest) = s.installments.split_last().unwrap();
        assert!(rest.iter().all(|i| i.total() % 1_000 == 0));
        assert!(last.total() >= rest[0].total());
        assert_eq!(s.total_repayment(), 5_000_000 + s.total_cost());
    }

    #[test]
    fn due_dates_are_monthly_and_clamped_to_month_end() {
        assert_eq!(
            due_dates(date(2027, 1, 31), 4),
            [
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30),
                date(2027, 5, 31)
            ]
        );
        assert_eq!(due_dates(date(2028, 1, 30), 1), [date(2028, 2, 29)]);
        assert_eq!(due_dates(date(2027, 11, 15), 3)[2], date(2028, 2, 15));
    }

    prop_compose! {
        /// Any product the startup check accepts.
        fn valid_product()(
            annuity in any::<bool>(),
            rate in 0i64..=90_000,
            fee in 0i64..=60_000,
            unit in prop::sample::select(vec![1i64, 10, 100, 500, 1_000]),
            min_amount in 100_000i64..=2_000_000,
            tenors in (1u32..=12, 1u32..=12),
        ) -> Option<Product> {
            let (a, b) = tenors;
            let product = Product {
                min_amount,
                max_amount: ABSOLUTE_MAX_AMOUNT,
                min_tenor_months: a.min(b),
                max_tenor_months: a.max(b),
                method: if annuity { InterestMethod::Annuity } else { InterestMethod::Flat },
                monthly_rate_ppm: rate,
                admin_fee_ppm: fee,
                rounding_unit: unit,
            };
            product.validate(&cap()).is_ok().then_some(product)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn schedules_sum_exactly_are_never_negative_and_respect_the_cap(
            product in valid_product(),
            amount_seed in 0i64..=ABSOLUTE_MAX_AMOUNT,
            tenor_seed in 0u32..12,
        ) {
            let Some(product) = product else { return Ok(()) };
            let amount = product.min_amount + amount_seed % (product.max_amount - product.min_amount + 1);
            let span = product.max_tenor_months - product.min_tenor_months + 1;
            let tenor = product.min_tenor_months + tenor_seed % span;
            let s = schedule(&product, amount, tenor);
            let cap: CostCap = cap();

            prop_assert_eq!(s.installments.len(), tenor as usize);
            prop_assert_eq!(s.installments.iter().map(|i| i.principal).sum::<i64>(), amount);
            prop_assert_eq!(s.total_repayment(), amount + s.total_cost());
            for i in &s.installments {
                prop_assert!(i.principal >= 0 && i.interest >= 0 && i.fee >= 0, "{:?}", i);
                prop_assert!(i.total() > 0, "{:?}", i);
            }
            let (_, rest) = s.installments.split_last().unwrap();
            for i in rest {
                prop_assert_eq!(i.total() % product.rounding_unit, 0);
            }
            prop_assert!(s.total_cost() <= cap.max_cost(amount, tenor),
                "cost {} > cap {}", s.total_cost(), cap.max_cost(amount, tenor));
            prop_assert!(s.total_cost() <= amount, "lock cap");
        }

        #[test]
        fn due_dates_never_skip_or_repeat_a_month(
            days in 0u64..3_000, tenor in 1u32..=12
        ) {
            let start = date(2026, 1, 1) + chrono::Days::new(days);
            let dates = due_dates(start, tenor);
            let mut previous = start;
            for (i, due) in dates.iter().enumerate() {
                prop_assert!(*due > previous);
                let months = (due.year_ce().1 as i64 * 12 + i64::from(due.month0()))
                    - (start.year_ce().1 as i64 * 12 + i64::from(start.month0()));
                prop_assert_eq!(months, i as i64 + 1);
                previous = *due;
            }
        }
    }

    use chrono::Datelike;
}
