//! What an application must satisfy before it is stored: amount and tenor within the product,
//! a clean purpose, a usable idempotency key, no more applications a day than the limit; and
//! when a replayed key is the same request.

use chrono::{DateTime, Utc};
use tenor_platform::quota;
use tenor_platform::text::TextPolicy;

use super::refusal::LoanRefusal;
use super::{Loan, product::Product};

pub const PURPOSE_MAX_CHARS: usize = 200;
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 100;

/// Amount and tenor against the product, each bound its own code.
pub fn check_terms(product: &Product, amount: i64, tenor: i32) -> Result<u32, LoanRefusal> {
    if amount > product.max_amount {
        return Err(LoanRefusal::AmountTooHigh {
            max: product.max_amount,
        });
    }
    if amount < product.min_amount {
        return Err(LoanRefusal::AmountTooLow {
            min: product.min_amount,
        });
    }
    if tenor > product.max_tenor_months as i32 {
        return Err(LoanRefusal::TenorTooLong {
            max: product.max_tenor_months,
        });
    }
    if tenor < product.min_tenor_months as i32 {
        return Err(LoanRefusal::TenorTooShort {
            min: product.min_tenor_months,
        });
    }
    Ok(tenor as u32)
}

/// The purpose under the platform text policy (NFC, no control, bidi, invisible or tag
/// characters, whitespace collapsed): 1–200 characters. Every refusal keeps the published code
/// `PURPOSE_INVALID`; the message says which rule.
pub fn normalise_purpose(purpose: &str) -> Result<String, LoanRefusal> {
    TextPolicy::single_line(PURPOSE_MAX_CHARS)
        .clean("purpose", purpose)
        .map_err(|refusal| LoanRefusal::PurposeInvalid {
            message: refusal.is_invalid_characters().then(|| refusal.message()),
        })
}

pub fn check_idempotency_key(key: &str) -> Result<(), LoanRefusal> {
    let ok = !key.is_empty()
        && key.len() <= IDEMPOTENCY_KEY_MAX_CHARS
        && key.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(LoanRefusal::IdempotencyKeyInvalid)
    }
}

/// At most `limit` applications in any 24 hours, whatever became of them. Each application
/// starts a paid credit-bureau inquiry (which may also show on the borrower's own file), and
/// withdrawing one is free, so without a limit an apply-and-cancel loop would buy inquiries as
/// fast as the router's rate limit allows. `applied` are the times of the borrower's
/// applications in the last [`quota::DAY`], oldest first.
pub fn check_application_limit(
    applied: &[DateTime<Utc>],
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), LoanRefusal> {
    match quota::hours_until_room(applied, limit, quota::DAY, now) {
        None => Ok(()),
        Some(hours) => Err(LoanRefusal::ApplicationLimit { limit, hours }),
    }
}

/// A second request with a used key: the same loan if it asks for the same thing.
pub fn replay(existing: Loan, amount: i64, tenor: u32, purpose: &str) -> Result<Loan, LoanRefusal> {
    if existing.amount == amount && existing.tenor_months == tenor && existing.purpose == purpose {
        Ok(existing)
    } else {
        Err(LoanRefusal::IdempotencyKeyReused {
            what: "application",
        })
    }
}

#[cfg(test)]
mod tests {
    use tenor_platform::refusal::Refusal;

    use super::*;
    use crate::domain::product::tests::product;

    #[test]
    fn each_bound_has_its_own_code() {
        let p = product();
        let code = |amount, tenor| check_terms(&p, amount, tenor).unwrap_err().code();
        assert_eq!(code(12_000_001, 6), "AMOUNT_TOO_HIGH");
        assert_eq!(code(1, 6), "AMOUNT_TOO_LOW");
        assert_eq!(code(1_000_000, 13), "TENOR_TOO_LONG");
        assert_eq!(code(1_000_000, 0), "TENOR_TOO_SHORT");
        assert_eq!(code(1_000_000, -5), "TENOR_TOO_SHORT");
        assert_eq!(check_terms(&p, 12_000_000, 12), Ok(12));
        assert_eq!(check_terms(&p, 500_000, 1), Ok(1));
    }

    #[test]
    fn a_full_day_refuses_with_the_hours_to_wait() {
        let now = Utc::now();
        let ago = |hours| now - chrono::Duration::hours(hours);
        assert_eq!(check_application_limit(&[ago(20), ago(1)], 3, now), Ok(()));
        let refused = check_application_limit(&[ago(10), ago(5), ago(1)], 3, now).unwrap_err();
        assert_eq!(
            refused,
            LoanRefusal::ApplicationLimit {
                limit: 3,
                hours: 14
            }
        );
        let message = refused.message();
        assert!(
            message.contains("14 jam") && message.contains("14 hours"),
            "{message}"
        );
    }

    #[test]
    fn purpose_and_key_rules() {
        assert_eq!(
            normalise_purpose("  modal   usaha ").unwrap(),
            "modal usaha"
        );
        assert_eq!(
            normalise_purpose("   ").unwrap_err().code(),
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
                normalise_purpose(hostile).unwrap_err().code(),
                "PURPOSE_INVALID"
            );
        }
        assert_eq!(
            normalise_purpose(&"x".repeat(PURPOSE_MAX_CHARS + 1))
                .unwrap_err()
                .code(),
            "PURPOSE_INVALID"
        );
        assert_eq!(
            normalise_purpose("Renovasi\u{a0}rumah").unwrap(),
            "Renovasi rumah"
        );
    }
}
