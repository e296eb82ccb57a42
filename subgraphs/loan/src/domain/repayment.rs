//! Installments as they are being paid, and how one payment is split over them
//! (docs/conventions.md § Loan maths, repayment allocation).

use chrono::NaiveDate;

use super::refusal::LoanRefusal;

/// One installment with what has been paid on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallmentState {
    pub number: u32,
    pub due_date: NaiveDate,
    pub principal_due: i64,
    pub interest_due: i64,
    pub fee_due: i64,
    pub principal_paid: i64,
    pub interest_paid: i64,
    pub fee_paid: i64,
    pub paid_date: Option<NaiveDate>,
    pub overdue: bool,
}

impl InstallmentState {
    pub fn amount_due(&self) -> i64 {
        self.principal_due + self.interest_due + self.fee_due
    }

    pub fn outstanding(&self) -> i64 {
        self.amount_due() - self.principal_paid - self.interest_paid - self.fee_paid
    }
}

/// What is still owed on a schedule.
pub fn outstanding(installments: &[InstallmentState]) -> i64 {
    installments.iter().map(InstallmentState::outstanding).sum()
}

/// How much of one payment goes to one installment, by component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allocation {
    pub number: u32,
    pub fee: i64,
    pub interest: i64,
    pub principal: i64,
}

impl Allocation {
    pub fn total(&self) -> i64 {
        self.fee + self.interest + self.principal
    }
}

/// Split `amount` over the installments, oldest due first; within one, fee → interest →
/// principal (Fineract's default order, docs/conventions.md § Loan maths). Paying more than is
/// outstanding is refused, not silently kept as credit.
pub fn allocate(
    installments: &[InstallmentState],
    amount: i64,
) -> Result<Vec<Allocation>, LoanRefusal> {
    check_payment(installments, 0, amount)?;
    let mut ordered: Vec<&InstallmentState> = installments.iter().collect();
    ordered.sort_by_key(|i| (i.due_date, i.number));
    let mut left = amount;
    let mut allocations = Vec::new();
    for installment in ordered {
        if left == 0 {
            break;
        }
        let mut take = |due: i64, paid: i64| {
            let part = (due - paid).min(left);
            left -= part;
            part
        };
        let allocation = Allocation {
            number: installment.number,
            fee: take(installment.fee_due, installment.fee_paid),
            interest: take(installment.interest_due, installment.interest_paid),
            principal: take(installment.principal_due, installment.principal_paid),
        };
        if allocation.total() > 0 {
            allocations.push(allocation);
        }
    }
    Ok(allocations)
}

/// Whether `amount` may be collected while `pending` is already being collected by payments
/// still at the provider: together they may not exceed what is owed, or the later one could not
/// be allocated when its money arrives.
pub fn check_payment(
    installments: &[InstallmentState],
    pending: i64,
    amount: i64,
) -> Result<(), LoanRefusal> {
    if amount <= 0 {
        return Err(LoanRefusal::AmountInvalid);
    }
    let available = (outstanding(installments) - pending).max(0);
    if amount > available {
        return Err(LoanRefusal::Overpayment {
            outstanding: available,
            in_progress: pending,
        });
    }
    Ok(())
}

