//! Every way the loan rules say no, with the stable code the app branches on
//! (docs/conventions.md § API conventions). A refusal changes nothing.

use chrono::NaiveDate;
use tenor_platform::money::rupiah;
use tenor_platform::refusal::Refusal;

use super::LoanStatus;
use super::application::{IDEMPOTENCY_KEY_MAX_CHARS, PURPOSE_MAX_CHARS};
use super::eligibility::AccountState;

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
    /// `limit` applications in the last 24 hours; the next is possible in `hours`.
    ApplicationLimit {
        limit: u32,
        hours: i64,
    },
    NotCancellable,
    /// An APPROVED loan whose payout is already at the provider: the money may be moving, so
    /// the borrower can no longer decline it.
    PayoutUnderWay,
    NotApproved {
        status: LoanStatus,
    },
    /// The principal already went out (a second click, or a retry racing the first): one
    /// payout per loan, and the answer says so rather than that the loan is not APPROVED.
    AlreadyDisbursed {
        on: NaiveDate,
        status: LoanStatus,
    },
    NotActive {
        status: LoanStatus,
    },
    UserNotActive,
    /// Back office: the borrower's account is blocked, deleted or inactive, so no money goes out
    /// to it (a payout already asked of the provider is still finished).
    BorrowerNotActive {
        account: AccountState,
    },
    KycNotVerified,
    AmountInvalid,
    /// More than can be paid now: what is outstanding less what payments still at the provider
    /// will pay (`in_progress`, zero when none is).
    Overpayment {
        outstanding: i64,
        in_progress: i64,
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
            Self::ApplicationLimit { .. } => "APPLICATION_LIMIT",
            Self::NotCancellable | Self::PayoutUnderWay => "LOAN_NOT_CANCELLABLE",
            Self::NotApproved { .. } => "LOAN_NOT_APPROVED",
            Self::AlreadyDisbursed { .. } => "LOAN_ALREADY_DISBURSED",
            Self::NotActive { .. } => "LOAN_NOT_ACTIVE",
            Self::UserNotActive | Self::BorrowerNotActive { .. } => "USER_NOT_ACTIVE",
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
            Self::NotCancellable
            | Self::PayoutUnderWay
            | Self::NotApproved { .. }
            | Self::AlreadyDisbursed { .. }
            | Self::BorrowerNotActive { .. } => Some("id"),
            Self::NotActive { .. } => Some("loanId"),
            Self::LoanAlreadyOpen
            | Self::ApplicationLimit { .. }
            | Self::UserNotActive
            | Self::KycNotVerified
            | Self::PayoutFailed { .. }
            | Self::PayoutPending
            | Self::PaymentDeclined { .. }
            | Self::PaymentPending => None,
        }
    }

    /// In Indonesian, then English (`id / en`), as auth and KYC answer: loan does not know the
    /// reader's language preference, and every borrower reads Indonesian.
    fn message(&self) -> String {
        let (id, en) = match self {
            Self::AmountTooHigh { max } => (
                format!("Pinjaman paling besar {}", rupiah(*max)),
                format!("The most you can borrow is {}", rupiah(*max)),
            ),
            Self::AmountTooLow { min } => (
                format!("Pinjaman paling kecil {}", rupiah(*min)),
                format!("The least you can borrow is {}", rupiah(*min)),
            ),
            Self::TenorTooLong { max } => (
                format!("Tenor paling lama {max} bulan"),
                format!("The longest tenor is {}", months(*max)),
            ),
            Self::TenorTooShort { min } => (
                format!("Tenor paling singkat {min} bulan"),
                format!("The shortest tenor is {}", months(*min)),
            ),
            // The text policy's message is already in both languages.
            Self::PurposeInvalid {
                message: Some(message),
            } => return message.clone(),
            Self::PurposeInvalid { message: None } => (
                format!("Tuliskan tujuan pinjaman dalam 1 sampai {PURPOSE_MAX_CHARS} karakter"),
                format!("Describe the purpose in 1 to {PURPOSE_MAX_CHARS} characters"),
            ),
            Self::IdempotencyKeyInvalid => (
                format!(
                    "Kunci idempotensi harus 1 sampai {IDEMPOTENCY_KEY_MAX_CHARS} karakter ASCII yang terlihat"
                ),
                format!(
                    "The idempotency key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters"
                ),
            ),
            Self::IdempotencyKeyReused { what } => (
                format!(
                    "Kunci idempotensi ini sudah dipakai untuk {} lain",
                    in_indonesian(what)
                ),
                format!("This idempotency key was used for a different {what}"),
            ),
            Self::NotFound { .. } => ("Pinjaman tidak ditemukan".into(), "No such loan".into()),
            Self::LoanAlreadyOpen => (
                "Anda masih punya pinjaman yang berjalan; selesaikan atau batalkan dulu".into(),
                "You already have a loan in progress; finish or cancel it first".into(),
            ),
            Self::ApplicationLimit { limit, hours } => {
                let (id, en) = tenor_platform::quota::wait_in_words(*hours);
                (
                    format!(
                        "Batas pengajuan dalam 24 jam ({limit}) sudah tercapai; coba lagi dalam {id}"
                    ),
                    format!(
                        "The limit of applications in 24 hours ({limit}) is reached; try again in {en}"
                    ),
                )
            }
            Self::NotCancellable => (
                "Hanya pinjaman yang belum dicairkan yang dapat dibatalkan".into(),
                "Only a loan that has not been paid out can be cancelled".into(),
            ),
            Self::PayoutUnderWay => (
                "Dana pinjaman sedang dicairkan; pinjaman tidak dapat dibatalkan lagi".into(),
                "The loan is being paid out; it can no longer be cancelled".into(),
            ),
            Self::NotApproved { status } => (
                format!(
                    "Pinjaman berstatus {status}; hanya pinjaman APPROVED yang dapat dicairkan"
                ),
                format!("The loan is {status}, only an APPROVED loan can be disbursed"),
            ),
            Self::AlreadyDisbursed { on, status } => (
                format!(
                    "Pinjaman sudah dicairkan pada {on} (status {status}); tidak dicairkan lagi"
                ),
                format!(
                    "The loan was already disbursed on {on} (it is {status}); it is not paid out again"
                ),
            ),
            Self::NotActive { status } => (
                format!(
                    "Pinjaman berstatus {status}; hanya pinjaman ACTIVE yang menerima pembayaran"
                ),
                format!("The loan is {status}; only an ACTIVE loan takes payments"),
            ),
            Self::UserNotActive => (
                "Akun Anda tidak aktif".into(),
                "Your account is not active".into(),
            ),
            Self::BorrowerNotActive { account } => (
                format!("Akun peminjam berstatus {account}; dana pinjaman tidak dapat dicairkan"),
                format!("The borrower's account is {account}; the loan cannot be paid out"),
            ),
            Self::KycNotVerified => (
                "Selesaikan verifikasi identitas (KYC) sebelum mengajukan pinjaman".into(),
                "Verify your identity (KYC) before applying".into(),
            ),
            Self::AmountInvalid => (
                "Jumlah pembayaran harus lebih dari nol".into(),
                "The payment amount must be positive".into(),
            ),
            Self::Overpayment {
                outstanding,
                in_progress: 0,
            } => (
                format!("Sisa tagihan pinjaman ini hanya {}", rupiah(*outstanding)),
                format!("Only {} is outstanding on this loan", rupiah(*outstanding)),
            ),
            // A second tap while the first payment is still at the provider: say so, rather than
            // an outstanding amount the borrower's screen does not show yet.
            Self::Overpayment {
                outstanding,
                in_progress,
            } => (
                format!(
                    "Pembayaran sebesar {} masih diproses; setelah itu sisa tagihan {}",
                    rupiah(*in_progress),
                    rupiah(*outstanding)
                ),
                format!(
                    "A payment of {} is still being processed; after it, {} is outstanding",
                    rupiah(*in_progress),
                    rupiah(*outstanding)
                ),
            ),
            // `why` is the provider's own text, passed on as it came.
            Self::PayoutFailed { why } => (
                format!("Pencairan dana tidak berhasil: {why}"),
                format!("The payout did not go through: {why}"),
            ),
            Self::PayoutPending => (
                "Penyedia pencairan dana tidak menjawab; pencairan sedang dicoba lagi".into(),
                "The payout provider did not answer; the payout is being retried".into(),
            ),
            Self::PaymentDeclined { why } => (
                format!("Pembayaran tidak berhasil: {why}"),
                format!("The payment did not go through: {why}"),
            ),
            Self::PaymentPending => (
                "Penyedia pembayaran tidak menjawab; ulangi dengan kunci idempotensi yang sama"
                    .into(),
                "The payment provider did not answer; retry with the same idempotency key".into(),
            ),
        };
        format!("{id} / {en}")
    }
}

