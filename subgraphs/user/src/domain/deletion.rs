//! The owner closes the account.

use chrono::{DateTime, Utc};

use super::preferences::Preferences;
use super::profile::Profile;
use super::refusal::Rejection;
use super::status::AccountStatus;

/// What a deleted account's name becomes (see [`Profile::minimised`]).
pub const DELETED_FULLNAME: &str = "Deleted user";

impl Profile {
    /// The owner closes the account. Soft delete with PII minimised: under UU PDP (Law 27/2022)
    /// personal data is erased once the purpose ends and the owner asks; contact data and the
    /// name go now. The id stays so that loan records held elsewhere (which lending regulation
    /// requires lenders to keep) still point at an account, and so auth and every other context
    /// can act on the `DELETED` event.
    ///
    /// Not while a loan is open (`open_loans`, from loan's events): the law's erasure right
    /// gives way to a legal obligation, and a lender must keep a debtor's records and reach
    /// them about the debt — erasing the contact data would leave an ACTIVE loan's reminders
    /// with nowhere to go and an APPROVED one waiting forever for its payout. The borrower
    /// cancels the application (or declines the approved loan) or repays first.
    pub fn minimised(&self, open_loans: i64, now: DateTime<Utc>) -> Result<Profile, Rejection> {
        match self.status {
            AccountStatus::Active | AccountStatus::Inactive => {}
            // A blocked account may be under fraud investigation: its data must survive until
            // staff lift the block.
            AccountStatus::Blocked => return Err(Rejection::AccountBlocked),
            AccountStatus::Deleted => {
                return Err(Rejection::InvalidStatusTransition {
                    from: AccountStatus::Deleted,
                    to: AccountStatus::Deleted,
                });
            }
        }
        if open_loans > 0 {
            return Err(Rejection::LoansOpen { count: open_loans });
        }
        Ok(Profile {
            email: None,
            phone_number: None,
            fullname: DELETED_FULLNAME.to_owned(),
            status: AccountStatus::Deleted,
            preferences: Preferences {
                // Consent ends with the account; no channel stays usable without contact data,
                // but the column keeps its "at least one" rule, so leave the defaults.
                marketing_consent: false,
                marketing_consent_at: None,
                ..self.preferences.clone()
            },
            deleted_at: Some(now),
            updated_at: now,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile::fixtures::{now, profile};

    #[test]
    fn deletion_minimises_personal_data() {
        let mut p = profile();
        p.phone_number = Some("+6281234567890".into());
        p.preferences.marketing_consent = true;
        p.preferences.marketing_consent_at = Some(now());
        let deleted = p.minimised(0, now()).unwrap();
        assert_eq!(deleted.status, AccountStatus::Deleted);
        assert_eq!(deleted.email, None);
        assert_eq!(deleted.phone_number, None);
        assert_eq!(deleted.fullname, DELETED_FULLNAME);
        assert!(!deleted.preferences.marketing_consent);
        assert_eq!(deleted.deleted_at, Some(now()));
        assert!(!deleted.is_visible());
        assert_eq!(deleted.id, p.id);
    }

    #[test]
    fn an_open_loan_keeps_the_account() {
        let p = profile();
        assert_eq!(
            p.minimised(2, now()),
            Err(Rejection::LoansOpen { count: 2 })
        );
        // A blocked account says so first: unblocking is what the owner has to ask for.
        let blocked = Profile {
            status: AccountStatus::Blocked,
            ..p
        };
        assert_eq!(blocked.minimised(1, now()), Err(Rejection::AccountBlocked));
    }
}