/// The installments after `allocations`, an installment fully paid getting `paid_on`; only the
/// ones that changed.
pub fn apply_allocations(
    installments: &[InstallmentState],
    allocations: &[Allocation],
    paid_on: NaiveDate,
) -> Vec<InstallmentState> {
    allocations
        .iter()
        .filter_map(|allocation| {
            let mut installment = installments
                .iter()
                .find(|i| i.number == allocation.number)?
                .clone();
            installment.fee_paid += allocation.fee;
            installment.interest_paid += allocation.interest;
            installment.principal_paid += allocation.principal;
            if installment.outstanding() == 0 {
                installment.paid_date = Some(paid_on);
            }
            Some(installment)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tenor_platform::refusal::Refusal;

    use super::*;

    fn installment(number: u32, due: (i64, i64, i64)) -> InstallmentState {
        InstallmentState {
            number,
            due_date: NaiveDate::from_ymd_opt(2027, number, 10).unwrap(),
            principal_due: due.0,
            interest_due: due.1,
            fee_due: due.2,
            principal_paid: 0,
            interest_paid: 0,
            fee_paid: 0,
            paid_date: None,
            overdue: false,
        }
    }

    #[test]
    fn allocation_pays_oldest_first_fee_interest_principal() {
        let schedule = [installment(2, (100, 20, 5)), installment(1, (100, 30, 5))];
        let a = allocate(&schedule, 140).unwrap();
        assert_eq!(
            a,
            [
                Allocation {
                    number: 1,
                    fee: 5,
                    interest: 30,
                    principal: 100
                },
                Allocation {
                    number: 2,
                    fee: 5,
                    interest: 0,
                    principal: 0
                },
            ]
        );
        assert_eq!(allocate(&schedule, 261).unwrap_err().code(), "OVERPAYMENT");
        assert_eq!(allocate(&schedule, 0).unwrap_err().code(), "AMOUNT_INVALID");
        assert_eq!(
            allocate(&schedule, 260)
                .unwrap()
                .iter()
                .map(Allocation::total)
                .sum::<i64>(),
            260
        );
    }

    #[test]
    fn payments_still_at_the_provider_count_against_what_is_owed() {
        let schedule = [installment(1, (100, 30, 5))];
        assert_eq!(check_payment(&schedule, 100, 35), Ok(()));
        assert_eq!(
            check_payment(&schedule, 100, 36),
            Err(LoanRefusal::Overpayment {
                outstanding: 35,
                in_progress: 100
            })
        );
        let refusal = check_payment(&schedule, 100, 36).unwrap_err();
        assert_eq!(refusal.code(), "OVERPAYMENT");
        assert!(
            refusal.message().contains("Rp100 is still being processed"),
            "{}",
            refusal.message()
        );
        let nothing_pending = check_payment(&schedule, 0, 136).unwrap_err();
        assert!(
            nothing_pending
                .message()
                .contains("Only Rp135 is outstanding"),
            "{}",
            nothing_pending.message()
        );
    }

    #[test]
    fn applying_an_allocation_marks_fully_paid_installments() {
        let schedule = [installment(1, (100, 30, 5)), installment(2, (100, 20, 5))];
        let paid_on = NaiveDate::from_ymd_opt(2027, 1, 9).unwrap();
        let changed = apply_allocations(&schedule, &allocate(&schedule, 140).unwrap(), paid_on);
        assert_eq!(changed.len(), 2);
        assert_eq!(changed[0].paid_date, Some(paid_on));
        assert_eq!((changed[1].fee_paid, changed[1].paid_date), (5, None));
    }

    proptest! {
        #[test]
        fn allocation_never_exceeds_what_is_due(
            dues in prop::collection::vec((0i64..1_000_000, 0i64..100_000, 0i64..10_000), 1..12),
            fraction in 0.0f64..=1.0,
        ) {
            let schedule: Vec<_> = dues.iter().enumerate()
                .map(|(i, d)| installment(i as u32 + 1, *d)).collect();
            let outstanding: i64 = schedule.iter().map(InstallmentState::outstanding).sum();
            let amount = ((outstanding as f64) * fraction) as i64;
            match allocate(&schedule, amount) {
                Ok(allocations) => {
                    prop_assert_eq!(allocations.iter().map(Allocation::total).sum::<i64>(), amount);
                    for a in &allocations {
                        let i = &schedule[a.number as usize - 1];
                        prop_assert!(a.fee <= i.fee_due && a.interest <= i.interest_due && a.principal <= i.principal_due);
                    }
                }
                Err(refusal) => prop_assert_eq!(refusal.code(), "AMOUNT_INVALID"),
            }
        }
    }
}
