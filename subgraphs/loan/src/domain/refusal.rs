//! Every way the loan rules say no, with the stable code the app branches on
//! (docs/conventions.md § API conventions). A refusal changes nothing.

use tenor_platform::money::rupiah;
use tenor_platform::refusal::Refusal;

use super::LoanStatus;
use super::application::{IDEMPOTENCY_KEY_MAX_CHARS, PURPOSE_MAX_CHARS};

/// Why a loan request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoanRefusal {
    AmountTooHigh {
        max: i64,
    },
    AmountTooLow {
        min: i64,
    },
    TenorTooLong {
        max: u32,
    },
    TenorTooShort {
        min: u32,
    },
    /// The text policy's own message when the characters are the problem.
    PurposeInvalid {
        message: Option<String>,
    },
    IdempotencyKeyInvalid,
    /// The key was used for a different application or payment.
    IdempotencyKeyReused {
        what: &'static str,
    },
    /// Unknown, or someone else's: the two must look the same. `field` is the id argument.
    NotFound {
        field: &'static str,
    },
    LoanAlreadyOpen,
    NotCancellable,
    NotApproved {
        status: LoanStatus,
    },
    NotActive {
        status: LoanStatus,
    },
    UserNotActive,
    KycNotVerified,
    AmountInvalid,
    Overpayment {
        outstanding: i64,
    },
    /// The payout provider declined.
    PayoutFailed {
        why: String,
    },
    /// The payout provider could not be reached; the payout is retried with the same key.
    PayoutPending,
    /// The payment provider declined.
    PaymentDeclined {
        why: String,
    },
    /// The payment provider could not be reached; the charge is retried with the same key.
    PaymentPending,
}

impl Refusal for LoanRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::AmountTooHigh { .. } => "AMOUNT_TOO_HIGH",
            Self::AmountTooLow { .. } => "AMOUNT_TOO_LOW",
            Self::TenorTooLong { .. } => "TENOR_TOO_LONG",
            Self::TenorTooShort { .. } => "TENOR_TOO_SHORT",
            Self::PurposeInvalid { .. } => "PURPOSE_INVALID",
            Self::IdempotencyKeyInvalid => "IDEMPOTENCY_KEY_INVALID",
            Self::IdempotencyKeyReused { .. } => "IDEMPOTENCY_KEY_REUSED",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::LoanAlreadyOpen => "LOAN_ALREADY_OPEN",
            Self::NotCancellable => "LOAN_NOT_CANCELLABLE",
            Self::NotApproved { .. } => "LOAN_NOT_APPROVED",
            Self::NotActive { .. } => "LOAN_NOT_ACTIVE",
            Self::UserNotActive => "USER_NOT_ACTIVE",
            Self::KycNotVerified => "KYC_NOT_VERIFIED",
            Self::AmountInvalid => "AMOUNT_INVALID",
            Self::Overpayment { .. } => "OVERPAYMENT",
            Self::PayoutFailed { .. } => "PAYOUT_FAILED",
            Self::PayoutPending => "PAYOUT_PENDING",
            Self::PaymentDeclined { .. } => "PAYMENT_DECLINED",
            Self::PaymentPending => "PAYMENT_PENDING",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::AmountTooHigh { .. }
            | Self::AmountTooLow { .. }
            | Self::AmountInvalid
            | Self::Overpayment { .. } => Some("amount"),
            Self::TenorTooLong { .. } | Self::TenorTooShort { .. } => Some("tenorMonths"),
            Self::PurposeInvalid { .. } => Some("purpose"),
            Self::IdempotencyKeyInvalid | Self::IdempotencyKeyReused { .. } => {
                Some("idempotencyKey")
            }
            Self::NotFound { field } => Some(field),
            Self::NotCancellable | Self::NotApproved { .. } => Some("id"),
            Self::NotActive { .. } => Some("loanId"),
            Self::LoanAlreadyOpen
            | Self::UserNotActive
            | Self::KycNotVerified
            | Self::PayoutFailed { .. }
            | Self::PayoutPending
            | Self::PaymentDeclined { .. }
            | Self::PaymentPending => None,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::AmountTooHigh { max } => format!("The most you can borrow is {}", rupiah(*max)),
            Self::AmountTooLow { min } => format!("The least you can borrow is {}", rupiah(*min)),
            Self::TenorTooLong { max } => format!("The longest tenor is {}", months(*max)),
            Self::TenorTooShort { min } => format!("The shortest tenor is {}", months(*min)),
            Self::PurposeInvalid { message } => message.clone().unwrap_or_else(|| {
                format!("Describe the purpose in 1 to {PURPOSE_MAX_CHARS} characters")
            }),
            Self::IdempotencyKeyInvalid => format!(
                "The idempotency key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters"
            ),
            Self::IdempotencyKeyReused { what } => {
                format!("This idempotency key was used for a different {what}")
            }
            Self::NotFound { .. } => "No such loan".to_owned(),
            Self::LoanAlreadyOpen => {
                "You already have a loan in progress; finish or cancel it first".to_owned()
            }
            Self::NotCancellable => {
                "Only an application still waiting for a decision can be cancelled".to_owned()
            }
            Self::NotApproved { status } => {
                format!("The loan is {status}, only an APPROVED loan can be disbursed")
            }
            Self::NotActive { status } => {
                format!("The loan is {status}; only an ACTIVE loan takes payments")
            }
            Self::UserNotActive => "Your account is not active".to_owned(),
            Self::KycNotVerified => "Verify your identity (KYC) before applying".to_owned(),
            Self::AmountInvalid => "The payment amount must be positive".to_owned(),
            Self::Overpayment { outstanding } => {
                format!("Only {} is outstanding on this loan", rupiah(*outstanding))
            }
            Self::PayoutFailed { why } => format!("The payout did not go through: {why}"),
            Self::PayoutPending => {
                "The payout provider did not answer; the payout is being retried".to_owned()
            }
            Self::PaymentDeclined { why } => format!("The payment did not go through: {why}"),
            Self::PaymentPending => {
                "The payment provider did not answer; retry with the same idempotency key"
                    .to_owned()
            }
        }
    }
}

fn months(n: u32) -> String {
    if n == 1 {
        "1 month".to_owned()
    } else {
        format!("{n} months")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_month_or_months_and_group_rupiah() {
        assert_eq!(
            LoanRefusal::TenorTooShort { min: 1 }.message(),
            "The shortest tenor is 1 month"
        );
        assert_eq!(
            LoanRefusal::TenorTooLong { max: 12 }.message(),
            "The longest tenor is 12 months"
        );
        assert_eq!(
            LoanRefusal::AmountTooLow { min: 500_000 }.message(),
            "The least you can borrow is Rp500.000"
        );
    }
}