fn months(n: u32) -> String {
    if n == 1 {
        "1 month".to_owned()
    } else {
        format!("{n} months")
    }
}

/// What an idempotency key was used for, in Indonesian.
fn in_indonesian(what: &str) -> &str {
    match what {
        "application" => "pengajuan",
        "payment" => "pembayaran",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_month_or_months_and_group_rupiah_in_both_languages() {
        assert_eq!(
            LoanRefusal::TenorTooShort { min: 1 }.message(),
            "Tenor paling singkat 1 bulan / The shortest tenor is 1 month"
        );
        assert_eq!(
            LoanRefusal::TenorTooLong { max: 12 }.message(),
            "Tenor paling lama 12 bulan / The longest tenor is 12 months"
        );
        assert_eq!(
            LoanRefusal::AmountTooLow { min: 500_000 }.message(),
            "Pinjaman paling kecil Rp500.000 / The least you can borrow is Rp500.000"
        );
        assert_eq!(
            LoanRefusal::IdempotencyKeyReused { what: "payment" }.message(),
            "Kunci idempotensi ini sudah dipakai untuk pembayaran lain / This idempotency key was used for a different payment"
        );
    }

    #[test]
    fn a_purpose_refusal_from_the_text_policy_is_not_translated_twice() {
        let policy =
            "tujuan: karakter U+202E tidak diizinkan. / purpose: character U+202E is not allowed.";
        let refusal = LoanRefusal::PurposeInvalid {
            message: Some(policy.to_owned()),
        };
        assert_eq!(refusal.message(), policy);
    }
}
