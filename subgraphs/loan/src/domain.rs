//! Loan rules: the status machine, application checks and repayment allocation. Pure; the
//! arithmetic of prices and schedules is in [`crate::product`] and [`crate::schedule`].

use chrono::{DateTime, NaiveDate, Utc};
use tenor_platform::text::TextPolicy;
use uuid::Uuid;

use crate::product::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoanStatus {
    Submitted,
    Approved,
    Rejected,
    Cancelled,
    Active,
    Paid,
}

impl LoanStatus {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
            Self::Active => "ACTIVE",
            Self::Paid => "PAID",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [
            Self::Submitted,
            Self::Approved,
            Self::Rejected,
            Self::Cancelled,
            Self::Active,
            Self::Paid,
        ]
        .into_iter()
        .find(|s| s.as_db() == value)
    }

    /// Open loans block a new application (the partial unique index says the same).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Approved | Self::Active)
    }

    /// The transitions the lifecycle allows; anything else is refused or ignored.
    pub fn can_become(self, next: Self) -> bool {
        use LoanStatus::*;
        matches!(
            (self, next),
            (Submitted, Approved | Rejected | Cancelled) | (Approved, Active) | (Active, Paid)
        )
    }
}

/// A loan as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    pub id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: u32,
    pub purpose: String,
    pub status: LoanStatus,
    pub total_interest: i64,
    pub total_fee: i64,
    pub monthly_installment: i64,
    pub idempotency_key: String,
    pub credit_score: Option<i32>,
    pub reason_codes: Vec<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub payout_reference: Option<String>,
    pub disbursed_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Loan {
    pub fn total_cost(&self) -> i64 {
        self.total_interest + self.total_fee
    }
}

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

/// A rule refused the request: a stable code for the app, the input field, a safe message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub field: Option<&'static str>,
    pub message: String,
}

impl Refusal {
    pub fn new(
        code: &'static str,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field,
            message: message.into(),
        }
    }
}

pub const PURPOSE_MAX_CHARS: usize = 200;
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 100;

/// Amount and tenor against the product, each bound its own code.
pub fn check_terms(product: &Product, amount: i64, tenor: i32) -> Result<u32, Refusal> {
    if amount > product.max_amount {
        return Err(Refusal::new(
            "AMOUNT_TOO_HIGH",
            Some("amount"),
            format!("The most you can borrow is Rp{}", product.max_amount),
        ));
    }
    if amount < product.min_amount {
        return Err(Refusal::new(
            "AMOUNT_TOO_LOW",
            Some("amount"),
            format!("The least you can borrow is Rp{}", product.min_amount),
        ));
    }
    if tenor > product.max_tenor_months as i32 {
        return Err(Refusal::new(
            "TENOR_TOO_LONG",
            Some("tenorMonths"),
            format!("The longest tenor is {} months", product.max_tenor_months),
        ));
    }
    if tenor < product.min_tenor_months as i32 {
        return Err(Refusal::new(
            "TENOR_TOO_SHORT",
            Some("tenorMonths"),
            format!("The shortest tenor is {} months", product.min_tenor_months),
        ));
    }
    Ok(tenor as u32)
}

/// The purpose under the platform text policy (NFC, no control, bidi, invisible or tag
/// characters, whitespace collapsed): 1–200 characters. Every refusal keeps the published code
/// `PURPOSE_INVALID`; the message says which rule.
pub fn normalise_purpose(purpose: &str) -> Result<String, Refusal> {
    TextPolicy::single_line(PURPOSE_MAX_CHARS)
        .clean("purpose", purpose)
        .map_err(|refusal| {
            let message = if refusal.is_invalid_characters() {
                refusal.message()
            } else {
                format!("Describe the purpose in 1 to {PURPOSE_MAX_CHARS} characters")
            };
            Refusal::new("PURPOSE_INVALID", Some("purpose"), message)
        })
}

