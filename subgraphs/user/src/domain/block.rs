//! Staff block an account and lift the block.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::input::normalise_block_reason;
use super::profile::Profile;
use super::refusal::Rejection;
use super::status::AccountStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub reason: String,
    pub at: DateTime<Utc>,
    pub by: Option<Uuid>,
}

impl Profile {
    /// Staff block the account (fraud, a court order, a complaint under review).
    pub fn blocked(
        &self,
        reason: &str,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Profile, Rejection> {
        if by == self.id {
            return Err(Rejection::CannotBlockSelf);
        }
        let reason = normalise_block_reason(reason)?;
        match self.status {
            AccountStatus::Active | AccountStatus::Inactive => {}
            from => {
                return Err(Rejection::InvalidStatusTransition {
                    from,
                    to: AccountStatus::Blocked,
                });
            }
        }
        Ok(Profile {
            status: AccountStatus::Blocked,
            block: Some(Block {
                reason,
                at: now,
                by: Some(by),
            }),
            updated_at: now,
            ..self.clone()
        })
    }

    /// Staff lift a block; the account becomes active again.
    pub fn unblocked(&self, now: DateTime<Utc>) -> Result<Profile, Rejection> {
        if self.status != AccountStatus::Blocked {
            return Err(Rejection::InvalidStatusTransition {
                from: self.status,
                to: AccountStatus::Active,
            });
        }
        Ok(Profile {
            status: AccountStatus::Active,
            block: None,
            updated_at: now,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BLOCK_REASON_MAX_CHARS;
    use crate::domain::profile::fixtures::{now, profile};

    #[test]
    fn status_transitions() {
        let staff = Uuid::new_v4();
        let active = profile();
        let blocked = active.blocked("  fraud review ", staff, now()).unwrap();
        assert_eq!(blocked.status, AccountStatus::Blocked);
        assert_eq!(
            blocked.block,
            Some(Block {
                reason: "fraud review".into(),
                at: now(),
                by: Some(staff)
            })
        );
        assert_eq!(
            blocked.blocked("again", staff, now()).unwrap_err().code(),
            "INVALID_STATUS_TRANSITION"
        );

        let unblocked = blocked.unblocked(now()).unwrap();
        assert_eq!(unblocked.status, AccountStatus::Active);
        assert_eq!(unblocked.block, None);
        assert_eq!(
            unblocked.unblocked(now()),
            Err(Rejection::InvalidStatusTransition {
                from: AccountStatus::Active,
                to: AccountStatus::Active
            })
        );

        let mut inactive = profile();
        inactive.status = AccountStatus::Inactive;
        assert!(inactive.blocked("dormant fraud", staff, now()).is_ok());

        let deleted = active.minimised(0, now()).unwrap();
        assert_eq!(
            deleted
                .blocked("too late", staff, now())
                .unwrap_err()
                .code(),
            "INVALID_STATUS_TRANSITION"
        );
        assert_eq!(blocked.minimised(0, now()), Err(Rejection::AccountBlocked));
    }

    #[test]
    fn block_needs_a_reason_and_another_person() {
        let p = profile();
        let staff = Uuid::new_v4();
        assert_eq!(
            p.blocked("  x ", staff, now()),
            Err(Rejection::BlockReasonInvalid)
        );
        assert_eq!(
            p.blocked(&"x".repeat(BLOCK_REASON_MAX_CHARS + 1), staff, now()),
            Err(Rejection::BlockReasonInvalid)
        );
        assert!(
            p.blocked(&"x".repeat(BLOCK_REASON_MAX_CHARS), staff, now())
                .is_ok()
        );
        assert_eq!(
            p.blocked("fraud review", p.id, now()),
            Err(Rejection::CannotBlockSelf)
        );
    }
}
