//! Who may apply: an active account and a verified, unexpired KYC, as projected locally from
//! user and kyc events (no context reads another's database, docs/conventions.md § Contexts).

use chrono::{DateTime, Utc};

use super::refusal::LoanRefusal;

tenor_platform::text_enum! {
    /// A borrower's KYC as last heard from kyc (`loan_kyc_eligibility.status`).
    pub enum KycStatus {
        Submitted = "SUBMITTED",
        Verified = "VERIFIED",
        Rejected = "REJECTED",
        Expired = "EXPIRED",
    }
}

tenor_platform::text_enum! {
    /// A borrower's account as last heard from user (`loan_user_status.status`).
    pub enum AccountState {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Blocked = "BLOCKED",
        Deleted = "DELETED",
    }
}

/// KYC status of a borrower as projected from kyc events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycEligibility {
    pub status: KycStatus,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The account first (no row means never changed since registration, i.e. active), then KYC.
pub fn check_eligibility(
    account: Option<AccountState>,
    kyc: Option<&KycEligibility>,
    now: DateTime<Utc>,
) -> Result<(), LoanRefusal> {
    if account.is_some_and(|state| state != AccountState::Active) {
        return Err(LoanRefusal::UserNotActive);
    }
    let verified = kyc.is_some_and(|kyc| {
        kyc.status == KycStatus::Verified && kyc.expires_at.is_none_or(|at| at > now)
    });
    if verified {
        Ok(())
    } else {
        Err(LoanRefusal::KycNotVerified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_account_with_current_kyc_may_apply() {
        let now = Utc::now();
        let kyc = |status, expires_at| KycEligibility { status, expires_at };
        let current = kyc(KycStatus::Verified, Some(now + chrono::Duration::days(1)));
        assert_eq!(check_eligibility(None, Some(&current), now), Ok(()));
        assert_eq!(
            check_eligibility(Some(AccountState::Blocked), Some(&current), now),
            Err(LoanRefusal::UserNotActive)
        );
        let lapsed = kyc(KycStatus::Verified, Some(now - chrono::Duration::days(1)));
        assert_eq!(
            check_eligibility(None, Some(&lapsed), now),
            Err(LoanRefusal::KycNotVerified)
        );
        assert_eq!(
            check_eligibility(Some(AccountState::Active), None, now),
            Err(LoanRefusal::KycNotVerified)
        );
    }
}