pub fn check_idempotency_key(key: &str) -> Result<(), Refusal> {
    let ok = !key.is_empty()
        && key.len() <= IDEMPOTENCY_KEY_MAX_CHARS
        && key.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(
            "IDEMPOTENCY_KEY_INVALID",
            Some("idempotencyKey"),
            format!(
                "The idempotency key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters"
            ),
        ))
    }
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
) -> Result<Vec<Allocation>, Refusal> {
    if amount <= 0 {
        return Err(Refusal::new(
            "AMOUNT_INVALID",
            Some("amount"),
            "The payment amount must be positive",
        ));
    }
    let outstanding: i64 = installments.iter().map(InstallmentState::outstanding).sum();
    if amount > outstanding {
        return Err(Refusal::new(
            "OVERPAYMENT",
            Some("amount"),
            format!("Only Rp{outstanding} is outstanding on this loan"),
        ));
    }
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::product::tests::product;

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
    fn each_bound_has_its_own_code() {
        let p = product();
        let code = |amount, tenor| check_terms(&p, amount, tenor).unwrap_err().code;
        assert_eq!(code(12_000_001, 6), "AMOUNT_TOO_HIGH");
        assert_eq!(code(1, 6), "AMOUNT_TOO_LOW");
        assert_eq!(code(1_000_000, 13), "TENOR_TOO_LONG");
        assert_eq!(code(1_000_000, 0), "TENOR_TOO_SHORT");
        assert_eq!(code(1_000_000, -5), "TENOR_TOO_SHORT");
        assert_eq!(check_terms(&p, 12_000_000, 12), Ok(12));
        assert_eq!(check_terms(&p, 500_000, 1), Ok(1));
    }

    #[test]
    fn lifecycle_transitions() {
        use LoanStatus::*;
        assert!(Submitted.can_become(Approved));
        assert!(Submitted.can_become(Cancelled));
        assert!(!Approved.can_become(Rejected));
        assert!(!Rejected.can_become(Approved));
        assert!(!Cancelled.can_become(Approved));
        assert!(Approved.can_become(Active) && Active.can_become(Paid));
        assert!(!Submitted.can_become(Active));
        for s in [Submitted, Approved, Rejected, Cancelled, Active, Paid] {
            assert_eq!(LoanStatus::from_db(s.as_db()), Some(s));
        }
    }

    #[test]
    fn purpose_and_key_rules() {
        assert_eq!(
            normalise_purpose("  modal   usaha ").unwrap(),
            "modal usaha"
        );
        assert_eq!(
            normalise_purpose("   ").unwrap_err().code,
            "PURPOSE_INVALID"
        );
        assert!(check_idempotency_key("abc-123").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("a b").is_err());
        assert!(check_idempotency_key("a\u{0}b").is_err());
        for hostile in [
            "modal\u{0}usaha",
            "\u{202E}modal",
            "modal\u{200B}",
            "\u{301}modal",
        ] {
            assert_eq!(
                normalise_purpose(hostile).unwrap_err().code,
                "PURPOSE_INVALID"
            );
        }
        assert_eq!(
            normalise_purpose(&"x".repeat(PURPOSE_MAX_CHARS + 1))
                .unwrap_err()
                .code,
            "PURPOSE_INVALID"
        );
        assert_eq!(
            normalise_purpose("Renovasi\u{a0}rumah").unwrap(),
            "Renovasi rumah"
        );
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
        assert_eq!(allocate(&schedule, 261).unwrap_err().code, "OVERPAYMENT");
        assert_eq!(allocate(&schedule, 0).unwrap_err().code, "AMOUNT_INVALID");
        assert_eq!(
            allocate(&schedule, 260)
                .unwrap()
                .iter()
                .map(Allocation::total)
                .sum::<i64>(),
            260
        );
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
                Err(refusal) => prop_assert_eq!(refusal.code, "AMOUNT_INVALID"),
            }
        }
    }
}
